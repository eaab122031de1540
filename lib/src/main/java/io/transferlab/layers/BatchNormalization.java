package io.transferlab.layers;

import java.util.ArrayList;
import java.util.List;

/**
 * Keras's BatchNormalization over the last axis (the channels of a channels-last image, or the features of a flat
 * input). At inference: {@code y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta}; in training
 * the batch's own mean and (biased) variance are used and the moving statistics follow
 * {@code moving = momentum * moving + (1 - momentum) * batch}.
 *
 * <p>Weights, in Keras's order: gamma (if {@link #scale}), beta (if {@link #center}), moving_mean,
 * moving_variance; the last two are never trainable, so they count as non-trainable in summaries. Keras defaults:
 * epsilon 1e-3, momentum 0.99, scale and center true.
 *
 * <p>A frozen BatchNormalization ({@code trainable = false}, or inside a frozen model) runs in inference mode with
 * its moving statistics, as in Keras 2.x.
 */
public class BatchNormalization extends Layer {
    private double epsilon = 1e-3;
    private double momentum = 0.99;
    private boolean scale = true;
    private boolean center = true;

    public BatchNormalization(String name) {
        super(name);
    }

    /** Keras's epsilon, added to the variance (default 1e-3; note DL4J's own default is 1e-5). */
    public BatchNormalization epsilon(double value) {
        if (!(value > 0)) {
            throw new IllegalArgumentException("BatchNormalization epsilon must be positive, got " + value);
        }
        this.epsilon = value;
        return this;
    }

    /** Keras's momentum of the moving statistics (default 0.99). */
    public BatchNormalization momentum(double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException("BatchNormalization momentum must be in [0, 1], got " + value);
        }
        this.momentum = value;
        return this;
    }

    /** Keras's scale: multiply by gamma (default true). With false there is no gamma weight. */
    public BatchNormalization scale(boolean value) {
        requireUnbuilt("scale");
        this.scale = value;
        return this;
    }

    /** Keras's center: add beta (default true). With false there is no beta weight. */
    public BatchNormalization center(boolean value) {
        requireUnbuilt("center");
        this.center = value;
        return this;
    }

    public double epsilon() {
        return epsilon;
    }

    public double momentum() {
        return momentum;
    }

    public boolean scale() {
        return scale;
    }

    public boolean center() {
        return center;
    }

    private void requireUnbuilt(String setting) {
        if (isBuilt()) {
            throw new IllegalStateException("BatchNormalization '" + name() + "': set " + setting
                    + " before calling the layer on an input (it changes the weights)");
        }
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 1 && s.rank() != 3) {
            throw new IllegalArgumentException("BatchNormalization '" + name() + "' takes an image (height, width, "
                    + "channels) or a flat input (features), got " + s);
        }
        if (s.get(-1) == Shape.NONE) {
            throw new IllegalArgumentException("BatchNormalization '" + name() + "' needs a known size of the last axis, got " + s);
        }
        return s;
    }

    @Override
    protected List<WeightSpec> buildWeights(List<Shape> in) {
        long c = in.get(0).get(-1);
        List<WeightSpec> w = new ArrayList<>();
        if (scale) {
            w.add(new WeightSpec("gamma", new long[]{c}, true));
        }
        if (center) {
            w.add(new WeightSpec("beta", new long[]{c}, true));
        }
        w.add(new WeightSpec("moving_mean", new long[]{c}, false));
        w.add(new WeightSpec("moving_variance", new long[]{c}, false));
        return w;
    }
}
