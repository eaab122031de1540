package io.transferlab.layers;

import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;

import java.util.List;

/** Global pooling over height and width of a channels-last image; output (channels). */
abstract class GlobalPooling2D extends Layer {
    private final PoolingType type;

    GlobalPooling2D(PoolingType type, String name) {
        super(name);
        this.type = type;
    }

    /** True for global max pooling, false for global average pooling. */
    public boolean isMax() {
        return type == PoolingType.MAX;
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 3) {
            throw new IllegalArgumentException(typeName() + " '" + name() + "' needs an image input (height, width, channels), got " + s);
        }
        return Shape.of(s.get(2));
    }

    @Override
    public Object toDl4j(List<Shape> in) {
        // pools axes 1 and 2 of (batch, h, w, c); DL4J also infers these from the NHWC input type
        return new GlobalPoolingLayer.Builder(type).poolingDimensions(1, 2).collapseDimensions(true).build();
    }
}
