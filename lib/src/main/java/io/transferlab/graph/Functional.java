package io.transferlab.graph;

import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Layers;
import io.transferlab.layers.Node;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.layers.WeightSpec;
import io.transferlab.runtime.Display;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keras's functional model structure (Keras's Functional): a graph of layer calls from input tensors to an output tensor. A model is itself a
 * layer: it can be called on a tensor or put in a {@link Sequential}, where summaries show it as one row
 * ({@code vgg16 (Functional)}).
 *
 * <p>Layers keep Keras's names and {@code trainable} flags; {@link #layers()} lists them in Keras's order, the
 * input layer first. This class is the structure that engines read (layers, calls, trainable flags, weights); the
 * Keras face with compile, fit, evaluate and predict is Model (in the models package), which extends it.
 */
public class Functional extends Layer {
    private Tensor input;
    private Tensor output;
    private List<Node> graphNodes = List.of();
    private List<Layer> layers = List.of();

    protected Functional(String name, Tensor input, Tensor output) {
        super(name);
        if (input != null) {
            setGraph(input, output);
        }
    }

    /** Sets (or resets) the graph this model runs. */
    protected final void setGraph(Tensor newInput, Tensor newOutput) {
        if (!(newInput.layer() instanceof InputLayer)) {
            throw new IllegalArgumentException("A model's input must come from Input(...) or another model's input(), got "
                    + newInput);
        }
        List<Node> found = collectNodes(newInput, newOutput);
        this.input = newInput;
        this.output = newOutput;
        this.graphNodes = found;
        this.layers = kerasOrder(newOutput, found);
    }

    /**
     * The layers in the order Keras's model.layers lists them: by depth from the output, deepest (the input) first;
     * layers at the same depth in the order a depth-first walk from the output, inputs in order, first reaches them.
     * For a chain that is the order of the calls; for branches (a residual block, an Inception module) it is
     * Keras's, so that layers[i] and freezing by index mean what they mean in Keras.
     */
    private static List<Layer> kerasOrder(Tensor out, List<Node> nodes) {
        Set<Node> inGraph = new HashSet<>(nodes);
        Map<Layer, Integer> firstSeen = new HashMap<>();
        List<Node> postOrder = new ArrayList<>();
        walk(out.node(), inGraph, new HashSet<>(), firstSeen, postOrder);
        Map<Node, Integer> nodeDepth = new HashMap<>();
        Map<Layer, Integer> layerDepth = new HashMap<>();
        for (int i = postOrder.size() - 1; i >= 0; i--) {
            Node n = postOrder.get(i);
            int depth = Math.max(nodeDepth.getOrDefault(n, 0), layerDepth.getOrDefault(n.layer(), 0));
            layerDepth.put(n.layer(), depth);
            nodeDepth.put(n, depth);
            for (Tensor t : n.inputs()) {
                nodeDepth.merge(t.node(), depth + 1, Math::max);
            }
        }
        List<Layer> ordered = new ArrayList<>(layerDepth.keySet());
        ordered.sort(Comparator.comparingInt((Layer l) -> -layerDepth.get(l)).thenComparingInt(firstSeen::get));
        return List.copyOf(ordered);
    }

