package io.transferlab.engine.dl4j;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.deeplearning4j.optimize.api.TrainingListener;
import io.transferlab.engine.onednn.ConvolutionTrainingPrimitives;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;

/**
 * DL4J's 2D convolution with its oneDNN backward pass fed a contiguous gradient.
 *
 * <p>Measured on DL4J 1.0.0-M2.1: for a channels-last (NHWC) ConvolutionLayer, the layer hands its oneDNN helper
 * the output gradient as a permuted view (strides of an NCHW array seen through NHWC glasses), and the native
 * {@code conv2d_bp} reads that view with the wrong strides (see {@link DenseArrays}). The weight and input gradients come out wrong (a
 * small CNN: last conv layer's weight-gradient sum 0.122 instead of -1.886; the first layer's grows to 1e20 when
 * freed memory is poisoned) and the read can run past the end of the buffer, which killed the JVM with a SIGSEGV
 * about one run in three. The forward pass is unaffected, and DL4J's own (non-oneDNN) backward pass is right: it
 * matches central finite differences in double precision.
 *
 * <p>This layer is DL4J's, configured and serialised the same way, with one change: its helper copies a
 * non-contiguous gradient (or input) into a dense C-order array before calling the native op. The copy costs one
 * pass over the layer's output gradient. {@code OneDnnPathTest} checks every trainable layer type's gradients, with
 * DL4J's oneDNN helpers on and off, against the same network in double precision.
 */
public class ContiguousGradientConvolution extends ConvolutionLayer {
    private static final Logger LOG = LoggerFactory.getLogger(ContiguousGradientConvolution.class);

    /**
     * Whether the backward pass must produce the gradient at the layer's input. False where nothing before the layer
     * learns (the network's first layer, the first trainable layer after a frozen base): that gradient would be
     * thrown away, and for a small CNN's first layer it cost as much as the layer's weight gradient.
     */
    private boolean inputGradient = true;

    /** For DL4J's JSON configuration; use {@link #of(ConvolutionLayer.Builder)}. */
    public ContiguousGradientConvolution() {
        super();
    }

    private ContiguousGradientConvolution(ConvolutionLayer.Builder builder) {
        super(builder);
    }

    /** The layer a DL4J builder describes, with the corrected backward pass. */
    public static ContiguousGradientConvolution of(ConvolutionLayer.Builder builder) {
        builder.build(); // DL4J's own validation of kernel, stride and padding
        return new ContiguousGradientConvolution(builder);
    }

    /** See {@link #setInputGradient(boolean)}. */
    public boolean isInputGradient() {
        return inputGradient;
    }

