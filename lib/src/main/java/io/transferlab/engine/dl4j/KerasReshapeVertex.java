package io.transferlab.engine.dl4j;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.nn.api.MaskState;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Keras's Reshape as a DL4J vertex: each example is reshaped in row-major order to a target shape given without
 * the batch dimension, whatever the batch size. Unlike DL4J's ReshapeVertex (whose shape includes the batch and
 * whose 4D output is assumed channels-first), a 3D target (h, w, c) is channels-last, as in Keras.
 */
public class KerasReshapeVertex extends GraphVertex {
    private long[] targetShape;

    /** For DL4J's JSON configuration. */
    public KerasReshapeVertex() {
    }

    /** @param targetShape the shape of one example, batch excluded, every dimension known */
    public KerasReshapeVertex(long... targetShape) {
        this.targetShape = targetShape.clone();
    }

    public long[] getTargetShape() {
        return targetShape.clone();
    }

    public void setTargetShape(long[] targetShape) {
        this.targetShape = targetShape.clone();
    }

    @Override
    public GraphVertex clone() {
        return new KerasReshapeVertex(targetShape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KerasReshapeVertex v && Arrays.equals(v.targetShape, targetShape);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(targetShape);
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 1;
    }

    @Override
    public int maxVertexInputs() {
        return 1;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        return new Impl(graph, name, idx, targetShape, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) {
        return switch (targetShape.length) {
            case 1 -> InputType.feedForward(targetShape[0]);
            case 2 -> InputType.recurrent(targetShape[1], targetShape[0], RNNFormat.NWC);
            case 3 -> InputType.convolutional(targetShape[0], targetShape[1], targetShape[2], CNN2DFormat.NHWC);
            default -> throw new UnsupportedOperationException("Reshape to rank " + targetShape.length
                    + " is not supported (target " + Arrays.toString(targetShape) + ")");
        };
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        return new LayerMemoryReport.Builder(null, KerasReshapeVertex.class, inputTypes[0], getOutputType(-1, inputTypes))
                .standardMemory(0, 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    /** The running vertex. */
    public static class Impl extends BaseGraphVertex {
        private final long[] targetShape;

        Impl(ComputationGraph graph, String name, int index, long[] targetShape, DataType dataType) {
            super(graph, name, index, null, null, dataType);
            this.targetShape = targetShape;
        }

        @Override
        public boolean hasLayer() {
            return false;
        }

        @Override
        public org.deeplearning4j.nn.api.Layer getLayer() {
            return null;
        }

        @Override
        public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
            INDArray in = inputs[0];
            long[] shape = new long[targetShape.length + 1];
            shape[0] = in.size(0);
            System.arraycopy(targetShape, 0, shape, 1, targetShape.length);
            return workspaceMgr.dup(ArrayType.ACTIVATIONS, in.reshape('c', shape));
        }

        @Override
        public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
            INDArray back = epsilon.reshape('c', inputs[0].shape());
            return new Pair<>(null, new INDArray[]{workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, back)});
        }

        @Override
        public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
            if (backpropGradientsViewArray != null) {
                throw new IllegalStateException("A reshape has no parameters");
            }
        }

        @Override
        public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                               int minibatchSize) {
            return new Pair<>(maskArrays == null || maskArrays.length == 0 ? null : maskArrays[0], currentMaskState);
        }

        @Override
        public String toString() {
            return "KerasReshapeVertex(name=\"" + getVertexName() + "\", shape=" + Arrays.toString(targetShape) + ")";
        }
    }
}
