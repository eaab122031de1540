package io.transferlab.layers;


import java.util.List;

/** Global pooling over height and width of a channels-last image; output (channels). */
abstract class GlobalPooling2D extends Layer {
    private final boolean max;

    GlobalPooling2D(boolean max, String name) {
        super(name);
        this.max = max;
    }

    /** True for global max pooling, false for global average pooling. */
    public boolean isMax() {
        return max;
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 3) {
            throw new IllegalArgumentException(typeName() + " '" + name() + "' needs an image input (height, width, channels), got " + s);
        }
        return Shape.of(s.get(2));
    }
}
