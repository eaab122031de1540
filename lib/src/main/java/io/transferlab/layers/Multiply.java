package io.transferlab.layers;

import java.util.List;

/**
 * Keras's Multiply: the element-wise product of two or more inputs. As Keras's merge layers do, inputs of the same
 * rank broadcast where a dimension is 1: EfficientNet's squeeze-and-excitation multiplies a feature map (h, w, c) by
 * per-channel weights (1, 1, c), and the result has the feature map's shape. Dimensions that are neither equal nor 1
 * are an error that names the layer and the shapes.
 */
public class Multiply extends Layer {
    public Multiply(String name) {
        super(name);
    }

    @Override
    protected void checkInputCount(int n) {
        if (n < 2) {
            throw new IllegalArgumentException("Multiply '" + name() + "' needs at least 2 inputs, got " + n);
        }
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        int rank = in.get(0).rank();
        long[] out = new long[rank];
        java.util.Arrays.fill(out, 1);
        for (Shape s : in) {
            if (s.rank() != rank) {
                throw new IllegalArgumentException("Multiply '" + name() + "' needs inputs of the same rank, got " + in);
            }
            for (int d = 0; d < rank; d++) {
                long v = s.get(d);
                if (v == 1) {
                    continue;
                }
                if (out[d] == 1 || out[d] == Shape.NONE) {
                    out[d] = v;
                } else if (v != Shape.NONE && v != out[d]) {
                    throw new IllegalArgumentException("Multiply '" + name() + "': inputs " + in
                            + " do not broadcast (axis " + (d + 1) + " is " + out[d] + " and " + v + "; each must be equal or 1)");
                }
            }
        }
        return Shape.of(out);
    }
}
