package io.transferlab.engine.dl4j;

import io.transferlab.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.HashMap;
import java.util.Map;

/**
 * Moves training state between two DL4J networks that share layers (by name): a network over part of a model (the
 * trainable part after a frozen prefix) and the network of the whole model, whose flattened layout is what
 * checkpoints hold. Copies each shared layer's parameters, the optimizer state of each of its variables, and the
 * iteration and epoch counts (Adam's bias correction and the dropout seeds follow them).
 */
public final class Dl4jStateTransfer {
    private Dl4jStateTransfer() {
    }

    /** Whether a layer's weights are constants of the DL4J network (Normalization): they never learn there. */
    public static boolean bakedWeights(Layer layer) {
        return Dl4jLowering.bakedWeights(layer);
    }

    /**
     * Copies the parameters of every layer the two networks share and the optimizer state of every variable that
     * learns in {@code to}, from {@code from}.
     *
     * @throws IllegalStateException naming the variable or layer when {@code from} lacks a learning variable of
     *                               {@code to} or holds it in another size
     */
    public static void copy(ComputationGraph from, ComputationGraph to) {
        Map<String, INDArray> fromState = variableStates(from);
        for (Map.Entry<String, INDArray> e : variableStates(to).entrySet()) {
            INDArray src = fromState.get(e.getKey());
            if (src == null || src.length() != e.getValue().length()) {
                throw new IllegalStateException("Optimizer state of " + e.getKey() + " has no counterpart of the same size ("
                        + (src == null ? "none" : src.length() + " values") + ", want " + e.getValue().length() + ")");
            }
            e.getValue().assign(src);
        }
        for (var vertex : to.getVertices()) {
            String name = vertex.getVertexName();
            if (!vertex.hasLayer() || vertex.getLayer().numParams() == 0) {
                continue;
            }
            if (from.getVertex(name) == null || !from.getVertex(name).hasLayer()) {
                continue; // a layer of the whole model outside the part: it does not change there
            }
            for (var p : vertex.getLayer().paramTable().entrySet()) {
                INDArray src = from.getLayer(name).getParam(p.getKey());
                if (src == null || src.length() != p.getValue().length()) {
                    throw new IllegalStateException("Layer '" + name + "' parameter " + p.getKey()
                            + " differs between the two networks");
                }
                p.getValue().assign(src.reshape(p.getValue().shape()));
            }
        }
        to.getConfiguration().setIterationCount(from.getConfiguration().getIterationCount());
        to.getConfiguration().setEpochCount(from.getConfiguration().getEpochCount());
    }

    /**
     * Views of the optimizer state of each variable, keyed "layer/param/slot" (Adam keeps two slots, m and v;
     * RMSprop one), DL4J keeps a block's state as slots of
     * the block's length one after another, the block's variables contiguous within each slot.
     */
    private static Map<String, INDArray> variableStates(ComputationGraph net) {
        Map<String, INDArray> out = new HashMap<>();
        if (net.getUpdater() == null) {
            return out;
        }
        for (UpdaterBlock block : net.getUpdater().getUpdaterBlocks()) {
            INDArray view = block.getUpdaterView();
            long n = 0;
            for (UpdaterBlock.ParamState ps : block.getLayersAndVariablesInBlock()) {
                n += ps.getParamView().length();
            }
            if (view == null || view.length() == 0 || n == 0) {
                continue; // no state (frozen layers, SGD)
            }
            if (view.length() % n != 0) {
                throw new IllegalStateException("Unexpected optimizer state layout: " + view.length()
                        + " values for " + n + " parameters");
            }
            long slots = view.length() / n;
            INDArray flat = view.rank() == 1 ? view : view.get(NDArrayIndex.point(0), NDArrayIndex.all()); // a view
            long at = 0;
            for (UpdaterBlock.ParamState ps : block.getLayersAndVariablesInBlock()) {
                long len = ps.getParamView().length();
                String layer = ps.getLayer().getConfig().getLayerName();
                for (long s = 0; s < slots; s++) {
                    long start = s * n + at;
                    out.put(layer + "/" + ps.getParamName() + "/" + s, flat.get(NDArrayIndex.interval(start, start + len)));
                }
                at += len;
            }
        }
        return out;
    }
}
