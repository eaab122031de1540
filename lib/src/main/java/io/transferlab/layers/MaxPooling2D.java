package io.transferlab.layers;


import java.util.List;

/** Keras's MaxPooling2D; strides default to the pool size. */
public class MaxPooling2D extends Layer {
    private final int poolH;
    private final int poolW;
    private int strideH;
    private int strideW;
    private Padding padding = Padding.VALID;
    public MaxPooling2D(int poolH, int poolW, String name) {
        super(name);
        this.poolH = poolH;
        this.poolW = poolW;
        this.strideH = poolH;
        this.strideW = poolW;
    }

    public MaxPooling2D strides(int h, int w) {
        this.strideH = h;
        this.strideW = w;
        return this;
    }

    public MaxPooling2D padding(String mode) {
        this.padding = Padding.parse(mode);
        return this;
    }

    /** Kernel size, strides and padding, as Keras defines them. */
    public Window window() {
        return new Window(poolH, poolW, strideH, strideW, padding);
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 3) {
            throw new IllegalArgumentException(typeName() + " '" + name() + "' needs an image input, got " + s);
        }
        return Shape.of(padding.outputSize(s.get(0), poolH, strideH), padding.outputSize(s.get(1), poolW, strideW), s.get(2));
    }
}
