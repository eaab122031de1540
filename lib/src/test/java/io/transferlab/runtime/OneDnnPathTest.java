package io.transferlab.runtime;

import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.models.Model;
import io.transferlab.layers.Add;
import io.transferlab.layers.AveragePooling2D;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Concatenate;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.DepthwiseConv2D;
import io.transferlab.layers.Flatten;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.ReLU;
import io.transferlab.layers.Tensor;
import io.transferlab.layers.ZeroPadding2D;
import io.transferlab.engine.dl4j.ContiguousGradientConvolution;
import io.transferlab.engine.dl4j.KerasBatchNormalization;
import io.transferlab.engine.dl4j.OneDnnPooling;
import io.transferlab.optimizers.Optimizer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static io.transferlab.layers.Layers.Input;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The library switches on DL4J's oneDNN path: convolutions of a VGG16 block really run through oneDNN, and give
 * the same numbers as DL4J's built-in path, forward and backward (the built-in backward pass is checked against
 * finite differences in {@code BackpropGradientCheckTest}).
 */
class OneDnnPathTest {

    @AfterEach
    void restore() {
        Backend.setHelpersEnabled(true);
    }

    /** VGG16's block2 at 56x56 (the input block2 sees for a 112x112 image): two 3x3 convs, 64->128, and a pool. */
    private static Model vggBlock2() {
        Tensor in = Input(56, 56, 64);
        Tensor x = new Conv2D(128, 3, 3, "block2_conv1").padding("same").activation("relu").on(in);
        x = new Conv2D(128, 3, 3, "block2_conv2").padding("same").activation("relu").on(x);
        x = new MaxPooling2D(2, 2, "block2_pool").on(x);
        return Model.of("block2", in, x);
    }

    @Test
    void oneDnnIsOnByDefaultAndUsedByConvolutions() {
        assertTrue(Backend.oneDnnActive(), "oneDNN should be on: " + Backend.describe());
        Model block = vggBlock2();
        ComputationGraph net = Dl4jEngine.get().network(block);
        assertInstanceOf(MKLDNNConvHelper.class, ((ConvolutionLayer) net.getLayer("block2_conv1")).getHelper());
        assertInstanceOf(MKLDNNConvHelper.class, ((ConvolutionLayer) net.getLayer("block2_conv2")).getHelper());
        assertInstanceOf(MKLDNNSubsamplingHelper.class, ((SubsamplingLayer) net.getLayer("block2_pool")).getHelper());
    }

    @Test
    void oneDnnGivesTheSameNumbersAsTheBuiltInPath() {
        Model block = vggBlock2();
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 56, 56, 64);

        Backend.setHelpersEnabled(true);
        ComputationGraph fast = Dl4jEngine.get().newNetwork(block);
        assertNotNull(((ConvolutionLayer) fast.getLayer("block2_conv1")).getHelper());
        INDArray a = fast.outputSingle(false, x.dup());

        Backend.setHelpersEnabled(false);
        ComputationGraph plain = Dl4jEngine.get().newNetwork(block);
        assertNull(((ConvolutionLayer) plain.getLayer("block2_conv1")).getHelper(), "built-in path expected");
        INDArray b = plain.outputSingle(false, x.dup());

