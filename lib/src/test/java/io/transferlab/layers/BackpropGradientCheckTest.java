package io.transferlab.layers;

import io.transferlab.engine.dl4j.Dl4jLowering;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backpropagation through the DL4J parts behind the layers (convolution and depthwise convolution in NHWC, Keras batch
 * normalization with scale=False, the copying activation layer, zero padding, concatenation on channels, the
 * Keras reshape vertex) agrees with finite differences, in double precision.
 */
class BackpropGradientCheckTest {

    @AfterEach
    void backToFloat() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    private static org.deeplearning4j.nn.conf.layers.Layer conf(Layer layer, Shape in) {
        return (org.deeplearning4j.nn.conf.layers.Layer) Dl4jLowering.part(layer, List.of(in));
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        io.transferlab.runtime.Backend.init();   // sets float defaults once; gradient checks need double
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        Shape in = Shape.of(5, 4, 3);
        Conv2D conv = new Conv2D(4, 3, 3, "conv").padding("same").activation("tanh");
        Shape convOut = conv.computeOutputShape(List.of(in));                   // (5, 4, 4)
        DepthwiseConv2D dw = new DepthwiseConv2D(3, 3, "dw").depthMultiplier(2).strides(2, 2).padding("same");
        Shape dwOut = dw.computeOutputShape(List.of(convOut));                  // (3, 2, 8)
        BatchNormalization bn = new BatchNormalization("bn").scale(false);
        Activation act = new Activation("tanh", "act");
        ZeroPadding2D pad = new ZeroPadding2D(1, 0, 0, 1, "pad");
        Shape padOut = pad.computeOutputShape(List.of(dwOut));                  // (4, 3, 8)
        ReLU leaky = new ReLU(null, "leaky").negativeSlope(0.3);
        Concatenate cat = new Concatenate("cat");
        Shape catOut = Shape.of(4, 3, 16);
        Reshape flat = new Reshape(new long[]{catOut.size()}, "flat");

        var gb = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(3).updater(new NoOp())
                .graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(5, 4, 3, CNN2DFormat.NHWC))
                .addLayer("conv", conf(conv, in), "in")
                .addLayer("dw", conf(dw, convOut), "conv")
                .addLayer("bn", conf(bn, dwOut), "dw")
                .addLayer("act", conf(act, dwOut), "bn")
                .addLayer("pad", conf(pad, dwOut), "act")
                .addLayer("leaky", conf(leaky, padOut), "pad")
                .addVertex("cat", (org.deeplearning4j.nn.conf.graph.GraphVertex) Dl4jLowering.part(cat, List.of(padOut, padOut)), "pad", "leaky")
                .addVertex("flat", (org.deeplearning4j.nn.conf.graph.GraphVertex) Dl4jLowering.part(flat, List.of(catOut)), "cat")
                .addLayer("loss", new LossLayer.Builder(LossFunctions.LossFunction.MSE).activation(org.nd4j.linalg.activations.Activation.IDENTITY).build(), "flat")
                .setOutputs("loss");
        ComputationGraph g = new ComputationGraph(gb.build());
        g.init();
        Nd4j.getRandom().setSeed(9);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 4, 5, 4, 3).subi(0.5).muli(2);
        INDArray y = Nd4j.rand(DataType.DOUBLE, 4, catOut.size());
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{x}).labels(new INDArray[]{y})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY)
                // the moving statistics are not learnt by gradients, and gamma is held at 1 (scale=False)
                .excludeParams(Set.of("bn_mean", "bn_var", "bn_gamma")));
        assertTrue(ok, "analytic gradients differ from finite differences (see the log above)");
    }
}
