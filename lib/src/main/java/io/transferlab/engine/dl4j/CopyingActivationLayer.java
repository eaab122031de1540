package io.transferlab.engine.dl4j;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.Relu6;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.Map;

/**
 * DL4J's activation layer, except that it never overwrites its input. DL4J 1.0.0-M2.1's ActivationLayer applies
 * the activation in place at inference: when its input also feeds another layer (a branch, a residual
 * connection) that other layer sees the activated values, and when it is the first layer, the caller's input
 * array is changed. This one works on a copy.
 */
public class CopyingActivationLayer extends ActivationLayer {
    /** For DL4J's JSON configuration. */
    public CopyingActivationLayer() {
        super();
    }

    public CopyingActivationLayer(IActivation activation) {
        super(activation);
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners, int layerIndex,
                                                       INDArray layerParamsView, boolean initializeParams,
                                                       DataType networkDataType) {
        Impl layer = new Impl(conf, networkDataType);
        layer.setListeners(trainingListeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        Map<String, INDArray> params = initializer().init(conf, layerParamsView, initializeParams);
        layer.setParamTable(params);
        layer.setConf(conf);
        return layer;
    }

    /** The running layer. */
    public static class Impl extends org.deeplearning4j.nn.layers.ActivationLayer {
        public Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            IActivation fn = layerConf().getActivationFn();
            if (fn instanceof ActivationReLU r && r.getThreshold() == null && r.getNegativeSlope() == null
                    && (r.getMax() == null || r.getMax() == 6.0)) {
                // ReLU and ReLU6 (MobileNet's) in one pass from input to a new array: no copy, no clip pass
                INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), input.shape(), 'c');
                Nd4j.exec(r.getMax() == null ? new RectifiedLinear(input, out) : new Relu6(input, out));
                return out;
            }
            INDArray copy = mgr.dup(ArrayType.ACTIVATIONS, input, input.ordering());
            return fn.getActivation(copy, training);
        }
    }
}
