package io.transferlab.graph;

import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Node;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link Model} into a DL4J ComputationGraph: one DL4J vertex per Keras layer, named as the layer,
 * channels-last throughout, nested models expanded in place, frozen layers wrapped so that training leaves them
 * (and their batch-norm statistics) untouched. Weights travel between the layers (Keras layout) and the graph.
 */
final class Dl4jGraphs {
    private Dl4jGraphs() {
    }

    /** What the built network depends on besides weights: the effective trainable flag of each layer. */
    static String signature(Model model) {
        StringBuilder sb = new StringBuilder();
        forEachLeaf(model, true, (layer, trainable) -> sb.append(trainable ? '1' : '0'));
        if (model.optimizer() != null) {
            sb.append('|').append(model.optimizer()).append('|').append(model.loss());
        }
        return sb.toString();
    }

    /** A digest of the weight versions of every layer: changes whenever any layer's weights were set. */
    static long weightsVersion(Model model) {
        long[] acc = {17};
        forEachLeaf(model, true, (layer, trainable) -> acc[0] = acc[0] * 31 + layer.weightsVersion());
        return acc[0];
    }

    /** Copies the layers' weights into an existing graph. */
    static void pushWeights(Model model, ComputationGraph graph) {
        pushOrPullWeights(model, graph);
    }

    static ComputationGraph build(Model model) {
        var nb = new NeuralNetConfiguration.Builder()
                .dataType(DataType.FLOAT)
                .seed(42);
        if (model.optimizer() != null) {
            nb.updater(model.optimizer().dl4j());
        }
        var gb = nb.graphBuilder();
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
        addNodes(model, model, gb, vertexOf, true, new java.util.HashSet<>());
        String out = vertexOf.get(model.output());
        if (model.loss() != null && !lossInOutputLayer(model)) {
            gb.addLayer("loss", new org.deeplearning4j.nn.conf.layers.LossLayer.Builder(model.loss().dl4j())
                    .activation(org.nd4j.linalg.activations.Activation.IDENTITY).build(), out);
            out = "loss";
        }
        gb.setOutputs(out);
        ComputationGraphConfiguration conf = gb.build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        pushOrPullWeights(model, graph);
        return graph;
    }

    /** With a loss, a final Dense becomes DL4J's OutputLayer (fused softmax/sigmoid gradient); else a loss layer. */
    private static boolean lossInOutputLayer(Model model) {
        return model.output().layer() instanceof io.transferlab.layers.Dense;
    }

    /**
     * Adds the model's layer calls. {@code gradientFlows} collects the vertices whose output must carry a gradient
     * because a trainable layer lies at or before them. A frozen layer with no trainable layer before it becomes
     * DL4J's FrozenLayer (inference mode, and backpropagation stops there: no wasted work); one with trainable
     * layers before it becomes FrozenLayerWithBackprop (fixed weights, gradient passed through).
     */
    private static void addNodes(Model model, Model root, ComputationGraphConfiguration.GraphBuilder gb,
                                 Map<Tensor, String> vertexOf, boolean parentTrainable, java.util.Set<String> gradientFlows) {
        boolean trainable = parentTrainable && model.isTrainable();
        for (Node node : model.graphNodes()) {
            Layer layer = node.layer();
            if (layer instanceof InputLayer) {
                continue;
            }
            if (layer instanceof Model inner) {
                vertexOf.put(inner.input(), vertexOf.get(node.inputs().get(0)));
                addNodes(inner, root, gb, vertexOf, trainable, gradientFlows);
                vertexOf.put(node.output(), vertexOf.get(inner.output()));
                continue;
            }
            List<Shape> shapes = node.inputs().stream().map(Tensor::shape).toList();
            String[] inputs = node.inputs().stream().map(vertexOf::get).toArray(String[]::new);
            Object part = layer.toDl4j(shapes);
            if (root.loss() != null && node.output() == root.output() && layer instanceof io.transferlab.layers.Dense dense) {
                part = dense.toDl4jOutput(shapes, root.loss().dl4j());
            }
            String name = layer.name();
            if (part == null) {
                vertexOf.put(node.output(), inputs[0]);
                continue;
            }
            long callsHere = layer.nodes().stream().filter(model.graphNodes()::contains).count();
            if (callsHere > 1) {
                throw new UnsupportedOperationException("Layer '" + name + "' is called " + callsHere
                        + " times in model '" + model.name() + "'; a layer shared within one network cannot run yet");
            }
            boolean gradientIn = java.util.Arrays.stream(inputs).anyMatch(gradientFlows::contains);
            boolean learns = trainable && layer.isTrainable() && !layer.weightSpecs().isEmpty();
            if (part instanceof io.transferlab.layers.dl4j.ContiguousGradientConvolution conv) {
                conv.setInputGradient(gradientIn); // nothing before it learns: its input gradient would be dropped
            }
            if (part instanceof org.deeplearning4j.nn.conf.layers.Layer conf) {
                // Dropout behaves differently when training, so it must never run in a frozen (inference) wrapper
                boolean trainingDependent = layer instanceof io.transferlab.layers.Dropout;
                if (learns || trainingDependent || (gradientIn && layer.weightSpecs().isEmpty())) {
                    gb.addLayer(name, conf, inputs);
                } else if (gradientIn) {
                    gb.addLayer(name, new FrozenLayerWithBackprop(conf), inputs);
                } else {
                    gb.addLayer(name, new org.deeplearning4j.nn.conf.layers.misc.FrozenLayer(conf), inputs);
                }
            } else if (part instanceof GraphVertex vertex) {
                gb.addVertex(name, gradientIn ? vertex : new org.deeplearning4j.nn.conf.graph.FrozenVertex(vertex), inputs);
            } else {
                throw new IllegalStateException("Layer '" + name + "' made an unknown DL4J part " + part);
            }
            if (learns || gradientIn) {
                gradientFlows.add(name);
            }
            vertexOf.put(node.output(), name);
        }
    }