    /** Keras's depth-first walk from the output: a layer's index when first reached, nodes in post-order. */
    private static void walk(Node n, Set<Node> inGraph, Set<Node> done, Map<Layer, Integer> firstSeen, List<Node> postOrder) {
        Deque<Object[]> stack = new ArrayDeque<>(); // iterative: deep networks (ResNet152) would overflow recursion
        stack.push(new Object[]{n, 0});
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Node node = (Node) top[0];
            int next = (Integer) top[1];
            if (next == 0) {
                if (done.contains(node)) {
                    stack.pop();
                    continue;
                }
                firstSeen.putIfAbsent(node.layer(), firstSeen.size());
            }
            List<Tensor> inputs = inGraph.contains(node) ? node.inputs() : List.of();
            if (next < inputs.size()) {
                top[1] = next + 1;
                Node child = inputs.get(next).node();
                if (!done.contains(child)) {
                    stack.push(new Object[]{child, 0});
                }
            } else {
                stack.pop();
                if (done.add(node)) {
                    postOrder.add(node);
                }
            }
        }
    }

    private static List<Node> collectNodes(Tensor in, Tensor out) {
        Set<Node> seen = new HashSet<>();
        Deque<Node> todo = new ArrayDeque<>();
        todo.add(out.node());
        boolean reachedInput = false;
        while (!todo.isEmpty()) {
            Node n = todo.pop();
            if (!seen.add(n)) {
                continue;
            }
            if (n == in.node()) {
                reachedInput = true;
                continue;
            }
            if (n.inputs().isEmpty()) {
                throw new IllegalArgumentException("The output depends on input layer '" + n.layer().name()
                        + "', which is not this model's input '" + in.layer().name() + "'");
            }
            for (Tensor t : n.inputs()) {
                todo.push(t.node());
            }
        }
        if (!reachedInput) {
            throw new IllegalArgumentException("The output " + out + " is not computed from the input " + in);
        }
        List<Node> nodes = new ArrayList<>(seen);
        nodes.sort(Comparator.comparingLong(Node::id));
        return nodes;
    }

    @Override
    public String typeName() {
        return "Functional";
    }

    /** Whether this model is a plain stack in which each layer feeds the next (Keras's Sequential). */
    public boolean isStack() {
        return false;
    }

    @Override
    protected String defaultNamePrefix() {
        return "model";
    }

    /** The model's input tensor (Keras's model.input). */
    public Tensor input() {
        return input;
    }

    /** The model's output tensor (Keras's model.output), to build on in the functional style. */
    /** The layer that produces the model's output, looked for inside nested models (a Sequential head's last layer). */
    public Layer outputLayer() {
        Tensor t = output();
        while (t.layer() instanceof Functional inner) {
            t = inner.output();
        }
        return t.layer();
    }

    /**
     * The activation the model's output ends with ("softmax", "sigmoid", "linear", ...): that of its last Dense or
     * Activation layer; null when the last layer is of another kind.
     */
    public String outputActivation() {
        Layer last = outputLayer();
        return last instanceof io.transferlab.layers.Dense d ? d.activation()
                : last instanceof io.transferlab.layers.Activation a ? a.activation() : null;
    }

    public Tensor output() {
        return output;
    }

    /**
     * The part of this model from its input up to the named layer, as a new model sharing the same layers (and so
     * the same weights and trainable flags): Keras's Model(base.input, base.get_layer(name).output).
     */
    public Functional upTo(String layerName) {
        Layer l = getLayer(layerName);
        return part(name() + "_to_" + layerName, input, l.output());
    }

    /**
     * The part of this model after the named layer, as a new model whose input is that layer's output: the same
     * layers, called again, so weights are shared both ways. Train it on features extracted up to the layer, and
     * this whole model has learnt too. Fails when a branch bypasses the layer.
     */
    public Functional after(String layerName) {
        Layer cut = getLayer(layerName);
        Tensor cutTensor = cut.output();
        Tensor start = Layers.Input(cutTensor.shape().dims());
        Map<Tensor, Tensor> mapped = new HashMap<>();
        mapped.put(cutTensor, start);
        for (Node n : graphNodes) {
            if (n.inputs().isEmpty() || mapped.containsKey(n.output())) {
                continue;
            }
            long have = n.inputs().stream().filter(mapped::containsKey).count();
            if (have == 0) {
                continue;
            }
            if (have < n.inputs().size()) {
                throw new IllegalArgumentException("Layer '" + n.layer().name() + "' also takes inputs from before '"
                        + layerName + "': model '" + name() + "' cannot be split there");
            }
            mapped.put(n.output(), n.layer().on(n.inputs().stream().map(mapped::get).toArray(Tensor[]::new)));
        }
        Tensor end = mapped.get(output);
        if (end == null) {
            throw new IllegalArgumentException("The output of model '" + name() + "' does not depend on layer '"
                    + layerName + "'");
        }
        return part(name() + "_after_" + layerName, start, end);
    }

    /** A model over part of this one's graph (for {@link #upTo} and {@link #after}); subclasses return their kind. */
    protected Functional part(String partName, Tensor partInput, Tensor partOutput) {
        return new Functional(partName, partInput, partOutput);
    }

    /** Input shape without batch, e.g. (150, 150, 3). */
    public Shape inputShape() {
        return input.shape();
    }

    @Override
    public Shape outputShape() {
        return output.shape();
    }

    /** Layers in Keras's order (model.layers); the input layer is first. */
    public List<Layer> layers() {
        return layers;
    }

    /** The layer calls of this model, in execution order. */
    public List<Node> graphNodes() {
        return graphNodes;
    }

    public List<String> layerNames() {
        return layers().stream().map(Layer::name).toList();
    }

    /** Keras's dict((layer.name, layer) for layer in model.layers). */
    public Map<String, Layer> layerDict() {
        Map<String, Layer> m = new LinkedHashMap<>();
        for (Layer l : layers()) {
            m.put(l.name(), l);
        }
        return Collections.unmodifiableMap(m);
    }

    /** Keras's model.get_layer(name); an unknown name fails with the nearest existing names. */
    public Layer getLayer(String layerName) {
        for (Layer l : layers()) {
            if (l.name().equals(layerName)) {
                return l;
            }
        }
        throw new LayerNotFoundException(this, layerName);
    }

    /** Keras's model.layers[index]. */
    public Layer getLayer(int index) {
        checkIndex(index, "getLayer(" + index + ")");
        return layers().get(index);
    }

    /** Position of a layer in {@link #layers()}. */
    public int indexOf(String layerName) {
        return layers().indexOf(getLayer(layerName));
    }

    private void checkIndex(int index, String what) {
        int n = layers().size();
        if (index < 0 || index >= n) {
            throw new IndexOutOfBoundsException(what + ": model '" + name() + "' has " + n + " layers (indices 0.."
                    + (n - 1) + ")");
        }
    }

    // ---- freezing (Keras's trainable flags) ----

    /** Keras's model.trainable = value: sets the flag on the model and every layer in it. */
    @Override
    public Functional setTrainable(boolean value) {
        super.setTrainable(value);
        for (Layer l : layers()) {
            l.setTrainable(value);
        }
        return this;
    }

    /** Freezes every layer (model.trainable = False). */
    public Functional freeze() {
        return setTrainable(false);
    }

    /** Makes every layer trainable again (model.trainable = True). */
    public Functional unfreeze() {
        return setTrainable(true);
    }

    /**
     * Sets trainable on layers[from:to] (Python slice: from inclusive, to exclusive), as
     * {@code for layer in model.layers[from:to]: layer.trainable = value}.
     */
    public Functional setTrainable(int from, int to, boolean value) {
        int n = layers().size();
        if (from < 0 || to > n || from > to) {
            throw new IndexOutOfBoundsException("layers[" + from + ":" + to + "]: model '" + name() + "' has " + n
                    + " layers, so a range must lie within 0.." + n + " (from <= to)");
        }
        for (Layer l : layers().subList(from, to)) {
            l.setTrainable(value);
        }
        return this;
    }

    /** Freezes layers[from:to] (from inclusive, to exclusive). */
    public Functional freeze(int from, int to) {
        return setTrainable(from, to, false);
    }

    /** Freezes every layer up to and including the named one; the rest keep their flags. */
    public Functional freezeUpTo(String layerName) {
        return setTrainable(0, indexOf(layerName) + 1, false);
    }

    /** Makes the named layer and every layer after it trainable (the usual fine-tuning step). */
    public Functional unfreezeFrom(String layerName) {
        return setTrainable(indexOf(layerName), layers().size(), true);
    }

    // ---- parameter counts, as Keras counts them ----

    @Override
    public List<WeightSpec> weightSpecs() {
        List<WeightSpec> all = new ArrayList<>();
        for (Layer l : layers()) {
            all.addAll(l.weightSpecs());
        }
        return all;
    }

    @Override
    public long countParams() {
        return layers().stream().mapToLong(Layer::countParams).sum();
    }

    @Override
    public long trainableParams() {
        return isTrainable() ? layers().stream().mapToLong(Layer::trainableParams).sum() : 0;
    }

    @Override
    public long nonTrainableParams() {
        return countParams() - trainableParams();
    }

    // ---- as a layer inside another model ----

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape want = input.shape();
        Shape got = in.get(0);
        boolean ok = want.rank() == got.rank();
        for (int i = 0; ok && i < want.rank(); i++) {
            ok = want.get(i) == Shape.NONE || want.get(i) == got.get(i);
        }
        if (!ok) {
            throw new IllegalArgumentException("Model '" + name() + "' expects input " + want + ", got " + got);
        }
        return output.shape();
    }

    // ---- shapes for a concrete input ----

    /**
     * The output shape (batch excluded) for an input of this concrete shape, worked out layer by layer: for a
     * size-agnostic model (input (None, None, 3)) the sizes of every intermediate result.
     *
     * @throws IllegalArgumentException when the input is too small for some layer, naming the layer and the
     *                                  smallest square input size that works
     */
    public Shape outputShapeFor(Shape concreteInput) {
        String problem = propagate(concreteInput);
        if (problem == null) {
            return shapesFor(concreteInput).get(output);
        }
        String smallest = "";
        if (concreteInput.rank() == 3) {
            for (long s = 1; s <= 2048; s++) {
                if (propagate(Shape.of(s, s, concreteInput.get(2))) == null) {
                    smallest = "; the smallest size that works is " + s + "x" + s;
                    break;
                }
            }
        }
        throw new IllegalArgumentException("Model '" + name() + "' cannot take an input of " + concreteInput + ": "
                + problem + smallest);
    }

    /** Null when every layer can take what flows into it from this input, else which layer cannot. */
    private String propagate(Shape concreteInput) {
        try {
            shapesFor(concreteInput);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private Map<Tensor, Shape> shapesFor(Shape concreteInput) {
        Map<Tensor, Shape> shapes = new HashMap<>();
        shapes.put(input, concreteInput);
        for (Node n : graphNodes) {
            if (n.inputs().isEmpty()) {
                continue;
            }
            List<Shape> in = n.inputs().stream().map(shapes::get).toList();
            Shape out;
            if (n.layer() instanceof Functional inner) {
                out = inner.outputShapeFor(in.get(0));
            } else {
                out = n.layer().computeOutputShape(in);
            }
            for (long d : out.dims()) {
                if (d == 0 || d < Shape.NONE) {
                    throw new IllegalArgumentException("layer '" + n.layer().name() + "' (" + n.layer().typeName()
                            + ") would turn " + in.get(0) + " into " + out);
                }
            }
            shapes.put(n.output(), out);
        }
        return shapes;
    }

    // ---- what engines read ----

    /** A layer of the running graph (nested models expanded) with its effective trainable flag. */
    public record Leaf(Layer layer, boolean trainable) {
    }

    /**
     * Every layer that computes something (nested models expanded, input layers left out), once each, in graph
     * order, with its effective trainable flag (false when it or a model around it is frozen).
     */
    public List<Leaf> leaves() {
        List<Leaf> out = new ArrayList<>();
        collectLeaves(this, true, out, new HashSet<>());
        return out;
    }

    private static void collectLeaves(Functional model, boolean parentTrainable, List<Leaf> out, Set<Layer> seen) {
        boolean trainable = parentTrainable && model.isTrainable();
        for (Node node : model.graphNodes()) {
            Layer l = node.layer();
            if (!seen.add(l)) {
                continue;
            }
            if (l instanceof Functional inner) {
                collectLeaves(inner, trainable, out, seen);
            } else if (!(l instanceof InputLayer)) {
                out.add(new Leaf(l, trainable && l.isTrainable()));
            }
        }
    }

    /**
     * A number that changes whenever any layer's weights were set (loaded, trained and written back, or set through
     * another model sharing the layer). Creating a layer's initial values on first use is not a change: they are
     * the same whenever they are created. Engines key what they derive from the weights (compiled plans, networks) by it.
     */
    public long weightsDigest() {
        long acc = 17;
        for (Leaf leaf : leaves()) {
            acc = acc * 31 + leaf.layer().weightsVersion();
        }
        return acc;
    }

    /**
     * What a compiled form of this model depends on besides weight values: each layer's identity and effective
     * trainable flag.
     */
    public String structureSignature() {
        StringBuilder sb = new StringBuilder();
        for (Leaf leaf : leaves()) {
            sb.append(System.identityHashCode(leaf.layer())).append(leaf.trainable() ? '+' : '-');
        }
        return sb.toString();
    }

    // ---- summary ----

    /** Keras's model.summary(): prints the layer table and parameter counts. */
    public void summary() {
        Display.show(summaryText(), Summary.html(this));
    }

    /** The text {@link #summary()} prints. */
    public String summaryText() {
        return Summary.of(this);
    }

    @Override
    public String toString() {
        return "Model '" + name() + "': " + layers().size() + " layers, input " + inputShape() + ", output "
                + outputShape() + ", " + String.format("%,d", countParams()) + " params";
    }
}
