package io.transferlab.layers;


import java.util.List;

/** Keras's Add: the element-wise sum of two or more inputs of the same shape. */
public class Add extends Layer {
    public Add(String name) {
        super(name);
    }

    @Override
    protected void checkInputCount(int n) {
        if (n < 2) {
            throw new IllegalArgumentException("Add '" + name() + "' needs at least 2 inputs, got " + n);
        }
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        for (Shape s : in) {
            if (!s.equals(in.get(0))) {
                throw new IllegalArgumentException("Add '" + name() + "' needs inputs of the same shape, got " + in);
            }
        }
        return in.get(0);
    }
}
