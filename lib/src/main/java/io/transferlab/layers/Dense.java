package io.transferlab.layers;

import java.util.List;

/** Keras's Dense on a flat input: kernel (in, units) and bias (units). */
public class Dense extends Layer {
    private final int units;
    private String activation = "linear";
    private boolean useBias = true;

    public Dense(int units, String activation, String name) {
        super(name);
        if (units <= 0) {
            throw new IllegalArgumentException("Dense needs a positive number of units, got " + units);
        }
        this.units = units;
        this.activation = Activations.check(activation);
    }

    public int units() {
        return units;
    }

    public String activation() {
        return activation;
    }

    public Dense useBias(boolean value) {
        this.useBias = value;
        return this;
    }

    /** Keras's use_bias. */
    public boolean hasBias() {
        return useBias;
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 1) {
            throw new IllegalArgumentException("Dense '" + name() + "' needs a flat input, got " + s
                    + ": put a Flatten() or GlobalAveragePooling2D() before it");
        }
        return Shape.of(units);
    }

    @Override
    protected List<WeightSpec> buildWeights(List<Shape> in) {
        long n = in.get(0).get(0);
        return useBias
                ? List.of(new WeightSpec("kernel", new long[]{n, units}, true), new WeightSpec("bias", new long[]{units}, true))
                : List.of(new WeightSpec("kernel", new long[]{n, units}, true));
    }
}
