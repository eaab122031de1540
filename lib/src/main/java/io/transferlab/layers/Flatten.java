package io.transferlab.layers;


import java.util.List;

/**
 * Keras's Flatten: (h, w, c) becomes h*w*c values in channels-last order, the same order as Keras, so that
 * dense weights trained in Keras on top of a flattened feature map port unchanged.
 */
public class Flatten extends Layer {
    public Flatten(String name) {
        super(name);
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (!s.isFullyKnown()) {
            throw new IllegalArgumentException("Flatten '" + name() + "' needs a fully known input shape, got " + s
                    + ". Give the base model an input shape, e.g. inputShape(150, 150, 3).");
        }
        return Shape.of(s.size());
    }
}
