package io.transferlab.engine.dl4j;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's batch normalization configured as Keras's: variance stored as variance (not log10 of the standard
 * deviation), momentum as DL4J's decay, and Keras's {@code scale=False} / {@code center=False} honoured.
 *
 * <p>DL4J's layer always has a gamma and a beta. Keras's {@code scale=False} means y = (x - mean) / sqrt(var + eps)
 * + beta: gamma is then kept at 1 here and its gradient is zeroed on every backward pass, so no optimizer (SGD,
 * Adam, RMSprop, with or without momentum) ever moves it. DL4J's own {@code lockGammaBeta} cannot be used for
 * this, as it fixes beta too. The same holds for beta (kept at 0) with {@code center=False}.
 */
public class KerasBatchNormalization extends BatchNormalization {
    private boolean fixedGamma;
    private boolean fixedBeta;

    /** For DL4J's JSON configuration; use {@link #create}. */
    public KerasBatchNormalization() {
        super();
    }

    /**
     * A layer for {@code channels} channels (the last axis, channels-last for images).
     *
     * @param image true for (batch, h, w, c) input, false for (batch, c)
     */
    public static KerasBatchNormalization create(long channels, double epsilon, double momentum, boolean scale,
                                                 boolean center, boolean image) {
        KerasBatchNormalization bn = new KerasBatchNormalization();
        bn.setNIn(channels);
        bn.setNOut(channels);
        bn.setEps(epsilon);
        bn.setDecay(momentum);
        bn.setUseLogStd(false);
        bn.setLockGammaBeta(false);
        bn.setGamma(1.0);
        bn.setBeta(0.0);
        bn.setCnn2DFormat(image ? CNN2DFormat.NHWC : CNN2DFormat.NCHW);
        bn.fixedGamma = !scale;
        bn.fixedBeta = !center;
        return bn;
    }

    /** True when gamma stays 1 (Keras's scale=False). */
    public boolean isFixedGamma() {
        return fixedGamma;
    }

    public void setFixedGamma(boolean fixedGamma) {
        this.fixedGamma = fixedGamma;
    }

    /** True when beta stays 0 (Keras's center=False). */
    public boolean isFixedBeta() {
        return fixedBeta;
    }

    public void setFixedBeta(boolean fixedBeta) {
        this.fixedBeta = fixedBeta;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners, int layerIndex,
                                                       INDArray layerParamsView, boolean initializeParams,
                                                       DataType networkDataType) {
        return LayerWiring.wire(new Impl(conf, networkDataType), conf, trainingListeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KerasBatchNormalization k && super.equals(o) && k.fixedGamma == fixedGamma
                && k.fixedBeta == fixedBeta;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + (fixedGamma ? 2 : 0) + (fixedBeta ? 1 : 0);
    }

    @Override
    public String toString() {
        return "KerasBatchNormalization(fixedGamma=" + fixedGamma + ", fixedBeta=" + fixedBeta + ", " + super.toString() + ")";
    }

    /** The running layer: DL4J's, with the gradients of fixed gamma / beta zeroed. */
    public static class Impl extends org.deeplearning4j.nn.layers.normalization.BatchNormalization {
        public Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        /** Whether the last forward pass used batch statistics (training) or the moving ones (inference). */
        private boolean lastTraining;

        @Override
        public INDArray activate(boolean training, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr workspaceMgr) {
            lastTraining = training;
            return super.activate(training, workspaceMgr);
        }

        @Override
        public org.nd4j.common.primitives.Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray> backpropGradient(
                INDArray epsilon, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr workspaceMgr) {
            if (!lastTraining) {
                // A frozen batch norm inside a network that trains layers before it: in inference mode the layer is
                // the affine map y = x * gamma / sqrt(var + eps) + const per channel, so dx = dy * that factor. (DL4J's
                // own backprop assumes a training-mode forward pass and fails here.)
                INDArray gamma = getParam(BatchNormalizationParamInitializer.GAMMA);
                INDArray var = getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
                INDArray factor = gamma.reshape(gamma.length()).div(org.nd4j.linalg.ops.transforms.Transforms.sqrt(
                        var.reshape(var.length()).add(layerConf().getEps()), true)).castTo(epsilon.dataType());
                int channelAxis = epsilon.rank() == 4 && layerConf().getCnn2DFormat()
                        == org.deeplearning4j.nn.conf.CNN2DFormat.NCHW ? 1 : epsilon.rank() - 1;
                INDArray dx = workspaceMgr.createUninitialized(org.deeplearning4j.nn.workspace.ArrayType.ACTIVATION_GRAD,
                        epsilon.dataType(), epsilon.shape(), epsilon.ordering());
                org.nd4j.linalg.factory.Broadcast.mul(epsilon, factor, dx, channelAxis);
                return new org.nd4j.common.primitives.Pair<>(new org.deeplearning4j.nn.gradient.DefaultGradient(), dx);
            }
            var result = super.backpropGradient(epsilon, workspaceMgr);
            KerasBatchNormalization c = (KerasBatchNormalization) layerConf();
            zero(c.fixedGamma, BatchNormalizationParamInitializer.GAMMA, result.getFirst());
            zero(c.fixedBeta, BatchNormalizationParamInitializer.BETA, result.getFirst());
            return result;
        }

        private void zero(boolean fixed, String param, org.deeplearning4j.nn.gradient.Gradient g) {
            if (!fixed) {
                return;
            }
            INDArray grad = g.getGradientFor(param);
            if (grad != null) {
                grad.assign(0);
            }
            INDArray view = gradientViews == null ? null : gradientViews.get(param);
            if (view != null) {
                view.assign(0);
            }
        }
    }
}
