package io.transferlab.engine.dl4j;

import io.transferlab.graph.Functional;
import io.transferlab.layers.InputLayer;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
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

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a model into a DL4J ComputationGraph: one DL4J vertex per Keras layer, named as the layer,
 * channels-last throughout, nested models expanded in place, frozen layers wrapped so that training leaves them
 * (and their batch-norm statistics) untouched. Weights travel between the layers (Keras layout) and the graph.
 */
final class Dl4jGraphs {
    private Dl4jGraphs() {
    }

    /** The network for the model, with its layers' weights; with an optimizer and loss, ready to train. */
    static ComputationGraph build(Functional model, Optimizer optimizer, Loss loss) {
        var nb = new NeuralNetConfiguration.Builder()
                .dataType(DataType.FLOAT)
                .seed(42);
        if (optimizer != null) {
            nb.updater(Dl4jOptimizers.updater(optimizer));
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
        addNodes(model, loss, gb, vertexOf, true, new java.util.HashSet<>());
        String out = vertexOf.get(model.output());
        if (loss != null && !lossInOutputLayer(model)) {
            gb.addLayer("loss", new org.deeplearning4j.nn.conf.layers.LossLayer.Builder(Dl4jOptimizers.loss(loss))
                    .activation(org.nd4j.linalg.activations.Activation.IDENTITY).build(), out);
            out = "loss";
        }
        gb.setOutputs(out);
        ComputationGraphConfiguration conf = gb.build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        pushWeights(model, graph);
        return graph;
    }

    /** With a loss, a final Dense becomes DL4J's OutputLayer (fused softmax/sigmoid gradient); else a loss layer. */
    private static boolean lossInOutputLayer(Functional model) {
        return model.output().layer() instanceof io.transferlab.layers.Dense;
    }

    /**
     * Adds the model's layer calls. {@code gradientFlows} collects the vertices whose output must carry a gradient
     * because a trainable layer lies at or before them. A frozen layer with no trainable layer before it becomes
     * DL4J's FrozenLayer (inference mode, and backpropagation stops there: no wasted work); one with trainable
     * layers before it becomes FrozenLayerWithBackprop (fixed weights, gradient passed through).
     */
    private static void addNodes(Functional model, Loss loss, ComputationGraphConfiguration.GraphBuilder gb,
                                 Map<Tensor, String> vertexOf, boolean parentTrainable, java.util.Set<String> gradientFlows) {
        boolean trainable = parentTrainable && model.isTrainable();
        for (Node node : model.graphNodes()) {
            Layer layer = node.layer();
            if (layer instanceof InputLayer) {
                continue;
            }
            if (layer instanceof Functional inner) {
                vertexOf.put(inner.input(), vertexOf.get(node.inputs().get(0)));
                addNodes(inner, null, gb, vertexOf, trainable, gradientFlows);
                vertexOf.put(node.output(), vertexOf.get(inner.output()));
                continue;
            }
            List<Shape> shapes = node.inputs().stream().map(Tensor::shape).toList();
            String[] inputs = node.inputs().stream().map(vertexOf::get).toArray(String[]::new);
            Object part = Dl4jLowering.part(layer, shapes);
            if (loss != null && node.output() == model.output() && layer instanceof io.transferlab.layers.Dense dense) {
                part = Dl4jLowering.outputLayer(dense, shapes, Dl4jOptimizers.loss(loss));
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
            // a layer with weights learns (batch norm with neither gamma nor beta still updates its statistics), except
            // one whose weights are constants of the network (Normalization)
            boolean learns = trainable && layer.isTrainable() && !layer.weightSpecs().isEmpty()
                    && !Dl4jLowering.bakedWeights(layer);
            if (part instanceof ContiguousGradientConvolution conv) {
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

    /** Copies every layer's weights (Keras layout) into the graph's parameters. */
    static void pushWeights(Functional model, ComputationGraph graph) {
        for (Functional.Leaf leaf : model.leaves()) {
            Layer layer = leaf.layer();
            if (layer.weightSpecs().isEmpty() || Dl4jLowering.bakedWeights(layer)) {
                continue;
            }
            var dl4jLayer = graph.getLayer(layer.name());
            Map<String, INDArray> params = Dl4jLowering.toParams(layer, layer.getWeights());
            for (var e : params.entrySet()) {
                INDArray target = dl4jLayer.getParam(e.getKey());
                // DL4J keeps biases as (1, n) or (n) depending on the layer: equal length is what matters
                if (target == null || target.length() != e.getValue().length()) {
                    throw new IllegalStateException("Layer '" + layer.name() + "' parameter " + e.getKey()
                            + " does not fit the DL4J layer");
                }
                target.assign(e.getValue().reshape(target.shape()));
            }
        }
    }

    /**
     * What a network depends on besides its parameters: the model's structure, and the values of weights that are
     * constants inside the network (a change of those needs a new network).
     */
    static String signature(Functional model) {
        StringBuilder sb = new StringBuilder(model.structureSignature());
        for (Functional.Leaf leaf : model.leaves()) {
            if (Dl4jLowering.bakedWeights(leaf.layer())) {
                sb.append('|').append(leaf.layer().name()).append('@').append(leaf.layer().weightsVersion());
            }
        }
        return sb.toString();
    }

    /**
     * Copies the graph's weights into the layers (Keras layout): of every layer, or only of the layers that train
     * (frozen layers run in DL4J's frozen wrappers, which change neither weights nor batch-norm statistics).
     */
    static void pullWeights(Functional model, ComputationGraph graph, boolean onlyTrainable) {
        for (Functional.Leaf leaf : model.leaves()) {
            Layer layer = leaf.layer();
            if (onlyTrainable && !leaf.trainable()) {
                continue;
            }
            if (!layer.weightSpecs().isEmpty() && !Dl4jLowering.bakedWeights(layer)) {
                layer.setWeights(Dl4jLowering.fromParams(layer, copyParams(graph.getLayer(layer.name()).paramTable())));
            }
        }
    }

    private static Map<String, INDArray> copyParams(Map<String, INDArray> table) {
        Map<String, INDArray> copy = new LinkedHashMap<>();
        table.forEach((k, v) -> copy.put(k, v.dup()));
        return copy;
    }
}
