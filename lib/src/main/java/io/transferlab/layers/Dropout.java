package io.transferlab.layers;


import java.util.List;

/**
 * Keras's Dropout: during training, each value is set to zero with probability {@code rate} (and the rest scaled
 * up); at inference it does nothing. Note that DL4J's own dropOut(p) takes the probability to KEEP a value; this
 * layer takes Keras's rate and converts it.
 */
public class Dropout extends Layer {
    private final double rate;

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

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        return in.get(0);
    }
}
