package io.transferlab.layers;


import java.util.Arrays;
import java.util.List;

/**
 * Keras's Dropout: during training, each value is set to zero with probability {@code rate} (and the rest scaled
 * up); at inference it does nothing. Note that DL4J's own dropOut(p) takes the probability to KEEP a value; this
 * layer takes Keras's rate and converts it.
 *
 * <p>Keras's {@code noise_shape} ({@link #noiseShape(long...)}) shares one keep-or-drop decision along the axes where
 * it is 1: {@code noise_shape=(None, 1, 1, 1)} drops a whole example's values at once (EfficientNet's drop-connect,
 * a per-example stochastic depth on the residual branch). Its first entry is the batch axis, as in Keras;
 * {@link Shape#NONE} (Keras's None) means "the size of that axis of the input".
 */
public class Dropout extends Layer {
    private final double rate;
    private long[] noiseShape;

    public Dropout(double rate, String name) {
        super(name);
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("Dropout rate must be in [0, 1), got " + rate
                    + " (Keras's rate is the fraction of values dropped)");
        }
        this.rate = rate;
    }

    public double rate() {
        return rate;
    }

    /**
     * Keras's noise_shape, batch axis first: each entry is 1 (one decision shared along that axis), the input's size
     * there, or {@link Shape#NONE} (the input's size). Only before the layer is wired into a model.
     */
    public Dropout noiseShape(long... shape) {
        if (!nodes().isEmpty()) {
            throw new IllegalStateException("Dropout '" + name() + "' is already wired into a model; set noise_shape before");
        }
        for (long d : shape) {
            if (d != Shape.NONE && d <= 0) {
                throw new IllegalArgumentException("Dropout noise_shape entries must be positive or None (Shape.NONE), got "
                        + Arrays.toString(shape));
            }
        }
        this.noiseShape = shape.clone();
        return this;
    }

    /** Keras's noise_shape (batch axis first), or null when every value is dropped on its own. */
    public long[] noiseShape() {
        return noiseShape == null ? null : noiseShape.clone();
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (noiseShape != null) {
            if (noiseShape.length != s.rank() + 1) {
                throw new IllegalArgumentException("Dropout '" + name() + "': noise_shape " + Arrays.toString(noiseShape)
                        + " has " + noiseShape.length + " entries, the input " + s + " has rank " + (s.rank() + 1)
                        + " (batch included)");
            }
            for (int d = 1; d < noiseShape.length; d++) {
                long n = noiseShape[d];
                if (n != 1 && n != Shape.NONE && s.get(d - 1) != Shape.NONE && n != s.get(d - 1)) {
                    throw new IllegalArgumentException("Dropout '" + name() + "': noise_shape " + Arrays.toString(noiseShape)
                            + " does not fit the input " + s + " (each entry must be 1, None or the input's size)");
                }
            }
        }
        return s;
    }
}
