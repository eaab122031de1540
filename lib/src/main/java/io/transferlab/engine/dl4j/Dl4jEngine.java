package io.transferlab.engine.dl4j;

import io.transferlab.engine.api.Forward;
import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.runtime.Backend;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;

/**
 * The general engine: every layer runs and trains here, as a DL4J ComputationGraph built from the model
 * ({@link Dl4jGraphs}, one lowering per layer type in {@link Dl4jLowering}). The engine keeps one network per model,
 * keyed by the model's structure (layers and trainable flags) and, for training, its optimizer and loss; the
 * layers' weights are pushed into it whenever they changed since ({@link Functional#weightsDigest()}), and trained
 * weights are written back into the layers by the training step.
 */
public final class Dl4jEngine {
    private static final Dl4jEngine INSTANCE = new Dl4jEngine();

    /** A model's network and what it was built from. */
    private static final class Net {
        ComputationGraph graph;
        String structure;
        Optimizer optimizer;
        Loss loss;
        long digest;
    }

    private final Map<Functional, Net> nets = new WeakHashMap<>();

    private Dl4jEngine() {
    }

    public static Dl4jEngine get() {
        return INSTANCE;
    }

    /**
     * The model's network with its layers' current weights, for inference: the cached one when its structure still
     * holds (a training network serves too), else a new one. For running and inspecting; train through
     * {@link #trainStep} (or Keras's fit), which writes trained weights back into the layers.
     */
    public ComputationGraph network(Functional model) {
        return network(model, null, null);
    }

    /**
     * The model's network, ready to train with this optimizer and loss (null for inference only), with the layers'
     * current weights.
     */
    public synchronized ComputationGraph network(Functional model, Optimizer optimizer, Loss loss) {
        Backend.init();
        Net n = nets.get(model);
        String structure = Dl4jGraphs.signature(model);
        boolean fits = n != null && n.structure.equals(structure)
                && (optimizer == null || (n.optimizer == optimizer && n.loss == loss));
        if (!fits) {
            n = new Net();
            n.graph = Dl4jGraphs.build(model, optimizer, loss);
            n.structure = structure;
            n.optimizer = optimizer;
            n.loss = loss;
            n.digest = model.weightsDigest();
            nets.put(model, n);
        } else if (n.digest != model.weightsDigest()) {
            Dl4jGraphs.pushWeights(model, n.graph);
            n.digest = model.weightsDigest();
        }
        return n.graph;
    }

    /** A new network for the model with the layers' current weights, not cached (helpers are chosen when a network is built). */
    public ComputationGraph newNetwork(Functional model) {
        return newNetwork(model, null, null);
    }

    /** A new network, not cached, ready to train with this optimizer and loss. */
    public ComputationGraph newNetwork(Functional model, Optimizer optimizer, Loss loss) {
        Backend.init();
        return Dl4jGraphs.build(model, optimizer, loss);
    }

    /**
     * Copies the network's weights into the model's layers: of every layer, or only of those that learn in it (the
     * others cannot have changed there), and notes that the two agree, unless a layer was set from outside since
     * the network last had the layers' weights (then the next use pushes the layers' weights into it).
     */
    synchronized void writeBack(Functional model, ComputationGraph graph, boolean all) {
        Net n = nets.get(model);
        boolean inStep = n != null && n.graph == graph && n.digest == model.weightsDigest();
        boolean sameStructure = n != null && n.structure.equals(Dl4jGraphs.signature(model));
        Dl4jGraphs.pullWeights(model, graph, !all && sameStructure);
        if (inStep) {
            n.digest = model.weightsDigest();
        }
    }

    /**
     * A layer's weights as the model's network holds them, converted back to Keras's layout (for checking that the
     * two layouts round-trip); the network is built from the layers' weights first if needed.
     */
    public List<org.nd4j.linalg.api.ndarray.INDArray> readWeights(Functional model, io.transferlab.layers.Layer layer) {
        ComputationGraph graph = network(model);
        return Dl4jLowering.fromParams(layer, graph.getLayer(layer.name()).paramTable());
    }

    /** The model compiled for inference on DL4J (any input shape the network takes). */
    public Forward forward(Functional model) {
        return new Forward() {
            @Override
            public org.nd4j.linalg.api.ndarray.INDArray run(org.nd4j.linalg.api.ndarray.INDArray x) {
                return network(model).outputSingle(false, x);
            }

            @Override
            public String describe() {
                return "DL4J";
            }
        };
    }

    /** A training step on DL4J for the model, optimizer and loss. */
    public Dl4jTrainStep trainStep(Functional model, Optimizer optimizer, Loss loss) {
        return new Dl4jTrainStep(this, model, Objects.requireNonNull(optimizer), Objects.requireNonNull(loss));
    }

    /**
     * The model compiled to differentiate its output with respect to the named layer's output (nested models
     * searched too); with {@code withoutOutputActivation}, the final Dense or Activation layer's activation is left out.
     */
    public io.transferlab.engine.api.LayerGradient layerGradient(Functional model, String layerName,
                                                                 boolean withoutOutputActivation) {
        return new Dl4jLayerGradient(model, layerName, withoutOutputActivation);
    }
}
