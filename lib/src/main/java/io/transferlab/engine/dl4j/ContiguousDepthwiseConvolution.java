package io.transferlab.engine.dl4j;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's depthwise convolution with its backward op fed dense arrays.
 *
 * <p>Measured on DL4J 1.0.0-M2.1 in float: when this layer's input or output gradient is a permuted view (what
 * DL4J's own channels-last convolution produces), {@code depthwise_conv2d_bp} returns wrong weight and input
 * gradients (relative error above 1 against the same network in double precision). The layer is DL4J's,
 * configured and serialised the same way; before its backward pass it swaps a non-dense input or gradient for a
 * dense copy (see {@link DenseArrays}).
 */
public class ContiguousDepthwiseConvolution extends DepthwiseConvolution2D {

    /** For DL4J's JSON configuration; use {@link #of(DepthwiseConvolution2D.Builder)}. */
    public ContiguousDepthwiseConvolution() {
        super();
    }

    private ContiguousDepthwiseConvolution(DepthwiseConvolution2D.Builder builder) {
        super(builder);
    }

    /** The layer a DL4J builder describes, with the corrected backward pass. */
    public static ContiguousDepthwiseConvolution of(DepthwiseConvolution2D.Builder builder) {
        builder.build(); // DL4J's own validation of kernel, stride and padding
        return new ContiguousDepthwiseConvolution(builder);
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners, int layerIndex,
                                                       INDArray layerParamsView, boolean initializeParams,
                                                       DataType networkDataType) {
        LayerValidation.assertNInNOutSet("DepthwiseConvolution2D", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerWiring.wire(new Impl(conf, networkDataType), conf, trainingListeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    /** DL4J's depthwise layer whose backward pass sees a dense input and a dense output gradient. */
    public static class Impl extends DepthwiseConvolution2DLayer {
        public Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            return DenseArrays.withDenseInput(input, x -> input = x, workspaceMgr, ArrayType.BP_WORKING_MEM,
                    () -> super.backpropGradient(DenseArrays.dense(epsilon, workspaceMgr), workspaceMgr));
        }
    }
}
