package io.transferlab.engine.dl4j;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.SeparableConvolution2DLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's separable convolution (depthwise, then 1x1) in channels-last, with every array its native ops see dense.
 *
 * <p>DL4J 1.0.0-M2.1's layer computes in NCHW and hands back a channels-last <em>view</em> of its NCHW result; its
 * backward pass applies the activation's derivative to that view and gives it, with the input and the output
 * gradient, to {@code sconv2d_bp}. Measured with DL4J's own layer in float with oneDNN helpers on, in a small
 * network (conv, separable, batch norm, separable, dense: {@code SeparableConv2DTest}): gradients up to 2.5 times
 * their size away from the same network in double precision, the layers before the separable ones included (the
 * same family of fault as {@link ContiguousDepthwiseConvolution}'s). This layer is DL4J's, configured and
 * serialised the same way, with two changes: its pre-activation output is a dense channels-last copy (so the
 * activation's derivative is dense too), and its backward pass sees a dense input and output gradient; the
 * gradients then agree to 5e-6.
 */
public class ContiguousSeparableConvolution extends SeparableConvolution2D {

    /** For DL4J's JSON configuration; use {@link #of(SeparableConvolution2D.Builder)}. */
    public ContiguousSeparableConvolution() {
        super();
    }

    private ContiguousSeparableConvolution(SeparableConvolution2D.Builder builder) {
        super(builder);
    }

    /** The layer a DL4J builder describes, with dense arrays for its native ops. */
    public static ContiguousSeparableConvolution of(SeparableConvolution2D.Builder builder) {
        builder.build(); // DL4J's own validation of kernel, stride and padding
        return new ContiguousSeparableConvolution(builder);
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners, int layerIndex,
                                                       INDArray layerParamsView, boolean initializeParams,
                                                       DataType networkDataType) {
        LayerValidation.assertNInNOutSet("SeparableConvolution2D", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerWiring.wire(new Impl(conf, networkDataType), conf, trainingListeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    /** DL4J's separable layer whose output, input and output gradient are dense channels-last arrays. */
    public static class Impl extends SeparableConvolution2DLayer {
        public Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
            Pair<INDArray, INDArray> p = super.preOutput(training, forBackprop, workspaceMgr);
            return new Pair<>(DenseArrays.dense(p.getFirst(), workspaceMgr,
                    forBackprop ? ArrayType.BP_WORKING_MEM : ArrayType.ACTIVATIONS), p.getSecond());
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            return DenseArrays.withDenseInput(input, x -> input = x, workspaceMgr, ArrayType.BP_WORKING_MEM,
                    () -> super.backpropGradient(DenseArrays.dense(epsilon, workspaceMgr), workspaceMgr));
        }
    }
}
