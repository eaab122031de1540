package io.transferlab.layers;

/**
 * A symbolic output of a layer, as Keras's KerasTensor: it holds no data, only where it comes from and its
 * shape. Layers are wired together by calling {@link Layer#on(Tensor...)} on tensors.
 */
public final class Tensor {
    private final Node node;
    private final Shape shape;

    Tensor(Node node, Shape shape) {
        this.node = node;
        this.shape = shape;
    }

    /** The layer call that produced this tensor. */
    public Node node() {
        return node;
    }

    /** The layer that produced this tensor. */
    public Layer layer() {
        return node.layer();
    }

    public Shape shape() {
        return shape;
    }

    @Override
    public String toString() {
        return "Tensor(shape=" + shape + ", from " + node.layer().name() + ")";
    }
}
