package io.transferlab.engine.dl4j;

import io.transferlab.engine.api.LayerGradient;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Activation;
import io.transferlab.layers.Dense;
import io.transferlab.layers.Dropout;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Node;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.runtime.Backend;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.FrozenVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The gradient of the model's output with respect to a layer's output, on a DL4J network built for it: DL4J's
 * backpropagation with an external error at the output (the weights of the score, see {@link LayerGradient}).
 *
 * <p>The network is the model's, with four differences. The layer and everything that does not depend on its
 * output run as DL4J's frozen layers, so backpropagation stops at the layer (nothing before it is computed); the
 * layers after it pass gradients to their inputs; and, when asked, the final Dense (or Activation) layer leaves its
 * activation out so that the output is the logits; Dropout layers (the identity at inference) are left out. DL4J's workspaces are off in this network, so that the gradient
 * it leaves at the layer's vertex can be read after the backward pass. Everything runs in inference mode (moving
 * batch-norm statistics, no dropout). The network is built in the input's precision (float, or double for checks)
 * and rebuilt or refreshed when the model's structure or weights change.
 */
public final class Dl4jLayerGradient implements LayerGradient {
    private final Functional model;
    private final String layerName;
    private final boolean withoutOutputActivation;
    private Built built;

    /** A network and what it was built from. */
    private record Built(Graph graph, DataType dataType, String structure, long[] digest, String target, String output,
                         String scoreDescription) {
    }

    /** A ComputationGraph whose backward pass keeps the gradients it leaves at each vertex. */
    private static final class Graph extends ComputationGraph {
        Graph(ComputationGraphConfiguration conf) {
            super(conf);
        }

        /** Backpropagates an external error from the (single) output, keeping every vertex's input gradient. */
        void backpropKeeping(INDArray outputError) {
            calcBackpropGradients(false, false, outputError);
        }

        void clearVertices() {
            for (var v : getVertices()) {
                v.clear();
            }
        }
    }

    Dl4jLayerGradient(Functional model, String layerName, boolean withoutOutputActivation) {
        this.model = model;
        this.layerName = layerName;
        this.withoutOutputActivation = withoutOutputActivation;
        leafNode(model, layerName); // fails early for an unknown name
    }

    @Override
    public String layerName() {
        return layerName;
    }

    @Override
    public synchronized Result compute(INDArray x, INDArray outputWeights) {
        DataType dt = x.dataType() == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
        Built b = ready(dt);
        INDArray in = x.castTo(dt);
        try {
            Map<String, INDArray> acts = b.graph.feedForward(new INDArray[]{in}, false, false);
            INDArray activations = acts.get(b.target).dup();
            INDArray outputs = acts.get(b.output).dup();
            if (!Arrays.equals(outputs.shape(), outputWeights.shape())) {
                throw new IllegalArgumentException("Output weights of shape " + Arrays.toString(outputWeights.shape())
                        + " do not fit the outputs of model '" + model.name() + "', " + Arrays.toString(outputs.shape()));
            }
            b.graph.backpropKeeping(outputWeights.castTo(dt).dup());
            INDArray eps = b.graph.getVertex(b.target).getEpsilon();
            if (eps == null || eps.length() != activations.length()) {
                throw new IllegalStateException("DL4J left no gradient of the right size at layer '" + layerName
                        + "' (got " + (eps == null ? "none" : Arrays.toString(eps.shape())) + ", activations "
                        + Arrays.toString(activations.shape()) + ")");
            }
            INDArray gradients = eps.dup('c').reshape(activations.shape());
            return new Result(activations, gradients, outputs);
        } finally {
            b.graph.clearVertices();
        }
    }

    @Override
    public synchronized INDArray outputs(INDArray x) {
        DataType dt = x.dataType() == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
        Built b = ready(dt);
        try {
            return b.graph.outputSingle(false, x.castTo(dt)).dup();
        } finally {
            b.graph.clearVertices();
        }
    }

    @Override
    public String describe() {
        String score = built != null ? built.scoreDescription : scoreDescription(outputNode(model));
        return "DL4J: gradient of " + score + " with respect to the output of layer '" + layerName + "'";
    }

    private Built ready(DataType dt) {
        String structure = Dl4jGraphs.signature(model);
        if (built == null || built.dataType != dt || !built.structure.equals(structure)) {
            built = build(dt, structure);
        } else if (built.digest[0] != model.weightsDigest()) {
            Dl4jGraphs.pushWeights(model, built.graph);
            built.digest[0] = model.weightsDigest();
        }
        return built;
    }

    /** The call of the named layer in the model's running graph (nested models expanded). */
    static Node leafNode(Functional model, String name) {
        Node n = find(model, name);
        if (n == null) {
            throw new IllegalArgumentException("No layer named '" + name + "' in model '" + model.name()
                    + "' (nested models included)");
        }
        return n;
    }

    private static Node find(Functional model, String name) {
        for (Node n : model.graphNodes()) {
            if (n.layer() instanceof Functional inner) {
                Node f = find(inner, name);
                if (f != null) {
                    return f;
                }
            } else if (!(n.layer() instanceof InputLayer) && n.layer().name().equals(name)) {
                return n;
            }
        }
        return null;
    }

    /** The node that computes the model's output, looking inside nested models. */
    private static Node outputNode(Functional model) {
        Tensor t = model.output();
        while (t.layer() instanceof Functional inner) {
            t = inner.output();
        }
        return t.node();
    }

