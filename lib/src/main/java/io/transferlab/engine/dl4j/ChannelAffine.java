package io.transferlab.engine.dl4j;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code y = x * scale[c] + shift[c]} over the last axis (channels-last images or flat features), as a DL4J
 * activation function: how the DL4J engine runs Keras's Rescaling (one value for every channel) and Normalization.
 * Its gradient to the input is {@code dL/dy * scale[c]}; it has no parameters (the values are constants of the
 * network, rebuilt when the layer's weights change).
 */
public class ChannelAffine extends BaseActivationFunction {
    private float[] scale;
    private float[] shift;

    /** For DL4J's JSON configuration. */
    public ChannelAffine() {
    }

    public ChannelAffine(float[] scale, float[] shift) {
        if (scale.length != shift.length) {
            throw new IllegalArgumentException("scale has " + scale.length + " values, shift " + shift.length);
        }
        this.scale = scale.clone();
        this.shift = shift.clone();
    }

    public float[] getScale() {
        return scale;
    }

    public void setScale(float[] scale) {
        this.scale = scale;
    }

    public float[] getShift() {
        return shift;
    }

    public void setShift(float[] shift) {
        this.shift = shift;
    }

    private INDArray row(float[] values, INDArray like) {
        long c = like.size(like.rank() - 1);
        float[] full = values;
        if (values.length == 1 && c != 1) {
            full = new float[(int) c];
            java.util.Arrays.fill(full, values[0]);
        } else if (values.length != c) {
            throw new IllegalStateException("a per-channel scale of " + values.length + " values for " + c + " channels");
        }
        return Nd4j.createFromArray(full).castTo(like.dataType());
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        int axis = in.rank() - 1;
        Nd4j.getExecutioner().exec(new BroadcastMulOp(in, row(scale, in), in, axis));
        Nd4j.getExecutioner().exec(new BroadcastAddOp(in, row(shift, in), in, axis));
        return in;
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        Nd4j.getExecutioner().exec(new BroadcastMulOp(epsilon, row(scale, epsilon), epsilon, epsilon.rank() - 1));
        return new Pair<>(epsilon, null);
    }

    @Override
    public String toString() {
        return "channel_affine";
    }
}
