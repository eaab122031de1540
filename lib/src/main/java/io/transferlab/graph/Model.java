package io.transferlab.graph;

import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Node;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.layers.WeightSpec;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keras's functional Model: a graph of layer calls from input tensors to an output tensor. A model is itself a
 * layer: it can be called on a tensor or put in a {@link Sequential}, where summaries show it as one row
 * ({@code vgg16 (Functional)}).
 *
 * <p>Layers keep Keras's names and {@code trainable} flags; {@link #layers()} lists them in Keras's order, the
 * input layer first. The DL4J network that runs the model is built on first use ({@link #network()}) and rebuilt
 * when trainable flags change, keeping every weight.
 */
public class Model extends Layer {
    private Tensor input;
    private Tensor output;
    private List<Node> graphNodes = List.of();
    private List<Layer> layers = List.of();
    private ComputationGraph network;
    private long stampTrainedState;
    private String networkSignature;
    private long networkWeightsVersion;
    private io.transferlab.train.Optimizer optimizer;
    private io.transferlab.train.Loss loss;

    /** Keras's Model(inputs, outputs). */
    public static Model of(Tensor input, Tensor output) {
        return new Model(null, input, output);
    }

    /** Keras's Model(inputs, outputs, name=...). */
    public static Model of(String name, Tensor input, Tensor output) {
        return new Model(name, input, output);
    }

    protected Model(String name, Tensor input, Tensor output) {
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
        Set<Layer> unique = new LinkedHashSet<>();
        for (Node n : found) {
            unique.add(n.layer());
        }
        this.layers = List.copyOf(unique);
        this.network = null;
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

    @Override
    protected String defaultNamePrefix() {
        return "model";
    }

    /** The model's input tensor (Keras's model.input). */
    public Tensor input() {
        return input;
    }

    /** The model's output tensor (Keras's model.output), to build on in the functional style. */
    public Tensor output() {
        return output;
    }

    /**
     * The part of this model from its input up to the named layer, as a new model sharing the same layers (and so
     * the same weights and trainable flags): Keras's Model(base.input, base.get_layer(name).output).
     */
    public Model upTo(String layerName) {
        Layer l = getLayer(layerName);
        return Model.of(name() + "_to_" + layerName, input, l.output());
    }

    /**
     * The part of this model after the named layer, as a new model whose input is that layer's output: the same
     * layers, called again, so weights are shared both ways. Train it on features extracted up to the layer, and
     * this whole model has learnt too. Fails when a branch bypasses the layer.
     */
    public Model after(String layerName) {
        Layer cut = getLayer(layerName);
        Tensor cutTensor = cut.output();
        Tensor start = io.transferlab.layers.Layers.Input(cutTensor.shape().dims());
        java.util.Map<Tensor, Tensor> mapped = new java.util.HashMap<>();
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
        return Model.of(name() + "_after_" + layerName, start, end);
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
    public Model setTrainable(boolean value) {
        super.setTrainable(value);
        for (Layer l : layers()) {
            l.setTrainable(value);
        }
        return this;
    }

    /** Freezes every layer (model.trainable = False). */
    public Model freeze() {
        return setTrainable(false);
    }

    /** Makes every layer trainable again (model.trainable = True). */
    public Model unfreeze() {
        return setTrainable(true);
    }

    /**
     * Sets trainable on layers[from:to] (Python slice: from inclusive, to exclusive), as
     * {@code for layer in model.layers[from:to]: layer.trainable = value}.
     */
    public Model setTrainable(int from, int to, boolean value) {
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
    public Model freeze(int from, int to) {
        return setTrainable(from, to, false);
    }

    /** Freezes every layer up to and including the named one; the rest keep their flags. */
    public Model freezeUpTo(String layerName) {
        return setTrainable(0, indexOf(layerName) + 1, false);
    }

    /** Makes the named layer and every layer after it trainable (the usual fine-tuning step). */
    public Model unfreezeFrom(String layerName) {
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

    @Override
    public Object toDl4j(List<Shape> inputShapes) {
        throw new UnsupportedOperationException("A nested model is expanded into its layers");
    }

    // ---- summary ----

    /** Keras's model.summary(): prints the layer table and parameter counts. */
    public void summary() {
        System.out.print(summaryText());
        System.out.flush();
    }

    /** The text {@link #summary()} prints. */
    public String summaryText() {
        return Summary.of(this);
    }

    // ---- training (Keras's compile / fit / evaluate) ----

    /**
     * Keras's model.compile(optimizer, loss, metrics): {@code compile(Optimizer.RMSprop(2e-5),
     * "binary_crossentropy", "accuracy")}. Accuracy is always reported.
     */
    public void compile(io.transferlab.train.Optimizer opt, String lossName, String... metrics) {
        for (String m : metrics) {
            if (!m.equals("accuracy") && !m.equals("acc")) {
                throw new IllegalArgumentException("Unknown metric '" + m + "'; supported: accuracy");
            }
        }
        io.transferlab.train.Loss l = io.transferlab.train.Loss.named(lossName);
        long outputs = outputShape().get(0);
        if (l == io.transferlab.train.Loss.BINARY_CROSSENTROPY && outputs != 1) {
            throw new IllegalArgumentException("binary_crossentropy needs one sigmoid output, model '" + name()
                    + "' has " + outputs + " outputs: use categorical_crossentropy");
        }
        syncWeights();
        this.optimizer = opt;
        this.loss = l;
    }

    /** The optimizer given to {@link #compile}, or null. */
    public io.transferlab.train.Optimizer optimizer() {
        return optimizer;
    }

    /** The loss given to {@link #compile}, or null. */
    public io.transferlab.train.Loss loss() {
        return loss;
    }

    /** Keras's model.fit(train, epochs=..., validation_data=...), with callbacks (checkpoint, early stopping...). */
    public io.transferlab.train.History fit(io.transferlab.data.Dataset train, int epochs,
                                            io.transferlab.data.Dataset validation,
                                            io.transferlab.train.Callback... callbacks) {
        return new io.transferlab.train.Trainer(this).fit(train, epochs, validation, 0, callbacks);
    }

    /** Keras's model.fit(x, y, epochs, batch_size, validation_data=(xv, yv)) on arrays (shuffled, seed 1). */
    public io.transferlab.train.History fit(INDArray x, INDArray y, int epochs, int batchSize, INDArray xVal, INDArray yVal,
                                            io.transferlab.train.Callback... callbacks) {
        var train = new io.transferlab.data.ArrayData(x, y, batchSize, true, 1);
        var val = xVal == null ? null : new io.transferlab.data.ArrayData(xVal, yVal, batchSize, false, 0);
        return fit(train, epochs, val, callbacks);
    }

    /** Keras's model.evaluate: loss and accuracy over a dataset. */
    public io.transferlab.train.Evaluation evaluate(io.transferlab.data.Dataset data) {
        return new io.transferlab.train.Trainer(this).evaluate(data);
    }

    /** Keras's model.evaluate(x, y). */
    public io.transferlab.train.Evaluation evaluate(INDArray x, INDArray y) {
        return evaluate(new io.transferlab.data.ArrayData(x, y, 64, false, 0));
    }

    // ---- running it ----

    /**
     * The DL4J network that runs this model (channels-last throughout), built on first use with the layers'
     * weights, and rebuilt when trainable flags have changed since.
     */
    public ComputationGraph network() {
        String sig = Dl4jGraphs.signature(this);
        if (network == null || !sig.equals(networkSignature)) {
            if (network != null && Dl4jGraphs.weightsVersion(this) == networkWeightsVersion) {
                Dl4jGraphs.pullWeights(this, network);
            }
            network = Dl4jGraphs.build(this);
            networkSignature = sig;
        } else if (Dl4jGraphs.weightsVersion(this) != networkWeightsVersion) {
            // weights were set since (loaded from a file, or trained through another model sharing these layers)
            Dl4jGraphs.pushWeights(this, network);
        }
        networkWeightsVersion = Dl4jGraphs.weightsVersion(this);
        return network;
    }

    /**
     * A fresh DL4J network for this model with the layers' current weights, not cached (for comparing backends:
     * helpers are chosen when a network is built).
     */
    public ComputationGraph newNetwork() {
        syncWeights();
        return Dl4jGraphs.build(this);
    }

    /** Copies the running network's weights back into the layers (after training, say). */
    public void syncWeights() {
        if (network != null && Dl4jGraphs.weightsVersion(this) == networkWeightsVersion) {
            Dl4jGraphs.pullWeights(this, network);
            networkWeightsVersion = Dl4jGraphs.weightsVersion(this);
        }
    }

    /**
     * A number that changes whenever this model's weights may have changed: set or loaded into its layers, or
     * trained in its DL4J network (whose weights are then copied back into the layers first). Caches of anything
     * derived from the weights (compiled inference plans, say) compare it.
     */
    public long weightsStamp() {
        long trained = network == null ? 0 : 31L * network.getIterationCount() + network.getEpochCount() + 1;
        if (trained != stampTrainedState) {
            syncWeights();
            stampTrainedState = trained;
        }
        return Dl4jGraphs.weightsVersion(this);
    }

    /** Keras's model.predict(x) on one batch, x of shape (batch, ...input shape) in channels-last order. */
    public INDArray predict(INDArray x) {
        long[] want = input.shape().dims();
        long[] got = x.shape();
        boolean ok = got.length == want.length + 1;
        for (int i = 0; ok && i < want.length; i++) {
            ok = want[i] == Shape.NONE || want[i] == got[i + 1];
        }
        if (!ok) {
            throw new IllegalArgumentException("Model '" + name() + "' expects input (batch" + input.shape().toString()
                    .substring(5) + ", got " + java.util.Arrays.toString(got));
        }
        return io.transferlab.inference.Inference.predict(this, x);
    }

    /**
     * Keras's model.load_weights(path) for Keras HDF5 files (.h5), matching layers by name: every layer with
     * weights must find its weights in the file, with Keras's shapes; the file's other layers are ignored. A
     * DL4J network built before is dropped, so the next use runs on the loaded weights.
     *
     * @return what was loaded (layers, number of values, file layers not in the model)
     * @throws io.transferlab.weights.WeightsFileException if the file is missing, truncated, corrupt or made for
     *                                                     another model
     */
    public io.transferlab.weights.KerasWeights.Loaded loadWeights(java.nio.file.Path file) {
        io.transferlab.weights.KerasWeights.Loaded loaded = io.transferlab.weights.KerasWeights.load(file, this);
        network = null;
        networkSignature = null;
        return loaded;
    }

    @Override
    public String toString() {
        return "Model '" + name() + "': " + layers().size() + " layers, input " + inputShape() + ", output "
                + outputShape() + ", " + String.format("%,d", countParams()) + " params";
    }
}
