package io.transferlab.engine.dl4j;

import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Keras's Dropout with a noise_shape, for DL4J (training only; DL4J's DropoutLayer does nothing at inference): one
 * keep-or-drop decision per position of the noise shape, shared along its axes of size 1, kept values scaled by
 * 1 / (1 - rate). With noise_shape (None, 1, 1, 1) a whole example is kept or zeroed (EfficientNet's drop-connect).
 * The mask is kept for backpropagation, which multiplies the gradient by the same mask.
 */
public class NoiseShapeDropout implements IDropout {
    private double rate;
    private long[] noiseShape;
    private transient INDArray mask;

    /** For DL4J's JSON configuration. */
    public NoiseShapeDropout() {
    }

    /** @param noiseShape Keras's noise_shape, batch axis first; -1 (None) takes the input's size */
    public NoiseShapeDropout(double rate, long[] noiseShape) {
        this.rate = rate;
        this.noiseShape = noiseShape.clone();
    }

    public double getRate() {
        return rate;
    }

    public void setRate(double rate) {
        this.rate = rate;
    }

    public long[] getNoiseShape() {
        return noiseShape.clone();
    }

    public void setNoiseShape(long[] noiseShape) {
        this.noiseShape = noiseShape.clone();
    }

    @Override
    public INDArray applyDropout(INDArray input, INDArray output, int iteration, int epoch, LayerWorkspaceMgr workspaceMgr) {
        long[] in = input.shape();
        if (noiseShape.length != in.length) {
            throw new IllegalArgumentException("Dropout noise_shape " + Arrays.toString(noiseShape) + " does not fit an input of shape "
                    + Arrays.toString(in));
        }
        long[] shape = new long[in.length];
        for (int d = 0; d < in.length; d++) {
            shape[d] = noiseShape[d] < 0 ? in[d] : noiseShape[d];
        }
        INDArray keep = Nd4j.rand(input.dataType(), shape).gt(rate).castTo(input.dataType()).muli(1.0 / (1.0 - rate));
        mask = workspaceMgr.dup(ArrayType.INPUT, keep.broadcast(in).dup('c'));
        output.assign(input.mul(mask));
        return output;
    }

    @Override
    public INDArray backprop(INDArray gradAtOutput, INDArray gradAtInput, int iteration, int epoch) {
        if (mask == null) {
            throw new IllegalStateException("Dropout backprop without a forward pass in training");
        }
        gradAtInput.assign(gradAtOutput.mul(mask));
        return gradAtInput;
    }

    @Override
    public void clear() {
        mask = null;
    }

    @Override
    public NoiseShapeDropout clone() {
        return new NoiseShapeDropout(rate, noiseShape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NoiseShapeDropout d && d.rate == rate && Arrays.equals(d.noiseShape, noiseShape);
    }

    @Override
    public int hashCode() {
        return Double.hashCode(rate) * 31 + Arrays.hashCode(noiseShape);
    }

    @Override
    public String toString() {
        return "NoiseShapeDropout(rate=" + rate + ", noiseShape=" + Arrays.toString(noiseShape) + ")";
    }
}
