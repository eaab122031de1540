package io.transferlab.engine.dl4j;

import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Keras's Multiply as a DL4J vertex: the element-wise product of its inputs, broadcast where an axis has size 1
 * (a (batch, h, w, c) feature map times (batch, 1, 1, c) channel weights, as in squeeze-and-excitation). DL4J's
 * ElementWiseVertex needs equal shapes. Backpropagation: the gradient for one input is the output's gradient times
 * the other inputs, summed over the axes along which that input was broadcast.
 */
public class BroadcastMultiplyVertex extends GraphVertex {
    /** For DL4J's JSON configuration. */
    public BroadcastMultiplyVertex() {
    }

    @Override
    public GraphVertex clone() {
        return new BroadcastMultiplyVertex();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BroadcastMultiplyVertex;
    }

    @Override
    public int hashCode() {
        return BroadcastMultiplyVertex.class.hashCode();
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 2;
    }

    @Override
    public int maxVertexInputs() {
        return Integer.MAX_VALUE;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        return new Impl(graph, name, idx, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... in) {
        InputType first = in[0];
        if (first instanceof InputType.InputTypeConvolutional c0) {
            long h = 1;
            long w = 1;
            long c = 1;
            for (InputType t : in) {
                if (!(t instanceof InputType.InputTypeConvolutional c1)) {
                    throw new IllegalArgumentException("Multiply of an image and a " + t + " input");
                }
                h = Math.max(h, c1.getHeight());
                w = Math.max(w, c1.getWidth());
                c = Math.max(c, c1.getChannels());
            }
            return InputType.convolutional(h, w, c, c0.getFormat());
        }
        long size = 1;
        for (InputType t : in) {
            size = Math.max(size, t.arrayElementsPerExample());
        }
        return first instanceof InputType.InputTypeFeedForward ? InputType.feedForward(size) : first;
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        return new LayerMemoryReport.Builder(null, BroadcastMultiplyVertex.class, inputTypes[0], getOutputType(-1, inputTypes))
                .standardMemory(0, 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    /** The shape the inputs broadcast to (each axis: the one size that is not 1, or 1). */
    static long[] broadcastShape(INDArray[] inputs) {
        long[] out = inputs[0].shape().clone();
        for (INDArray a : inputs) {
            long[] s = a.shape();
            if (s.length != out.length) {
                throw new IllegalArgumentException("Multiply needs inputs of the same rank, got "
                        + Arrays.toString(inputs[0].shape()) + " and " + Arrays.toString(s));
            }
            for (int d = 0; d < s.length; d++) {
                if (out[d] == 1) {
                    out[d] = s[d];
                } else if (s[d] != 1 && s[d] != out[d]) {
                    throw new IllegalArgumentException("Multiply: shapes " + Arrays.toString(inputs[0].shape()) + " and "
                            + Arrays.toString(s) + " do not broadcast");
                }
            }
        }
        return out;
    }

    /** a * b with b broadcast along its size-1 axes (a already has the full shape); a new array. */
    static INDArray times(INDArray a, INDArray b) {
        if (Arrays.equals(a.shape(), b.shape())) {
            return a.mul(b);
        }
        return a.mul(b.broadcast(a.shape()));
    }

    /** Sums g over the axes where the input has size 1 but g does not, back to the input's shape. */
    static INDArray reduceTo(INDArray g, long[] shape) {
        List<Integer> axes = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1 && g.size(d) != 1) {
                axes.add(d);
            }
        }
        if (axes.isEmpty()) {
            return g;
        }
        return g.sum(true, axes.stream().mapToInt(Integer::intValue).toArray()).reshape(shape);
    }

    /** The running vertex. */
    public static class Impl extends BaseGraphVertex {
        Impl(ComputationGraph graph, String name, int index, DataType dataType) {
            super(graph, name, index, null, null, dataType);
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
            long[] shape = broadcastShape(inputs);
            INDArray out = inputs[0].broadcast(shape).dup('c');
            for (int i = 1; i < inputs.length; i++) {
                out = times(out, inputs[i]);
            }
            return workspaceMgr.dup(ArrayType.ACTIVATIONS, out);
        }

        @Override
        public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
            long[] shape = broadcastShape(inputs);
            INDArray[] grads = new INDArray[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                INDArray g = epsilon.broadcast(shape).dup('c');
                for (int j = 0; j < inputs.length; j++) {
                    if (j != i) {
                        g = times(g, inputs[j]);
                    }
                }
                grads[i] = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, reduceTo(g, inputs[i].shape()));
            }
            return new Pair<>(null, grads);
        }

        @Override
        public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
            if (backpropGradientsViewArray != null) {
                throw new IllegalStateException("A multiply has no parameters");
            }
        }

        @Override
        public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                               int minibatchSize) {
            return new Pair<>(maskArrays == null || maskArrays.length == 0 ? null : maskArrays[0], currentMaskState);
        }

        @Override
        public String toString() {
            return "BroadcastMultiplyVertex(name=\"" + getVertexName() + "\")";
        }
    }
}
