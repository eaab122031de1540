package io.transferlab.train;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * Keras's evaluate() result, with more: loss, accuracy, predictions, true labels, the confusion matrix and
 * per-class precision and recall.
 */
public final class Evaluation {
    private final double loss;
    private final INDArray predictions;
    private final int[] truth;
    private final int[] predicted;
    private final int classes;
    private final List<java.nio.file.Path> files;

    Evaluation(double loss, INDArray predictions, int[] truth, int[] predicted, int classes, List<java.nio.file.Path> files) {
        this.loss = loss;
        this.predictions = predictions;
        this.truth = truth;
        this.predicted = predicted;
        this.classes = classes;
        this.files = files;
    }

    public double loss() {
        return loss;
    }

    public double accuracy() {
        int right = 0;
        for (int i = 0; i < truth.length; i++) {
            right += truth[i] == predicted[i] ? 1 : 0;
        }
        return truth.length == 0 ? Double.NaN : (double) right / truth.length;
    }

    /** Model outputs, one row per example. */
    public INDArray predictions() {
        return predictions;
    }

    public int[] trueClasses() {
        return truth.clone();
    }

    public int[] predictedClasses() {
        return predicted.clone();
    }

    /** Files of the examples, when the data came from an image folder (else empty). */
    public List<java.nio.file.Path> files() {
        return files;
    }

    public int size() {
        return truth.length;
    }

    /** counts[true][predicted]. */
    public long[][] confusionMatrix() {
        long[][] m = new long[classes][classes];
        for (int i = 0; i < truth.length; i++) {
            m[truth[i]][predicted[i]]++;
        }
        return m;
    }

    /** Of the examples predicted as class c, the fraction that are c. */
    public double precision(int c) {
        long tp = 0, p = 0;
        for (int i = 0; i < truth.length; i++) {
            if (predicted[i] == c) {
                p++;
                tp += truth[i] == c ? 1 : 0;
            }
        }
        return p == 0 ? Double.NaN : (double) tp / p;
    }

    /** Of the examples of class c, the fraction predicted as c. */
    public double recall(int c) {
        long tp = 0, n = 0;
        for (int i = 0; i < truth.length; i++) {
            if (truth[i] == c) {
                n++;
                tp += predicted[i] == c ? 1 : 0;
            }
        }
        return n == 0 ? Double.NaN : (double) tp / n;
    }

    /** Indices of the wrongly classified examples. */
    public int[] misclassified() {
        return java.util.stream.IntStream.range(0, truth.length).filter(i -> truth[i] != predicted[i]).toArray();
    }

    /** Keras's printed [loss, accuracy]. */
    @Override
    public String toString() {
        return String.format("[%.4f, %.4f]  (loss, accuracy over %d examples)", loss, accuracy(), truth.length);
    }
}
