package io.transferlab.layers;


import java.util.List;

/**
 * Keras's ReLU layer: {@code f(x) = max_value} for {@code x >= max_value}, {@code x} for
 * {@code threshold <= x < max_value}, and {@code negative_slope * (x - threshold)} otherwise. {@code ReLU(6.0)} is
 * the relu6 of MobileNet. A null max value means no upper bound (Keras's None).
 */
public class ReLU extends Layer {
    private final Double maxValue;
    private double negativeSlope;
    private double threshold;

    public ReLU(Double maxValue, String name) {
        super(name);
        if (maxValue != null && !(maxValue >= 0)) {
            throw new IllegalArgumentException("ReLU max_value must be >= 0 or None, got " + maxValue);
        }
        this.maxValue = maxValue;
    }

    /** Keras's negative_slope (default 0). */
    public ReLU negativeSlope(double value) {
        if (!(value >= 0)) {
            throw new IllegalArgumentException("ReLU negative_slope must be >= 0, got " + value);
        }
        this.negativeSlope = value;
        return this;
    }

    /** Keras's threshold (default 0). */
    public ReLU threshold(double value) {
        this.threshold = value;
        return this;
    }

    /** The upper bound, or null for none. */
    public Double maxValue() {
        return maxValue;
    }

    public double negativeSlope() {
        return negativeSlope;
    }

    public double threshold() {
        return threshold;
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        return in.get(0);
    }
}
