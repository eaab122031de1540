package io.transferlab.layers;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** One call of a layer on input tensors, producing one output tensor. Created by {@link Layer#on}. */
public final class Node {
    private static final AtomicLong COUNTER = new AtomicLong();

    private final long id = COUNTER.incrementAndGet();
    private final Layer layer;
    private final List<Tensor> inputs;
    private final Tensor output;

    Node(Layer layer, List<Tensor> inputs, Shape outputShape) {
        this.layer = layer;
        this.inputs = List.copyOf(inputs);
        this.output = new Tensor(this, outputShape);
    }

    /** Creation order; a node is always created after the nodes of its inputs, so this is a topological order. */
    public long id() {
        return id;
    }

    public Layer layer() {
        return layer;
    }

    public List<Tensor> inputs() {
        return inputs;
    }

    public Tensor output() {
        return output;
    }

    /** This node's index among its layer's calls, as Keras writes it in "Connected to": name[index][0]. */
    public int indexInLayer() {
        return layer.nodes().indexOf(this);
    }
}