        assertArrayEquals(new long[]{4, 28, 28, 128}, a.shape());
        double maxAbs = a.sub(b).amaxNumber().doubleValue();
        double scale = b.amaxNumber().doubleValue();
        assertTrue(scale > 0.1, "outputs should not be trivial, max " + scale);
        assertTrue(maxAbs <= 1e-4, "oneDNN vs built-in max abs diff " + maxAbs);
    }

    /**
     * A small network with every trainable layer type the applications use, channels-last as everywhere in the
     * library, in the orders they meet in VGG16, InceptionV3 and the MobileNets: convolutions with and without
     * bias, "same" and "valid", stride 1 and 2, relu and linear; batch normalization; ReLU6; zero padding;
     * depthwise convolution; max and average pooling; a concatenation and an addition of branches; dense layers.
     */
    private static Model everyTrainableLayer() {
        Tensor in = Input(20, 20, 3);
        Tensor x = new Conv2D(8, 3, 3, "conv_same_relu").padding("same").activation("relu").on(in);
        x = new BatchNormalization("bn1").on(x);
        x = new MaxPooling2D(2, 2, "max").on(x);
        x = new ZeroPadding2D(0, 1, 0, 1, "pad").on(x);
        x = new Conv2D(16, 3, 3, "conv_valid_s2_nobias").strides(2, 2).useBias(false).on(x);
        x = new BatchNormalization("bn2").on(x);
        x = new ReLU(6.0, "relu6").on(x);
        x = new DepthwiseConv2D(3, 3, "depthwise").padding("same").useBias(false).on(x);
        x = new BatchNormalization("bn3").on(x);
        Tensor a = new Conv2D(6, 1, 1, "branch_1x1").activation("relu").on(x);
        Tensor b = new Conv2D(6, 3, 3, "branch_3x3").padding("same").activation("relu").on(x);
        x = new Concatenate("concat").on(a, b);
        Tensor c = new Conv2D(12, 1, 1, "pointwise_linear").on(x);
        c = new DepthwiseConv2D(3, 3, "depthwise_between_convs").padding("same").on(c);
        c = new Conv2D(12, 1, 1, "pointwise_after_depthwise").on(c);
        x = new Add("add").on(x, c);
        x = new AveragePooling2D(2, 2, "avg").on(x);
        x = new Flatten("flat").on(x);
        x = new Dense(10, "relu", "fc").on(x);
        Model m = Model.of("every_layer", in, new Dense(3, "softmax", "out").on(x));
        m.compile(Optimizer.RMSprop(1e-3), "categorical_crossentropy", "accuracy");
        return m;
    }

    private static java.util.Map<String, INDArray> gradients(ComputationGraph net, INDArray x, INDArray y) {
        net.setInputs(x.dup());
        net.setLabels(y.dup());
        net.computeGradientAndScore();
        java.util.Map<String, INDArray> g = new java.util.TreeMap<>();
        net.gradient().gradientForVariable().forEach((k, v) -> g.put(k, v.castTo(DataType.FLOAT)));
        return g;
    }

    /**
     * DL4J 1.0.0-M2.1's float backward ops read permuted views with the wrong strides: its oneDNN convolution
     * backward pass (gradients wrong by more than 100%, and a SIGSEGV one run in three for a small CNN) and its
     * depthwise backward op when fed DL4J's own convolution output (the built-in path). The library's layers hand
     * those ops dense arrays. The truth here is the same network in double precision, which runs ND4J's generic
     * code, itself checked against finite differences in {@code BackpropGradientCheckTest}. Two steps on the same
     * batch: the broken path also gave a different answer every time.
     */
    @ParameterizedTest(name = "oneDNN helpers {0}")
    @ValueSource(booleans = {true, false})
    void floatGradientsEqualDoublePrecision(boolean helpers) {
        Model model = everyTrainableLayer();
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 20, 20, 3).subi(0.5).muli(4);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 3);
        for (int i = 0; i < 16; i++) {
            y.putScalar(i, i % 3, 1f);
        }

        Backend.setHelpersEnabled(helpers);
        ComputationGraph net = Dl4jEngine.get().newNetwork(model, model.optimizer(), model.loss());
        var conv = ((ConvolutionLayer) net.getLayer("conv_same_relu")).getHelper();
        if (helpers) {
            assertInstanceOf(MKLDNNConvHelper.class, conv);
        } else {
            assertNull(conv, "built-in path expected");
        }
        assertGradientsEqualDoublePrecision(net, x, y);
        for (String name : new String[]{"conv_same_relu", "conv_valid_s2_nobias", "branch_1x1", "branch_3x3",
                "pointwise_linear", "pointwise_after_depthwise"}) {
            var layer = (ContiguousGradientConvolution.Impl) net.getLayer(name);
            assertEquals(helpers, layer.onTrainingPrimitives(), name + ": oneDNN's training primitives "
                    + (helpers ? "expected" : "not expected without helpers"));
            // only the first layer, with nothing learning before it, skips the gradient at its input
            assertEquals(!name.equals("conv_same_relu"),
                    ((ContiguousGradientConvolution) layer.layerConf()).isInputGradient(), name);
        }
        for (String name : new String[]{"max", "avg"}) {
            assertEquals(helpers, ((OneDnnPooling.Impl) net.getLayer(name)).onTrainingPrimitives(),
                    name + ": oneDNN's pooling primitives " + (helpers ? "expected" : "not expected without helpers"));
        }
        for (String name : new String[]{"bn1", "bn2", "bn3"}) {
            assertEquals(helpers, ((KerasBatchNormalization.Impl) net.getLayer(name)).onTrainingPrimitives(),
                    name + ": oneDNN's batch norm primitives " + (helpers ? "expected" : "not expected without helpers"));
        }
    }

    /**
     * Convolutions whose "same" padding is uneven (more at the bottom and right, as Keras and DL4J pad): stride 2 on
     * an even size, and an even kernel; on oneDNN's training primitives, against double precision.
     */
    @Test
    void unevenSamePaddingOnTrainingPrimitives() {
        Tensor in = Input(12, 12, 3);
        Tensor x = new Conv2D(4, 3, 3, "same_s2").padding("same").strides(2, 2).activation("relu").on(in);
        x = new Conv2D(5, 4, 4, "same_even_kernel").padding("same").activation("tanh").on(x);
        x = new Conv2D(6, 3, 3, "valid_s2_leftover").strides(2, 2).on(x); // 6 -> 2: one column never read
        x = new Flatten("flat").on(x);
        Model model = Model.of("uneven", in, new Dense(2, "softmax", "out").on(x));
        ComputationGraph net = checkedOnRandomBatch(model, 6, 12, 12);
        for (String name : new String[]{"same_s2", "same_even_kernel", "valid_s2_leftover"}) {
            assertTrue(((ContiguousGradientConvolution.Impl) net.getLayer(name)).onTrainingPrimitives(), name);
        }
    }

    /**
     * Fine-tuning's shape: a frozen convolution, then trainable ones. The first trainable one has nothing learning
     * before it, so it skips its input gradient; the one after it needs its own; every gradient still equals double
     * precision.
     */
    @Test
    void firstTrainableConvolutionAfterAFrozenOneSkipsItsInputGradient() {
        Tensor in = Input(10, 10, 3);
        Conv2D frozen = new Conv2D(4, 3, 3, "frozen_base");
        Tensor x = frozen.padding("same").activation("relu").on(in);
        x = new Conv2D(5, 3, 3, "first_trainable").padding("same").activation("relu").on(x);
        x = new Conv2D(6, 3, 3, "second_trainable").activation("relu").on(x);
        x = new Flatten("flat").on(x);
        Model model = Model.of("fine_tuned", in, new Dense(2, "softmax", "out").on(x));
        frozen.setTrainable(false);
        ComputationGraph net = checkedOnRandomBatch(model, 4, 10, 13);
        var first = (ContiguousGradientConvolution.Impl) net.getLayer("first_trainable");
        var second = (ContiguousGradientConvolution.Impl) net.getLayer("second_trainable");
        assertTrue(first.onTrainingPrimitives() && second.onTrainingPrimitives());
        assertFalse(((ContiguousGradientConvolution) first.layerConf()).isInputGradient());
        assertTrue(((ContiguousGradientConvolution) second.layerConf()).isInputGradient());
    }

    /**
     * A convolution with ReLU (or no activation) takes the activation's derivative from its forward output instead
     * of running the convolution again in the backward pass, and a plain ReLU runs inside the forward convolution:
     * every gradient, output and weight is bit for bit what the recomputing, unfused path gives, over two steps with
     * the weights moving in between, and a tanh layer still recomputes.
     */
    @Test
    void backwardPassReusesTheForwardOutputOfReluConvolutions() {
        java.util.function.Supplier<Model> make = () -> {
            Tensor in = Input(14, 14, 3);
            Tensor x = new Conv2D(6, 3, 3, "relu_conv").padding("same").activation("relu").on(in);
            x = new MaxPooling2D(2, 2, "pool").on(x);
            x = new Conv2D(8, 3, 3, "linear_conv").on(x);
            x = new Conv2D(5, 3, 3, "tanh_conv").padding("same").activation("tanh").on(x);
            x = new Flatten("flat").on(x);
            Model m = Model.of("reuse", in, new Dense(2, "softmax", "out").on(x));
            m.compile(Optimizer.RMSprop(1e-2), "categorical_crossentropy", "accuracy");
            return m;
        };
        Nd4j.getRandom().setSeed(5);
        INDArray xs = Nd4j.rand(DataType.FLOAT, 6, 14, 14, 3).subi(0.5);
        INDArray ys = Nd4j.zeros(DataType.FLOAT, 6, 2);
        for (int i = 0; i < 6; i++) {
            ys.putScalar(i, i % 2, 1f);
        }
        Backend.setHelpersEnabled(true);
        java.util.List<java.util.Map<String, INDArray>> perPath = new java.util.ArrayList<>();
        // (reuse the output, fuse ReLU into the forward convolution): the first is the default path
        for (String[] path : new String[][]{{"true", "true"}, {"true", "false"}, {"false", "false"}}) {
            String reuse = path[0];
            System.setProperty("transferlab.convReuseOutput", reuse);
            System.setProperty("transferlab.convFusedRelu", path[1]);
            try {
                Nd4j.getRandom().setSeed(17);
                Model model = make.get();
                Nd4j.getRandom().setSeed(17);
                ComputationGraph net = Dl4jEngine.get().newNetwork(model, model.optimizer(), model.loss());
                java.util.Map<String, INDArray> all = new java.util.TreeMap<>();
                for (int step = 0; step < 2; step++) {
                    net.setInputs(xs.dup());
                    net.setLabels(ys.dup());
                    net.fit(new org.nd4j.linalg.dataset.MultiDataSet(new INDArray[]{xs.dup()},
                            new INDArray[]{ys.dup()}));
                    int s = step;
                    gradients(net, xs, ys).forEach((k, v) -> all.put(s + ":" + k, v));
                    for (String name : new String[]{"relu_conv", "linear_conv", "tanh_conv"}) {
                        var layer = (ContiguousGradientConvolution.Impl) net.getLayer(name);
                        assertTrue(layer.onTrainingPrimitives(), name);
                        assertEquals(reuse.equals("true") && !name.equals("tanh_conv"), layer.reusedForwardOutput(),
                                name + " with reuse " + reuse);
                        assertEquals(path[1].equals("true") && name.equals("relu_conv"), layer.fusedRelu(),
                                name + ": ReLU fused into the forward convolution");
                    }
                    all.put(s + ":output", net.outputSingle(true, xs.dup()).dup());   // a training-mode forward pass
                    all.put(s + ":weights", net.params().dup());
                }
                perPath.add(all);
            } finally {
                System.clearProperty("transferlab.convReuseOutput");
                System.clearProperty("transferlab.convFusedRelu");
            }
        }
        for (int other = 1; other < perPath.size(); other++) {
            assertEquals(perPath.get(other).keySet(), perPath.get(0).keySet());
            for (String k : perPath.get(0).keySet()) {
                assertArrayEquals(perPath.get(other).get(k).data().asFloat(), perPath.get(0).get(k).data().asFloat(),
                        "path " + other + ": " + k);   // bit for bit
            }
        }
    }

    /**
     * 3x3 stride-1 convolutions on 32 or more channels train with Winograd F(4x4, 3x3) (reorders between the layer's
     * channels-last arrays and oneDNN's blocked layout around it; "same" and "valid" padding, ReLU fused into the
     * forward pass or none), the first layer on the image's 3 channels with the direct algorithm; every gradient
     * against the network in double precision.
     */
    @Test
    void winogradTrainingConvolutionsEqualDoublePrecision() {
        Tensor in = Input(12, 12, 3);
        Tensor x = new Conv2D(32, 3, 3, "first_direct").padding("same").activation("relu").on(in);
        x = new Conv2D(32, 3, 3, "winograd_same_relu").padding("same").activation("relu").on(x);
        x = new Conv2D(24, 3, 3, "winograd_valid_linear").on(x);
        x = new Flatten("flat").on(x);
        Model model = Model.of("winograd", in, new Dense(2, "softmax", "out").on(x));
        ComputationGraph net = checkedOnRandomBatch(model, 8, 12, 21);
        for (String name : new String[]{"first_direct", "winograd_same_relu", "winograd_valid_linear"}) {
            var layer = (ContiguousGradientConvolution.Impl) net.getLayer(name);
            assertEquals(!name.equals("first_direct"), layer.onWinogradPrimitives(), name + ": Winograd");
        }
        assertTrue(((ContiguousGradientConvolution.Impl) net.getLayer("winograd_same_relu")).fusedRelu(),
                "ReLU fused into the Winograd forward pass");
    }

    /**
     * Compiles a two-class model, builds its network with oneDNN helpers on, and checks its gradients on a random
     * batch of {@code n} images of {@code size} x {@code size} x 3 against double precision.
     */
    private static ComputationGraph checkedOnRandomBatch(Model model, int n, int size, long seed) {
        model.compile(Optimizer.RMSprop(1e-3), "categorical_crossentropy", "accuracy");
        Nd4j.getRandom().setSeed(seed);
        INDArray xs = Nd4j.rand(DataType.FLOAT, n, size, size, 3).subi(0.5);
        INDArray ys = Nd4j.zeros(DataType.FLOAT, n, 2);
        for (int i = 0; i < n; i++) {
            ys.putScalar(i, i % 2, 1f);
        }
        Backend.setHelpersEnabled(true);
        ComputationGraph net = Dl4jEngine.get().newNetwork(model, model.optimizer(), model.loss());
        assertGradientsEqualDoublePrecision(net, xs, ys);
        return net;
    }

    /** Two steps on the same batch, every gradient within 1e-4 (relative) of the network in double precision. */
    private static void assertGradientsEqualDoublePrecision(ComputationGraph net, INDArray x, INDArray y) {
        var truth = gradients(net.convertDataType(DataType.DOUBLE), x.castTo(DataType.DOUBLE),
                y.castTo(DataType.DOUBLE));
        StringBuilder wrong = new StringBuilder();
        for (int step = 0; step < 2; step++) {
            var actual = gradients(net, x, y);
            assertEquals(truth.keySet(), actual.keySet());
            for (String k : truth.keySet()) {
                if (k.endsWith("_mean") || k.endsWith("_var")) {
                    continue; // moving statistics, not learnt by gradients
                }
                INDArray t = truth.get(k);
                double scale = t.norm2Number().doubleValue();
                double diff = actual.get(k).sub(t).norm2Number().doubleValue();
                assertTrue(scale > 1e-6, "gradient of " + k + " should not vanish");
                if (!(diff <= 1e-4 * scale)) {
                    wrong.append(String.format("%n  step %d: %s relative difference %.3g", step, k, diff / scale));
                }
            }
        }
        assertTrue(wrong.length() == 0, "float gradients differ from double precision:" + wrong);
    }
}
