package io.transferlab.layers;


import java.util.List;

/**
 * Keras's Concatenate along the last axis (Keras's default axis=-1: the channels of channels-last images, the
 * features of flat inputs). Takes two or more inputs whose shapes agree except on the last axis.
 */
public class Concatenate extends Layer {
    public Concatenate(String name) {
        super(name);
    }

    @Override
    protected void checkInputCount(int n) {
        if (n < 2) {
            throw new IllegalArgumentException("Concatenate '" + name() + "' needs at least 2 inputs, got " + n);
        }
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape first = in.get(0);
        long last = 0;
        for (Shape s : in) {
            if (s.rank() != first.rank()) {
                throw new IllegalArgumentException("Concatenate '" + name() + "' needs inputs of the same rank, got " + in);
            }
            for (int d = 0; d < s.rank() - 1; d++) {
                if (s.get(d) != first.get(d)) {
                    throw new IllegalArgumentException("Concatenate '" + name() + "' along the last axis needs inputs "
                            + "with equal other dimensions, got " + in);
                }
            }
            if (s.get(-1) == Shape.NONE) {
                throw new IllegalArgumentException("Concatenate '" + name() + "' needs known sizes on the last axis, got " + in);
            }
            last += s.get(-1);
        }
        long[] dims = first.dims();
        dims[dims.length - 1] = last;
        return Shape.of(dims);
    }
}
