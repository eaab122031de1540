package io.transferlab.losses;

import io.transferlab.runtime.FloatArrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Keras's losses by name, with Keras's arithmetic for reporting (probabilities clipped to [1e-7, 1 - 1e-7]). */
public enum Loss {
    BINARY_CROSSENTROPY("binary_crossentropy"),
    CATEGORICAL_CROSSENTROPY("categorical_crossentropy");

    private static final double EPS = 1e-7;
    private final String kerasName;

    Loss(String kerasName) {
        this.kerasName = kerasName;
    }

    public static Loss named(String name) {
        for (Loss l : values()) {
            if (l.kerasName.equals(name)) {
                return l;
            }
        }
        throw new IllegalArgumentException("Unknown loss '" + name + "'; known: binary_crossentropy, categorical_crossentropy");
    }

    public String kerasName() {
        return kerasName;
    }

    /** Sum over the batch of the per-example loss (divide by the count for the mean). */
    public double sum(INDArray predictions, INDArray labels) {
        double total = 0;
        long n = predictions.size(0);
        long k = predictions.size(1);
        float[] p = FloatArrays.copyOf(predictions);
        float[] y = FloatArrays.copyOf(labels);
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) {
                double q = Math.min(1 - EPS, Math.max(EPS, p[(int) (i * k + j)]));
                double t = y[(int) (i * k + j)];
                s += this == BINARY_CROSSENTROPY ? -(t * Math.log(q) + (1 - t) * Math.log(1 - q)) : -t * Math.log(q);
            }
            total += this == BINARY_CROSSENTROPY ? s / k : s;
        }
        return total;
    }

    /** Number of correct predictions: threshold 0.5 for binary, arg max for categorical (Keras's "accuracy"). */
    public static long correct(INDArray predictions, INDArray labels) {
        long n = predictions.size(0);
        long k = predictions.size(1);
        long right = 0;
        if (k == 1) {
            for (int i = 0; i < n; i++) {
                boolean pred = predictions.getDouble(i, 0) > 0.5;
                boolean truth = labels.getDouble(i, 0) > 0.5;
                right += pred == truth ? 1 : 0;
            }
            return right;
        }
        INDArray pa = predictions.argMax(1);
        INDArray ya = labels.argMax(1);
        for (int i = 0; i < n; i++) {
            right += pa.getLong(i) == ya.getLong(i) ? 1 : 0;
        }
        return right;
    }
}