    private String scoreDescription(Node out) {
        Layer l = out.layer();
        String act = l instanceof Dense d ? d.activation() : l instanceof Activation a ? a.activation() : null;
        if (withoutOutputActivation && act != null) {
            return "the outputs of '" + l.name() + "' before its activation (" + act + " left out: the logits)";
        }
        return "the outputs of '" + l.name() + "'";
    }

    private Built build(DataType dt, String structure) {
        Backend.init();
        Node out = outputNode(model);
        if (withoutOutputActivation && !(out.layer() instanceof Dense) && !(out.layer() instanceof Activation)) {
            throw new UnsupportedOperationException("Model '" + model.name() + "' ends in layer '" + out.layer().name()
                    + "' (" + out.layer().typeName() + "): only a final Dense or Activation layer's activation can be left out");
        }
        var gb = new NeuralNetConfiguration.Builder()
                .dataType(dt)
                .seed(42)
                .trainingWorkspaceMode(WorkspaceMode.NONE)
                .inferenceWorkspaceMode(WorkspaceMode.NONE)
                .graphBuilder();
        Map<Tensor, String> vertexOf = new HashMap<>();
        String inputName = model.input().layer().name();
        gb.addInputs(inputName);
        vertexOf.put(model.input(), inputName);
        Shape in = model.inputShape();
        if (in.rank() == 3) {
            long h = in.get(0) == Shape.NONE ? 224 : in.get(0);
            long w = in.get(1) == Shape.NONE ? 224 : in.get(1);
            gb.setInputTypes(InputType.convolutional(h, w, in.get(2), CNN2DFormat.NHWC));
        } else if (in.rank() == 1) {
            gb.setInputTypes(InputType.feedForward(in.get(0)));
        }
        Node target = leafNode(model, layerName);
        Set<String> after = new HashSet<>();
        String[] targetVertex = {null};
        String[] outputVertex = {null};
        addNodes(model, gb, vertexOf, target, out, targetVertex, outputVertex, after);
        if (outputVertex[0] == null) {
            outputVertex[0] = vertexOf.get(model.output());
        }
        if (!after.contains(outputVertex[0])) {
            throw new IllegalArgumentException("The output of model '" + model.name() + "' does not depend on layer '"
                    + layerName + "' through any layer after it: there is no gradient to take there");
        }
        gb.setOutputs(outputVertex[0]);
        Graph graph = new Graph(gb.build());
        graph.init();
        Dl4jGraphs.pushWeights(model, graph);
        return new Built(graph, dt, structure, new long[]{model.weightsDigest()}, targetVertex[0], outputVertex[0],
                scoreDescription(out));
    }

    /**
     * Adds the model's layer calls: the layers that depend on the target layer's output as plain layers (they pass
     * gradients), every other one frozen (no backward pass).
     */
    private void addNodes(Functional m, ComputationGraphConfiguration.GraphBuilder gb, Map<Tensor, String> vertexOf,
                          Node target, Node out, String[] targetVertex, String[] outputVertex, Set<String> after) {
        for (Node node : m.graphNodes()) {
            Layer layer = node.layer();
            if (layer instanceof InputLayer) {
                continue;
            }
            if (layer instanceof Functional inner) {
                vertexOf.put(inner.input(), vertexOf.get(node.inputs().get(0)));
                addNodes(inner, gb, vertexOf, target, out, targetVertex, outputVertex, after);
                vertexOf.put(node.output(), vertexOf.get(inner.output()));
                continue;
            }
            List<Shape> shapes = node.inputs().stream().map(Tensor::shape).toList();
            String[] inputs = node.inputs().stream().map(vertexOf::get).toArray(String[]::new);
            boolean dependsOnTarget = Arrays.stream(inputs).anyMatch(after::contains)
                    || (targetVertex[0] != null && Arrays.asList(inputs).contains(targetVertex[0]));
            String name = layer.name();
            if (node == out && withoutOutputActivation && layer instanceof Activation) {
                // the score is the input of the final activation
                outputVertex[0] = inputs[0];
                vertexOf.put(node.output(), inputs[0]);
                continue;
            }
            // dropout is the identity at inference, but DL4J's dropout layer cannot backpropagate without a mask
            Object part = layer instanceof Dropout ? null : Dl4jLowering.part(layer, shapes);
            if (part == null) {
                if (node == target) {
                    throw new IllegalArgumentException("Layer '" + name + "' (" + layer.typeName() + ") passes its "
                            + "input on unchanged at inference: take the gradient at a layer that computes something");
                }
                vertexOf.put(node.output(), inputs[0]);
                continue;
            }
            if (node == out && withoutOutputActivation && part instanceof BaseLayer dense) {
                dense.setActivationFn(new ActivationIdentity());
            }
            if (part instanceof ContiguousGradientConvolution conv) {
                conv.setInputGradient(true);
            }
            if (part instanceof org.deeplearning4j.nn.conf.layers.Layer conf) {
                gb.addLayer(name, dependsOnTarget ? conf : new FrozenLayer(conf), inputs);
            } else if (part instanceof GraphVertex vertex) {
                gb.addVertex(name, dependsOnTarget ? vertex : new FrozenVertex(vertex), inputs);
            } else {
                throw new IllegalStateException("Layer '" + name + "' made an unknown DL4J part " + part);
            }
            if (dependsOnTarget) {
                after.add(name);
            }
            if (node == target) {
                targetVertex[0] = name;
            }
            vertexOf.put(node.output(), name);
        }
    }
}
