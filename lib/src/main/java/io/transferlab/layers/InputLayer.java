package io.transferlab.layers;

import java.util.List;

/** The entry point of a model: holds the input shape (batch excluded). Made by {@link Layers#Input}. */
public final class InputLayer extends Layer {
    private final Shape shape;
    private final Tensor output;

    InputLayer(Shape shape, String name) {
        super(name != null ? name : Names.numbered("input"));
        this.shape = shape;
        this.output = createSourceNode(shape);
    }

    /** The tensor this input layer provides. */
    public Tensor output() {
        return output;
    }

    @Override
    public Shape computeOutputShape(List<Shape> inputShapes) {
        return shape;
    }

    @Override
    public Tensor on(Tensor... inputs) {
        throw new UnsupportedOperationException("An InputLayer is not called on tensors; use its output()");
    }
}
