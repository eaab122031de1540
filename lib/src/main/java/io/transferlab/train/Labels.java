package io.transferlab.train;

import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/** Checks that labels fit a model's output and loss before any engine sees them, with a message that says the fix. */
final class Labels {
    private Labels() {
    }

    /**
     * Throws an IllegalArgumentException when the labels y of a batch x cannot be the targets of the model's output
     * under this loss: another number of columns than the model has outputs, or another number of rows than x.
     */
    static void check(Functional model, Loss loss, INDArray x, INDArray y, String where) {
        long outputs = model.outputShape().rank() == 1 ? model.outputShape().get(0) : -1;
        if (y.rank() != 2) {
            throw new IllegalArgumentException(where + ": labels of shape " + Arrays.toString(y.shape()) + " for model '"
                    + model.name() + "': give one row per example, (batch, " + outputs + ")");
        }
        if (y.size(0) != x.size(0)) {
            throw new IllegalArgumentException(where + ": " + x.size(0) + " examples but " + y.size(0) + " labels");
        }
        long cols = y.size(1);
        if (outputs < 0 || cols == outputs) {
            return;
        }
        String head = where + ": labels have " + cols + " column" + (cols == 1 ? "" : "s") + " but model '" + model.name()
                + "' has " + outputs + " output" + (outputs == 1 ? "" : "s") + " (" + loss.kerasName() + ")";
        if (outputs == 1) {
            throw new IllegalArgumentException(head + ". For a one-unit sigmoid output give binary labels, one column "
                    + "of 0 and 1 (ClassMode.BINARY); for " + cols + " one-hot columns end the model in Dense(" + cols
                    + ", \"softmax\") with categorical_crossentropy.");
        }
        if (cols == 1) {
            throw new IllegalArgumentException(head + ". For a softmax over " + outputs + " classes give one-hot labels "
                    + "(ClassMode.CATEGORICAL)" + (outputs == 2 ? "; or, for two classes with binary labels, end the model "
                    + "in Dense(1, \"sigmoid\") with binary_crossentropy." : "."));
        }
        throw new IllegalArgumentException(head + ": the data has " + cols + " classes, the model " + outputs
                + ". Make the last Dense layer Dense(" + cols + ", ...), or check the class folders.");
    }
}