    /** Layers that have weights push them into the graph; layers without get the graph's fresh initial values. */
    private static void pushOrPullWeights(Model model, ComputationGraph graph) {
        forEachLeaf(model, true, (layer, trainable) -> {
            if (layer.weightSpecs().isEmpty()) {
                return;
            }
            var dl4jLayer = graph.getLayer(layer.name());
            if (layer.getWeights() != null) {
                Map<String, INDArray> params = layer.toDl4jParams(layer.getWeights());
                for (var e : params.entrySet()) {
                    INDArray target = dl4jLayer.getParam(e.getKey());
                    // DL4J keeps biases as (1, n) or (n) depending on the layer: equal length is what matters
                    if (target == null || target.length() != e.getValue().length()) {
                        throw new IllegalStateException("Layer '" + layer.name() + "' parameter " + e.getKey()
                                + " does not fit the DL4J layer");
                    }
                    target.assign(e.getValue().reshape(target.shape()));
                }
            } else {
                layer.setWeights(layer.fromDl4jParams(copyParams(dl4jLayer.paramTable())));
            }
        });
    }

    /** Copies every weight from the graph into the layers (Keras layout). */
    static void pullWeights(Model model, ComputationGraph graph) {
        forEachLeaf(model, true, (layer, trainable) -> {
            if (!layer.weightSpecs().isEmpty()) {
                layer.setWeights(layer.fromDl4jParams(copyParams(graph.getLayer(layer.name()).paramTable())));
            }
        });
    }

    private static Map<String, INDArray> copyParams(Map<String, INDArray> table) {
        Map<String, INDArray> copy = new LinkedHashMap<>();
        table.forEach((k, v) -> copy.put(k, v.dup()));
        return copy;
    }

    interface LeafVisitor {
        void visit(Layer layer, boolean effectiveTrainable);
    }

    /** Visits every non-model layer, nested models expanded, with its effective trainable flag. */
    static void forEachLeaf(Model model, boolean parentTrainable, LeafVisitor visitor) {
        boolean trainable = parentTrainable && model.isTrainable();
        List<Layer> seen = new ArrayList<>();
        for (Node node : model.graphNodes()) {
            Layer l = node.layer();
            if (seen.contains(l)) {
                continue;
            }
            seen.add(l);
            if (l instanceof Model inner) {
                forEachLeaf(inner, trainable, visitor);
            } else if (!(l instanceof InputLayer)) {
                visitor.visit(l, trainable && l.isTrainable());
            }
        }
    }
}