    /**
     * False when no layer before this one learns, so that the backward pass can skip the gradient at the input
     * (the layer then hands back zeros); the network builder decides.
     */
    public void setInputGradient(boolean inputGradient) {
        this.inputGradient = inputGradient;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners, int layerIndex,
                                                       INDArray layerParamsView, boolean initializeParams,
                                                       DataType networkDataType) {
        LayerValidation.assertNInNOutSet("ConvolutionLayer", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerWiring.wire(new Impl(conf, networkDataType), conf, trainingListeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    /**
     * DL4J's convolution layer with {@link ContiguousHelper} in place of its oneDNN helper, and, on that helper's
     * path (channels-last, float), two shortcuts measured on notebook 07's small CNN, where a training step took
     * 1.43 s of which oneDNN's own work was 0.27 s:
     * <ul>
     *   <li>the activation's backward pass runs on the dense channels-last arrays, not on DL4J's NCHW-permuted views
     *       of them (ND4J's strided element-wise path: 72% of the step);</li>
     *   <li>the forward pass hands the input straight to the helper, without the NCHW copy of it that DL4J makes
     *       and the helper never reads.</li>
     * </ul>
     * On that path the convolutions themselves run on {@link ConvolutionTrainingPrimitives} (oneDNN primitives made
     * once per input shape; in bfloat16 with float32 variables under the {@code mixed_bfloat16} policy) instead of
     * ND4J's {@code conv2d}/{@code conv2d_bp} ops, where oneDNN has them for the layer; {@code TL_CONV_TRAINING=0}
     * keeps ND4J's ops. Anything else (NCHW, double precision, no helper, a
     * helper that failed) takes DL4J's own code.
     */
    public static class Impl extends org.deeplearning4j.nn.layers.convolution.ConvolutionLayer {
        /**
         * Primitives by input shape and precision (the shape, then 1 for bfloat16 or 0), the two most recent (a
         * training set's batches and its smaller last one); a change of mixed-precision policy makes new ones.
         */
        private final RecentPrimitives<ConvolutionTrainingPrimitives> byShape = new RecentPrimitives<>();
        private ConvolutionTrainingPrimitives primitives;
        private boolean primitivesRefused;
        /**
         * Whether the backward pass may take the activation's derivative from the forward pass's output instead of
         * recomputing the convolution for its pre-activation ({@link #activate}); {@code TL_CONV_REUSE_OUTPUT=0}
         * always recomputes (for comparisons).
         */
        private final boolean reuseOutput;
        private INDArray forwardInput;       // the input of the last training forward pass on the primitives
        private INDArray forwardOutput;      // and its output, after the activation
        private boolean lastBackwardReusedOutput;
        private final boolean fuseRelu;
        private boolean lastForwardFused;

        public Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
            if (helper instanceof MKLDNNConvHelper) {
                helper = new ContiguousHelper(dataType);
            }
            primitivesRefused = !io.transferlab.runtime.Backend.switchedOn("transferlab.convTraining",
                    "TL_CONV_TRAINING");
            reuseOutput = io.transferlab.runtime.Backend.switchedOn("transferlab.convReuseOutput",
                    "TL_CONV_REUSE_OUTPUT");
            fuseRelu = io.transferlab.runtime.Backend.switchedOn("transferlab.convFusedRelu", "TL_CONV_FUSED_RELU");
        }

        /** Whether the last backward pass took the activation's derivative from the forward pass's output. */
        public boolean reusedForwardOutput() {
            return lastBackwardReusedOutput;
        }

        /**
         * Activations whose derivative the output alone determines exactly: ReLU in its plain form (the derivative
         * is 1 where the output is positive, which is exactly where the pre-activation was) and the identity.
         */
        private static boolean derivativeFromOutput(IActivation afn) {
            return afn instanceof ActivationIdentity
                    || afn instanceof ActivationReLU && afn.equals(new ActivationReLU());
        }

        /**
         * DL4J's forward pass; when training on oneDNN's primitives with a ReLU or no activation, it also remembers
         * the input and the output, so that the backward pass of the same step can take the activation's
         * derivative from the output instead of running the convolution a second time (DL4J keeps no
         * pre-activation): a quarter of the layer's training arithmetic. The backward pass uses them only when its
         * input is the very array this pass saw, and forgets them.
         */
        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            INDArray fused = training ? fusedReluForward(workspaceMgr) : null;
            lastForwardFused = fused != null;
            if (fused != null) {
                forwardInput = reuseOutput ? input : null;
                forwardOutput = reuseOutput ? fused : null;
                return fused;
            }
            INDArray out = super.activate(training, workspaceMgr);
            boolean keep = training && reuseOutput && onTrainingPrimitives() && onHelperPath()
                    && derivativeFromOutput(layerConf().getActivationFn());
            forwardInput = keep ? input : null;
            forwardOutput = keep ? out : null;
            return out;
        }

        /**
         * A training forward pass with a plain ReLU on oneDNN's primitives, the ReLU applied by the convolution as
         * it writes its output ({@link ConvolutionTrainingPrimitives#forwardRelu}) instead of by DL4J in a second
         * pass over it; null where that does not apply (then DL4J's forward pass runs). The same numbers: ReLU is
         * exact either way. {@code TL_CONV_FUSED_RELU=0} keeps the two passes (for comparisons).
         */
        private INDArray fusedReluForward(LayerWorkspaceMgr workspaceMgr) {
            var c = layerConf();
            IActivation afn = c.getActivationFn();
            if (!fuseRelu || !onHelperPath() || input == null || input.rank() != 4 || c.getIDropout() != null
                    || !(afn instanceof ActivationReLU && afn.equals(new ActivationReLU()))) {
                return null;
            }
            INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);
            INDArray bias = getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, true, workspaceMgr);
            validateInputDepth(weights.size(1));
            INDArray dense = DenseArrays.dense(input.castTo(dataType), workspaceMgr, ArrayType.FF_WORKING_MEM);
            ConvolutionTrainingPrimitives p = primitives(dense, weights);
            if (p == null) {
                return null;
            }
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, p.outputShape(), 'c');
            return p.forwardRelu(dense, weights, bias, out) ? out : null;
        }

        /** Whether the last forward pass ran the convolution and its ReLU as one oneDNN primitive. */
        public boolean fusedRelu() {
            return lastForwardFused;
        }

        /** Whether the last forward or backward pass ran on oneDNN's Winograd training primitives. */
        public boolean onWinogradPrimitives() {
            return onTrainingPrimitives() && primitives.winograd();
        }

        /** Whether the last forward or backward pass ran on oneDNN's training primitives. */
        public boolean onTrainingPrimitives() {
            return primitives != null && !primitivesRefused;
        }

        /**
         * Whether the last forward or backward pass ran on oneDNN's training primitives in bfloat16 (made under the
         * {@code mixed_bfloat16} policy).
         */
        public boolean onBfloat16Primitives() {
            return onTrainingPrimitives() && primitives.bfloat16();
        }

        /** oneDNN's training primitives for this (dense, NHWC) input, or null where they do not apply. */
        private ConvolutionTrainingPrimitives primitives(INDArray x, INDArray weights) {
            if (primitivesRefused) {
                return null;
            }
            long[] shape = x.shape();
            boolean bf16 = io.transferlab.runtime.MixedPrecision.bfloat16();
            if (primitives != null && primitives.fits(shape) && primitives.bfloat16() == bf16) {
                return primitives;
            }
            var key = java.util.stream.Stream.concat(java.util.Arrays.stream(shape).boxed(),
                    java.util.stream.Stream.of(bf16 ? 1L : 0L)).toList();
            primitives = byShape.get(key);
            if (primitives != null) {
                return primitives;
            }
            var c = layerConf();
            int[] kernel = c.getKernelSize();
            int[] strides = c.getStride();
            int[] dilation = c.getDilation();
            int[] in = {(int) shape[1], (int) shape[2]};
            boolean same = convolutionMode == ConvolutionMode.Same;
            int[] out = ConvolutionUtils.getOutputSize(x, kernel, strides, same ? null : c.getPadding(), convolutionMode,
                    dilation, CNN2DFormat.NHWC);
            int[] before = same ? ConvolutionUtils.getSameModeTopLeftPadding(out, in, kernel, strides, dilation)
                    : c.getPadding();
            // "same": what the output size needs beyond the top/left padding; otherwise the configured padding on
            // both sides (oneDNN, like DL4J, rounds the output size down when the stride leaves rows over)
            long[] after = new long[2];
            for (int i = 0; i < 2; i++) {
                long span = kernel[i] + (long) (kernel[i] - 1) * (dilation[i] - 1);
                after[i] = same ? (long) (out[i] - 1) * strides[i] + span - in[i] - before[i] : before[i];
            }
            try {
                primitives = new ConvolutionTrainingPrimitives(shape, weights.size(0), kernel, strides, dilation,
                        new long[]{before[0], before[1]}, after, new long[]{out[0], out[1]}, c.hasBias());
                byShape.put(key, primitives);
                return primitives;
            } catch (RuntimeException e) {
                refuse(e);
                return null;
            }
        }

        /** From now on this layer trains on ND4J's convolution ops, saying why where asked (TL_VERBOSE). */
        private void refuse(RuntimeException why) {
            primitivesRefused = true;
            if (io.transferlab.runtime.Backend.verbose()) {
                System.out.println("Layer '" + layerConf().getLayerName() + "' trains on ND4J's convolution ops: "
                        + why.getMessage());
            }
        }

        private boolean onHelperPath() {
            return helper instanceof ContiguousHelper
                    && (helperCountFail == 0 || !layerConf().isCudnnAllowFallback())
                    && layerConf().getCnn2dDataFormat() == CNN2DFormat.NHWC
                    && dataType == DataType.FLOAT;
        }

        /** DL4J's rule: a helper failure falls back to the built-in path, unless it ran out of memory. */
        private void helperFailed(RuntimeException e, String pass) {
            if (e.getMessage() != null && e.getMessage().contains("Failed to allocate")
                    || !layerConf().isCudnnAllowFallback()) {
                throw e;
            }
            helperCountFail++;
            LOG.warn("oneDNN {} pass of layer '{}' failed - falling back on DL4J's built-in implementation",
                    pass, layerConf().getLayerName(), e);
        }

        @Override
        protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop,
                                                     LayerWorkspaceMgr workspaceMgr) {
            if (!onHelperPath() || input == null || input.rank() != 4) {
                return super.preOutput(training, forBackprop, workspaceMgr);
            }
            INDArray bias = getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, training, workspaceMgr);
            INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, training, workspaceMgr);
            INDArray x = input.castTo(dataType);
            validateInputDepth(weights.size(1));
            var c = layerConf();
            INDArray dense = DenseArrays.dense(x, workspaceMgr, ArrayType.FF_WORKING_MEM);
            ConvolutionTrainingPrimitives p = primitives(dense, weights);
            if (p != null) {
                INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, p.outputShape(), 'c');
                p.forward(dense, weights, bias, out);
                return new Pair<>(out, null);
            }
            INDArray z;
            try {
                // "same" padding: the helper computes it from the input's size
                z = helper.preOutput(x, weights, bias, c.getKernelSize(), c.getStride(), c.getPadding(),
                        c.getCudnnAlgoMode(), c.getCudnnFwdAlgo(), convolutionMode, c.getDilation(),
                        CNN2DFormat.NHWC, workspaceMgr);
            } catch (RuntimeException e) {
                helperFailed(e, "forward");
                z = null;
            }
            return z != null ? new Pair<>(z, null) : super.preOutput(training, forBackprop, workspaceMgr);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            if (!onHelperPath()) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            assertInputSet(true);
            INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);
            INDArray bias = getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, true, workspaceMgr);
            INDArray x = input.castTo(dataType);
            INDArray eps = DenseArrays.dense(epsilon.castTo(dataType), workspaceMgr);
            var c = layerConf();
            IActivation afn = c.getActivationFn();
            INDArray dense = DenseArrays.dense(x, workspaceMgr);
            ConvolutionTrainingPrimitives p = primitives(dense, weights);
            if (p != null) {
                try {
                    INDArray delta;
                    lastBackwardReusedOutput = forwardOutput != null && input == forwardInput
                            && java.util.Arrays.equals(forwardOutput.shape(), p.outputShape());
                    if (lastBackwardReusedOutput && afn instanceof ActivationReLU) {
                        // ReLU's derivative from this step's own output: the same mask, on oneDNN
                        delta = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, p.outputShape(),
                                'c');
                        p.reluBackward(DenseArrays.dense(forwardOutput, workspaceMgr), eps, delta);
                    } else if (lastBackwardReusedOutput) {
                        delta = eps;   // the identity
                    } else {
                        // the pre-activation again (DL4J keeps none), with the same weights and input as the
                        // gradients
                        INDArray z = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType,
                                p.outputShape(), 'c');
                        p.forward(dense, weights, bias, z);
                        delta = DenseArrays.dense(afn.backprop(z, eps).getFirst(), workspaceMgr);
                    }
                    forwardInput = null;
                    forwardOutput = null;
                    boolean inputGradient = ((ContiguousGradientConvolution) c).isInputGradient();
                    INDArray epsOut = inputGradient
                            ? workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, dense.shape(), 'c')
                            : workspaceMgr.create(ArrayType.ACTIVATION_GRAD, dataType, dense.shape(), 'c'); // zeros
                    INDArray weightGrad = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY);
                    INDArray biasGrad = gradientViews.get(ConvolutionParamInitializer.BIAS_KEY);
                    p.backward(dense, weights, delta, inputGradient ? epsOut : null, weightGrad, biasGrad);
                    Gradient g = new DefaultGradient();
                    if (biasGrad != null) {
                        g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGrad);
                    }
                    g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGrad);
                    return new Pair<>(g, backpropDropOutIfPresent(epsOut));
                } catch (UnsupportedOperationException e) {
                    refuse(e);   // and on to ND4J's ops below
                }
            }
            Pair<Gradient, INDArray> ret = null;
            try {
                INDArray z = preOutput(true, true, workspaceMgr).getFirst();       // channels-last, recomputed
                INDArray delta = afn.backprop(z, eps).getFirst();                    // as DL4J: in place on z
                ret = helper.backpropGradient(x, weights, bias, delta, c.getKernelSize(), c.getStride(),
                        c.getPadding(), gradientViews.get(ConvolutionParamInitializer.BIAS_KEY),
                        gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY), afn, c.getCudnnAlgoMode(),
                        c.getCudnnBwdFilterAlgo(), c.getCudnnBwdDataAlgo(), convolutionMode, c.getDilation(),
                        CNN2DFormat.NHWC, workspaceMgr);
            } catch (RuntimeException e) {
                helperFailed(e, "backward");
            }
            if (ret == null) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            ret.setSecond(backpropDropOutIfPresent(ret.getSecond()));
            return ret;
        }
    }

    /**
     * DL4J's oneDNN convolution helper, given dense C-order arrays in the backward pass. It stays an
     * {@link MKLDNNConvHelper} on purpose: DL4J checks for that type to know the helper handles a missing bias.
     */
    public static class ContiguousHelper extends MKLDNNConvHelper {
        public ContiguousHelper(DataType dataType) {
            super(dataType);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias,
                                                         INDArray delta, int[] kernel, int[] strides, int[] pad,
                                                         INDArray biasGradView, INDArray weightGradView,
                                                         IActivation afn,
                                                         ConvolutionLayer.AlgoMode mode,
                                                         ConvolutionLayer.BwdFilterAlgo bwdFilterAlgo,
                                                         ConvolutionLayer.BwdDataAlgo bwdDataAlgo,
                                                         ConvolutionMode convolutionMode, int[] dilation,
                                                         CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
            return super.backpropGradient(DenseArrays.dense(input, workspaceMgr), weights, bias,
                    DenseArrays.dense(delta, workspaceMgr),
                    kernel, strides, pad, biasGradView, weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo,
                    convolutionMode, dilation, format, workspaceMgr);
        }
    }
}
