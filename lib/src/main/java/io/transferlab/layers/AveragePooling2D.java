package io.transferlab.layers;


import java.util.List;

/**
 * Keras's AveragePooling2D on a channels-last image; strides default to the pool size. With "same" padding, a
 * window that overlaps the border averages only the values inside the image (padding is not counted in the
 * divisor), as in Keras / TensorFlow.
 */
public class AveragePooling2D extends Layer {
    private final int poolH;
    private final int poolW;
    private int strideH;
    private int strideW;
    private Padding padding = Padding.VALID;

    public AveragePooling2D(int poolH, int poolW, String name) {
        super(name);
        if (poolH <= 0 || poolW <= 0) {
            throw new IllegalArgumentException("AveragePooling2D needs a positive pool size, got (" + poolH + ", " + poolW + ")");
        }
        this.poolH = poolH;
        this.poolW = poolW;
        this.strideH = poolH;
        this.strideW = poolW;
    }

    public AveragePooling2D strides(int h, int w) {
        if (h <= 0 || w <= 0) {
            throw new IllegalArgumentException("AveragePooling2D strides must be positive, got (" + h + ", " + w + ")");
        }
        this.strideH = h;
        this.strideW = w;
        return this;
    }

    /** "valid" (Keras's default) or "same". */
    public AveragePooling2D padding(String mode) {
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
            throw new IllegalArgumentException("AveragePooling2D '" + name() + "' needs an image input, got " + s);
        }
        return Shape.of(padding.outputSize(s.get(0), poolH, strideH), padding.outputSize(s.get(1), poolW, strideW), s.get(2));
    }
}
