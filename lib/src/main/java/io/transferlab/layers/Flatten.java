package io.transferlab.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;

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

    @Override
    public Object toDl4j(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 3) {
            return null;
        }
        return new PreprocessorVertex(new CnnToFeedForwardPreProcessor(s.get(0), s.get(1), s.get(2), CNN2DFormat.NHWC));
    }
}
