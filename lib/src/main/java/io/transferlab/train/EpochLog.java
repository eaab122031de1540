package io.transferlab.train;

/** One epoch's figures, as Keras's History holds them; validation values are NaN without validation data. */
public record EpochLog(int epoch, double loss, double accuracy, double valLoss, double valAccuracy, double seconds) {
    /** A value by Keras's key: loss, accuracy, val_loss, val_accuracy. */
    public double get(String key) {
        return switch (key) {
            case "loss" -> loss;
            case "accuracy", "acc" -> accuracy;
            case "val_loss" -> valLoss;
            case "val_accuracy", "val_acc" -> valAccuracy;
            default -> throw new IllegalArgumentException("Unknown metric '" + key
                    + "'; known: loss, accuracy, val_loss, val_accuracy");
        };
    }

    /** Keras-like progress line. */
    public String line(int epochs, int steps) {
        String s = String.format("Epoch %d/%d - %d steps - %.0fs - loss: %.4f - accuracy: %.4f", epoch, epochs, steps,
                seconds, loss, accuracy);
        if (!Double.isNaN(valLoss)) {
            s += String.format(" - val_loss: %.4f - val_accuracy: %.4f", valLoss, valAccuracy);
        }
        return s;
    }
}
