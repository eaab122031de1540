package io.transferlab.layers;

import java.util.List;

/**
 * Keras's Rescaling(scale, offset): {@code y = x * scale + offset}, elementwise; no weights. {@code Rescaling(1/255.)}
 * turns 0-255 pixels into 0-1, {@code Rescaling(1/127.5, -1)} into [-1, 1] (the "tf" preprocessing), inside the
 * model, so that it takes raw pixels.
 */
public class Rescaling extends Layer {
    private final double scale;
    private final double offset;

    public Rescaling(double scale, double offset, String name) {
        super(name);
        if (!Double.isFinite(scale) || !Double.isFinite(offset)) {
            throw new IllegalArgumentException("Rescaling needs a finite scale and offset, got scale=" + scale
                    + ", offset=" + offset);
        }
        this.scale = scale;
        this.offset = offset;
    }

    public double scale() {
        return scale;
    }

    public double offset() {
        return offset;
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        return in.get(0);
    }
}
