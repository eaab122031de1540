package io.transferlab.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;

/**
 * Keras's Normalization over the last axis: {@code y = (x - mean) / max(sqrt(variance), 1e-7)} per channel (or
 * feature).
 *
 * <p>As in Keras, there are two kinds. {@code Normalization()} holds mean, variance and count as non-trainable
 * weights (shapes (channels), (channels), ()), set by loading a weights file such as EfficientNet's (Keras's
 * {@code adapt} result); a new one starts at mean 0, variance 1. {@code Normalization(mean, variance)} has them as
 * fixed constants and no weights, so it adds no parameters to the summary, again as in Keras.
 */
public class Normalization extends Layer {
    /** Keras's backend epsilon: the smallest standard deviation divided by. */
    public static final double EPSILON = 1e-7;
    private final double[] mean;
    private final double[] variance;

    /** With mean, variance and count as weights; or, with both arrays given, with fixed constants. */
    public Normalization(double[] mean, double[] variance, String name) {
        super(name);
        if ((mean == null) != (variance == null)) {
            throw new IllegalArgumentException("Normalization '" + name + "': give both mean and variance, or neither");
        }
        if (mean != null) {
            if (mean.length != variance.length && mean.length != 1 && variance.length != 1) {
                throw new IllegalArgumentException("Normalization: mean has " + mean.length + " values, variance "
                        + variance.length + " (they must match, or one be a single value)");
            }
            for (double v : variance) {
                if (!(v >= 0)) {
                    throw new IllegalArgumentException("Normalization: a variance must be >= 0, got " + v);
                }
            }
        }
        this.mean = mean == null ? null : mean.clone();
        this.variance = variance == null ? null : variance.clone();
    }

    /** Whether mean and variance are fixed constants (given when the layer was made) rather than weights. */
    public boolean hasConstants() {
        return mean != null;
    }

    /** The fixed means given to the constructor (a copy), or null when they are weights (adapted or loaded). */
    public double[] mean() {
        return mean == null ? null : mean.clone();
    }

    /** The fixed variances given to the constructor (a copy), or null when they are weights. */
    public double[] variance() {
        return variance == null ? null : variance.clone();
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        long c = s.get(-1);
        if (c == Shape.NONE) {
            throw new IllegalArgumentException("Normalization '" + name() + "' needs a known size of the last axis, got " + s);
        }
        if (mean != null && Math.max(mean.length, variance.length) != 1 && Math.max(mean.length, variance.length) != c) {
            throw new IllegalArgumentException("Normalization '" + name() + "' has " + Math.max(mean.length, variance.length)
                    + " means and variances for an input with " + c + " channels " + s);
        }
        return s;
    }

    @Override
    protected List<WeightSpec> buildWeights(List<Shape> in) {
        if (mean != null) {
            return List.of();
        }
        long c = in.get(0).get(-1);
        return List.of(new WeightSpec("mean", new long[]{c}, false), new WeightSpec("variance", new long[]{c}, false),
                new WeightSpec("count", new long[]{}, false));
    }

    /**
     * Per channel: the factor and the shift of {@code y = x * scale + shift} that this layer computes on an input with
     * this many channels (the size of its last axis).
     */
    public double[][] scaleAndShift(long c) {
        double[] m = new double[(int) c];
        double[] v = new double[(int) c];
        if (mean != null) {
            for (int i = 0; i < c; i++) {
                m[i] = mean[mean.length == 1 ? 0 : i];
                v[i] = variance[variance.length == 1 ? 0 : i];
            }
        } else {
            List<INDArray> w = getWeights();
            for (int i = 0; i < c; i++) {
                m[i] = w.get(0).getDouble(i);
                v[i] = w.get(1).getDouble(i);
            }
        }
        double[] scale = new double[(int) c];
        double[] shift = new double[(int) c];
        for (int i = 0; i < c; i++) {
            double std = Math.max(Math.sqrt(v[i]), EPSILON);
            scale[i] = 1 / std;
            shift[i] = -m[i] / std;
        }
        return new double[][]{scale, shift};
    }

    @Override
    public String toString() {
        return super.toString() + (mean == null ? "" : " mean=" + Arrays.toString(mean) + " variance=" + Arrays.toString(variance));
    }
}
