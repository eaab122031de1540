package io.transferlab.engine.dl4j;

import io.transferlab.engine.onednn.PoolingTrainingPrimitives;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's 2D max and average pooling, whose training passes run on oneDNN's pooling primitives
 * ({@link PoolingTrainingPrimitives}) when the layer trains in float on channels-last arrays: the forward pass keeps
 * where each maximum was, and the backward pass of the same step routes the gradient there, instead of DL4J's
 * helper, which copies both arrays and finds every maximum again. Inference, other data types and formats, and
 * anything oneDNN refuses take DL4J's own code, as does a network built with DL4J's oneDNN helpers off;
 * {@code TL_POOL_TRAINING=0} always does (for comparisons).
 * Configured and serialised as DL4J's layer.
 */
public class OneDnnPooling extends SubsamplingLayer {

    /** For DL4J's JSON configuration; use {@link #of(SubsamplingLayer.Builder)}. */
    public OneDnnPooling() {
        super();
    }

    private OneDnnPooling(SubsamplingLayer.Builder builder) {
        super(builder);
    }

    /** The layer a DL4J builder describes, with training passes on oneDNN. */
    public static OneDnnPooling of(SubsamplingLayer.Builder builder) {
        builder.build(); // DL4J's own validation
        return new OneDnnPooling(builder);
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners, int layerIndex,
                                                       INDArray layerParamsView, boolean initializeParams,
                                                       DataType networkDataType) {
        return LayerWiring.wire(new Impl(conf, networkDataType), conf, trainingListeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    /** DL4J's pooling layer with its training passes on oneDNN where they apply. */
    public static class Impl extends org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer {
        /** Primitives by input shape, the two most recent (a training set's batches and its smaller last one). */
        private final RecentPrimitives<PoolingTrainingPrimitives> byShape = new RecentPrimitives<>();
        private boolean refused;
        private INDArray forwardInput;                 // the input of the latest training pass on the primitives
        private PoolingTrainingPrimitives forwardPrimitives;
        private boolean lastOnPrimitives;

        public Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
            refused = !io.transferlab.runtime.Backend.switchedOn("transferlab.poolTraining", "TL_POOL_TRAINING");
        }

        /** Whether the latest training step's forward and backward passes ran on oneDNN's primitives. */
        public boolean onTrainingPrimitives() {
            return lastOnPrimitives;
        }

        /** Max pooling (DL4J's enum; inside this class the plain name would be SubsamplingLayer's own). */
        private boolean max() {
            return layerConf().getPoolingType() == org.deeplearning4j.nn.conf.layers.PoolingType.MAX;
        }

        private boolean applies(boolean training) {
            var c = layerConf();
            int[] dilation = c.getDilation();
            return training && !refused && helper != null && input != null && input.rank() == 4 && dataType == DataType.FLOAT
                    && c.getCnn2dDataFormat() == CNN2DFormat.NHWC && c.getIDropout() == null
                    && (max() || c.getPoolingType() == org.deeplearning4j.nn.conf.layers.PoolingType.AVG
                    && !c.isAvgPoolIncludePadInDivisor())
                    && (dilation == null || dilation[0] == 1 && dilation[1] == 1);
        }

        /** The primitives for this input shape, or null (and DL4J's path from now on) where oneDNN refuses. */
        private PoolingTrainingPrimitives primitives(INDArray x) {
            long[] shape = x.shape();
            var key = java.util.Arrays.stream(shape).boxed().toList();
            PoolingTrainingPrimitives p = byShape.get(key);
            if (p != null) {
                return p;
            }
            var c = layerConf();
            int[] kernel = c.getKernelSize();
            int[] strides = c.getStride();
            int[] dilation = {1, 1};
            int[] in = {(int) shape[1], (int) shape[2]};
            boolean same = convolutionMode == ConvolutionMode.Same;
            int[] out = ConvolutionUtils.getOutputSize(x, kernel, strides, same ? null : c.getPadding(),
                    convolutionMode, dilation, CNN2DFormat.NHWC);
            int[] before = same ? ConvolutionUtils.getSameModeTopLeftPadding(out, in, kernel, strides, dilation)
                    : c.getPadding();
            long[] after = new long[2];
            for (int i = 0; i < 2; i++) {
                after[i] = same ? Math.max(0, (long) (out[i] - 1) * strides[i] + kernel[i] - in[i] - before[i])
                        : before[i];
            }
            try {
                p = new PoolingTrainingPrimitives(shape, max(), kernel, strides, new long[]{before[0], before[1]},
                        after, new long[]{out[0], out[1]});
            } catch (UnsupportedOperationException e) {
                refused = true;
                if (io.transferlab.runtime.Backend.verbose()) {
                    System.out.println("Layer '" + c.getLayerName() + "' trains on DL4J's pooling: " + e.getMessage());
                }
                return null;
            }
            byShape.put(key, p);
            return p;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            forwardInput = null;
            forwardPrimitives = null;
            if (applies(training)) {
                INDArray x = DenseArrays.dense(input.castTo(dataType), workspaceMgr, ArrayType.FF_WORKING_MEM);
                PoolingTrainingPrimitives p = primitives(x);
                if (p != null) {
                    INDArray y = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, p.outputShape(),
                            'c');
                    p.forward(x, y);
                    forwardInput = input;
                    forwardPrimitives = p;
                    return y;
                }
            }
            lastOnPrimitives = false;
            return super.activate(training, workspaceMgr);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            PoolingTrainingPrimitives p = forwardPrimitives;
            boolean mine = p != null && input == forwardInput;
            forwardInput = null;
            forwardPrimitives = null;
            lastOnPrimitives = mine;
            if (!mine) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            INDArray dy = DenseArrays.dense(epsilon.castTo(dataType), workspaceMgr);
            INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, input.shape(), 'c');
            p.backward(dy, dx);
            return new Pair<>(new DefaultGradient(), dx);
        }
    }
}
