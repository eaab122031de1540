package io.transferlab.engine.dl4j;

import io.transferlab.engine.onednn.BatchNormTrainingPrimitives;
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

    /**
     * The running layer: DL4J's, with the gradients of fixed gamma / beta zeroed, and its training passes on oneDNN's
     * batch normalization primitives ({@link BatchNormTrainingPrimitives}) for channels-last float images; DL4J's own
     * code for inference, other inputs, anything oneDNN refuses, a network built with DL4J's oneDNN helpers off, and
     * always with {@code TL_BN_TRAINING=0} (for comparisons). On both paths the moving statistics move as DL4J moves
     * them: the backward pass writes (1 - momentum) (moving - batch) into their gradient, which their no-op updater
     * subtracts.
     */
    public static class Impl extends org.deeplearning4j.nn.layers.normalization.BatchNormalization {
        /** Primitives by input shape, the two most recent (a training set's batches and its smaller last one). */
        private final RecentPrimitives<BatchNormTrainingPrimitives> byShape = new RecentPrimitives<>();
        private boolean refused;
        private INDArray forwardInput;       // the input of the latest training pass on the primitives
        private BatchNormTrainingPrimitives forwardPrimitives;
        private boolean lastOnPrimitives;

        public Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
            refused = !io.transferlab.runtime.Backend.switchedOn("transferlab.bnTraining", "TL_BN_TRAINING");
        }

        /** Whether the last forward pass used batch statistics (training) or the moving ones (inference). */
        private boolean lastTraining;

        /** Whether the latest training step's forward and backward passes ran on oneDNN's primitives. */
        public boolean onTrainingPrimitives() {
            return lastOnPrimitives;
        }

        private boolean applies(boolean training) {
            var c = layerConf();
            return training && !refused && getHelper() != null && input != null && input.rank() == 4
                    && dataType == DataType.FLOAT && c.getCnn2DFormat() == CNN2DFormat.NHWC && !c.isLockGammaBeta() && !c.isUseLogStd()
                    && c.getIDropout() == null;
        }

        /** The primitives for this input shape, or null (and DL4J's path from now on) where oneDNN refuses. */
        private BatchNormTrainingPrimitives primitives(INDArray x) {
            var key = java.util.Arrays.stream(x.shape()).boxed().toList();
            BatchNormTrainingPrimitives p = byShape.get(key);
            if (p != null) {
                return p;
            }
            try {
                p = new BatchNormTrainingPrimitives(x.shape(), layerConf().getEps());
            } catch (UnsupportedOperationException e) {
                refused = true;
                if (io.transferlab.runtime.Backend.verbose()) {
                    System.out.println("Layer '" + layerConf().getLayerName() + "' trains on DL4J's batch norm: "
                            + e.getMessage());
                }
                return null;
            }
            byShape.put(key, p);
            return p;
        }

        @Override
        public INDArray activate(boolean training, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr workspaceMgr) {
            lastTraining = training;
            forwardInput = null;
            forwardPrimitives = null;
            if (applies(training)) {
                INDArray x = DenseArrays.dense(input.castTo(dataType), workspaceMgr,
                        org.deeplearning4j.nn.workspace.ArrayType.FF_WORKING_MEM);
                BatchNormTrainingPrimitives p = primitives(x);
                if (p != null) {
                    INDArray y = workspaceMgr.createUninitialized(org.deeplearning4j.nn.workspace.ArrayType.ACTIVATIONS,
                            dataType, x.shape(), 'c');
                    p.forward(x, getParam(BatchNormalizationParamInitializer.GAMMA),
                            getParam(BatchNormalizationParamInitializer.BETA), y);
                    forwardInput = input;
                    forwardPrimitives = p;
                    return y;
                }
            }
            lastOnPrimitives = false;
            if (!training) {
                return super.activate(false, workspaceMgr);
            }
            // DL4J M2.1's training path (with its oneDNN helper, as the library builds it) computes wrong outputs from
            // a permuted view (0.04 off on values near 1, BatchNormalizationTrainingTest): it gets a dense copy, here
            // and in the backward pass
            return DenseArrays.withDenseInput(input, x -> input = x, workspaceMgr,
                    org.deeplearning4j.nn.workspace.ArrayType.FF_WORKING_MEM, () -> super.activate(true, workspaceMgr));
        }

        /** The backward pass on the primitives of the latest forward pass (see {@link #activate}). */
        private org.nd4j.common.primitives.Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray> backpropOnPrimitives(
                BatchNormTrainingPrimitives p, INDArray epsilon,
                org.deeplearning4j.nn.workspace.LayerWorkspaceMgr workspaceMgr) {
            INDArray x = DenseArrays.dense(input.castTo(dataType), workspaceMgr);
            INDArray dy = DenseArrays.dense(epsilon.castTo(dataType), workspaceMgr);
            INDArray dx = workspaceMgr.createUninitialized(org.deeplearning4j.nn.workspace.ArrayType.ACTIVATION_GRAD,
                    dataType, x.shape(), 'c');
            INDArray dGamma = gradientViews.get(BatchNormalizationParamInitializer.GAMMA);
            INDArray dBeta = gradientViews.get(BatchNormalizationParamInitializer.BETA);
            p.backward(x, getParam(BatchNormalizationParamInitializer.GAMMA),
                    getParam(BatchNormalizationParamInitializer.BETA), dy, dx, dGamma, dBeta);
            // the moving statistics, as DL4J moves them: gradient (1 - momentum) (moving - batch), no-op updater
            double keep = 1 - layerConf().getDecay();
            INDArray dMean = gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_MEAN);
            INDArray dVar = gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_VAR);
            dMean.assign(getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN)).subi(p.batchMean().reshape(dMean.shape()))
                    .muli(keep);
            dVar.assign(getParam(BatchNormalizationParamInitializer.GLOBAL_VAR)).subi(p.batchVariance().reshape(dVar.shape()))
                    .muli(keep);
            var g = new org.deeplearning4j.nn.gradient.DefaultGradient();
            g.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGamma);
            g.setGradientFor(BatchNormalizationParamInitializer.BETA, dBeta);
            g.setGradientFor(BatchNormalizationParamInitializer.GLOBAL_MEAN, dMean);
            g.setGradientFor(BatchNormalizationParamInitializer.GLOBAL_VAR, dVar);
            return new org.nd4j.common.primitives.Pair<>(g, dx);
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
            BatchNormTrainingPrimitives p = forwardPrimitives;
            boolean mine = p != null && input == forwardInput;
            forwardInput = null;
            forwardPrimitives = null;
            lastOnPrimitives = mine;
            var result = mine ? backpropOnPrimitives(p, epsilon, workspaceMgr) : dl4jBackprop(epsilon, workspaceMgr);
            KerasBatchNormalization c = (KerasBatchNormalization) layerConf();
            zero(c.fixedGamma, BatchNormalizationParamInitializer.GAMMA, result.getFirst());
            zero(c.fixedBeta, BatchNormalizationParamInitializer.BETA, result.getFirst());
            return result;
        }

        /** DL4J's own backward pass, on a dense copy of the input where it is a view (see {@link #activate}). */
        private org.nd4j.common.primitives.Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray> dl4jBackprop(
                INDArray epsilon, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr workspaceMgr) {
            return DenseArrays.withDenseInput(input, x -> input = x, workspaceMgr,
                    org.deeplearning4j.nn.workspace.ArrayType.BP_WORKING_MEM,
                    () -> super.backpropGradient(DenseArrays.dense(epsilon, workspaceMgr), workspaceMgr));
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
