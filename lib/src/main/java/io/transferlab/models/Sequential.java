package io.transferlab.models;

import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Layers;
import io.transferlab.layers.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Keras's Sequential: a stack of layers, each fed by the one before. A model added as the first layer (a
 * pretrained base) stays one layer of the stack, so the summary shows it as one row, {@code vgg16 (Functional)}.
 * As in Keras, {@link #layers()} does not list the input layer.
 */
public class Sequential extends Model {
    private final List<Layer> stack = new ArrayList<>();
    private Tensor start;
    private Tensor end;

    private Sequential(String name) {
        super(name, null, null);
    }

    /** A stack whose first layer is a model (its input shape is the stack's). */
    public static Sequential of(Layer... layers) {
        Sequential s = new Sequential(null);
        for (Layer l : layers) {
            s.add(l);
        }
        return s;
    }

    /** An empty stack taking inputs of this shape (Keras's Input(shape) as first element). */
    public static Sequential withInput(long... shape) {
        Sequential s = new Sequential(null);
        s.start = Layers.Input(shape);
        s.end = s.start;
        return s;
    }

    /** Keras's model.add(layer). */
    public Sequential add(Layer layer) {
        if (layer instanceof InputLayer) {
            throw new IllegalArgumentException("Give the input shape with Sequential.withInput(...)");
        }
        if (start == null) {
            if (!(layer instanceof Model m)) {
                throw new IllegalArgumentException("The first layer of Sequential.of(...) must be a model (such as a "
                        + "pretrained base); for other layers start with Sequential.withInput(shape)");
            }
            start = Layers.Input(m.inputShape().dims());
            end = start;
        }
        end = layer.on(end);
        stack.add(layer);
        setGraph(start, end);
        return this;
    }

    @Override
    public List<Layer> layers() {
        return stack == null ? List.of() : List.copyOf(stack);
    }

    @Override
    public String typeName() {
        return "Sequential";
    }

    @Override
    public boolean isStack() {
        return true;
    }

    @Override
    protected String defaultNamePrefix() {
        return "sequential";
    }
}
