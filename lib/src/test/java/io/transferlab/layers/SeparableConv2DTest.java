package io.transferlab.layers;

import io.transferlab.engine.Engines;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.engine.dl4j.Dl4jLowering;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.runtime.Backend;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static io.transferlab.layers.NewLayersKnownAnswerTest.idx;
import static io.transferlab.layers.NewLayersKnownAnswerTest.random;
import static io.transferlab.layers.NewLayersKnownAnswerTest.samePadBefore;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SeparableConv2D: Keras's weights and parameter count; the forward pass on both engines (the oneDNN plan and
 * DL4J) against plain loops over Keras's definition; the DL4J backward pass against finite differences in double
 * precision, and in float against double precision with DL4J's oneDNN helpers on and off.
 */
class SeparableConv2DTest {

    @AfterEach
    void restore() {
        Backend.setHelpersEnabled(true);
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    /** Keras's definition: depthwise (no bias) then pointwise, plus bias, channels-last, in double. */
    static double[] separableRef(INDArray x, INDArray dk, INDArray pk, INDArray bias, int sh, int sw, boolean same,
                                 long[] os) {
        int n = (int) x.size(0), h = (int) x.size(1), w = (int) x.size(2), cin = (int) x.size(3);
        int kh = (int) dk.size(0), kw = (int) dk.size(1), mult = (int) dk.size(3);
        int filters = (int) pk.size(3);
        int oh = (int) os[1], ow = (int) os[2];
        int pt = same ? samePadBefore(h, kh, sh) : 0, pl = same ? samePadBefore(w, kw, sw) : 0;
        double[] out = new double[n * oh * ow * filters];
        double[] mid = new double[cin * mult];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < oh; r++) {
                for (int q = 0; q < ow; q++) {
                    for (int c = 0; c < cin; c++) {
                        for (int m = 0; m < mult; m++) {
                            double s = 0;
                            for (int dr = 0; dr < kh; dr++) {
                                for (int dq = 0; dq < kw; dq++) {
                                    int rr = r * sh + dr - pt, qq = q * sw + dq - pl;
                                    if (rr >= 0 && rr < h && qq >= 0 && qq < w) {
                                        s += x.getDouble(i, rr, qq, c) * dk.getDouble(dr, dq, c, m);
                                    }
                                }
                            }
                            mid[c * mult + m] = s;
                        }
                    }
                    for (int f = 0; f < filters; f++) {
                        double s = bias == null ? 0 : bias.getDouble(f);
                        for (int k = 0; k < mid.length; k++) {
                            s += mid[k] * pk.getDouble(0, 0, k, f);
                        }
                        out[idx(os, i, r, q, f)] = s;
                    }
                }
            }
        }
        return out;
    }

    private static double maxRelError(double[] want, INDArray got) {
        double[] g = got.dup('c').reshape(-1).toDoubleVector();
        assertEquals(want.length, g.length);
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i] - g[i]) / Math.max(1, Math.abs(want[i])));
        }
        return max;
    }

    @Test
    void weightsAndCountAreKeras() {
        Tensor in = Layers.Input(7, 6, 3);
        SeparableConv2D s = new SeparableConv2D(8, 3, 3, "sep").depthMultiplier(2);
        Model m = Model.of(in, s.on(in));
        assertEquals(List.of("depthwise_kernel", "pointwise_kernel", "bias"),
                s.weightSpecs().stream().map(WeightSpec::name).toList());
        assertArrayEquals(new long[]{3, 3, 3, 2}, s.weightSpecs().get(0).shape());
        assertArrayEquals(new long[]{1, 1, 6, 8}, s.weightSpecs().get(1).shape());
        // Keras: 3*3*3*2 + 6*8 + 8
        assertEquals(110, m.countParams());
        assertEquals(Shape.of(5, 4, 8), m.outputShape());
        SeparableConv2D noBias = new SeparableConv2D(4, 3, 3, "sep_nobias").useBias(false).padding("same").strides(2, 2);
        Tensor in2 = Layers.Input(7, 6, 3);
        assertEquals(Shape.of(4, 3, 4), noBias.on(in2).shape());
        assertEquals(3 * 3 * 3 + 3 * 4, noBias.countParams());
        assertEquals("separable_conv2d", Layers.SeparableConv2D(4, 3).name());
    }

    @Test
    void forwardMatchesKerasOnBothEngines() {
        Map<String, Double> errors = new TreeMap<>();
        for (boolean same : new boolean[]{true, false}) {
            for (int stride : new int[]{1, 2}) {
                for (int mult : new int[]{1, 2}) {
                    boolean bias = stride == 1;
                    String act = mult == 1 ? "relu" : "linear";
                    Tensor in = Layers.Input(8, 7, 3);
                    SeparableConv2D s = new SeparableConv2D(5, 3, 3, "sep").padding(same ? "same" : "valid")
                            .strides(stride, stride).depthMultiplier(mult).useBias(bias).activation(act);
                    Model m = Model.of(in, s.on(in));
                    INDArray dk = random(0.5, 3, 3, 3, mult), pk = random(0.5, 1, 1, 3L * mult, 5), b = random(0.5, 5);
                    s.setWeights(bias ? List.of(dk, pk, b) : List.of(dk, pk));
                    INDArray x = random(1, 2, 8, 7, 3);
                    long[] os = m.outputShape().withBatch(2);
                    double[] want = separableRef(x, dk, pk, bias ? b : null, stride, stride, same, os);
                    if (act.equals("relu")) {
                        for (int i = 0; i < want.length; i++) {
                            want[i] = Math.max(0, want[i]);
                        }
                    }
                    String what = (same ? "same" : "valid") + " stride " + stride + " multiplier " + mult
                            + (bias ? " bias" : "") + " " + act;
                    double plan = maxRelError(want, m.predict(x));
                    assertTrue(Engines.describe(m).startsWith("oneDNN plan"), Engines.describe(m));
                    double dl4j = maxRelError(want, Dl4jEngine.get().newNetwork(m).outputSingle(false, x));
                    errors.put("plan " + what, plan);
                    errors.put("dl4j " + what, dl4j);
                    assertTrue(plan <= 1e-4, what + ": oneDNN plan relative error " + plan);
                    assertTrue(dl4j <= 1e-4, what + ": DL4J relative error " + dl4j);
                    // DL4J's parameters back in Keras's layout
                    List<INDArray> back = Dl4jEngine.get().readWeights(m, s);
                    assertEquals(dk, back.get(0), what);
                    assertEquals(pk, back.get(1), what);
                }
            }
        }
        errors.forEach((k, v) -> System.out.printf(Locale.ROOT, "max relative error %-45s %.3g%n", k, v));
    }

    /** The plan folds a following BatchNormalization into the pointwise step and fuses the ReLU after it. */
    @Test
    void batchNormalizationAndReluAfterItAreFoldedLikeKeras() {
        Tensor in = Layers.Input(6, 6, 4);
        SeparableConv2D s = new SeparableConv2D(6, 3, 3, "sep").padding("same").useBias(false);
        BatchNormalization bn = new BatchNormalization("sep_bn");
        Tensor y = new Activation("relu", "sep_act").on(bn.on(s.on(in)));
        Model m = Model.of(in, y);
        INDArray dk = random(0.5, 3, 3, 4, 1), pk = random(0.5, 1, 1, 4, 6);
        s.setWeights(List.of(dk, pk));
        INDArray g = random(1, 6), beta = random(1, 6), mean = random(1, 6), var = NewLayersKnownAnswerTest.positive(6);
        bn.setWeights(List.of(g, beta, mean, var));
        INDArray x = random(1, 3, 6, 6, 4);
        long[] os = m.outputShape().withBatch(3);
        double[] conv = separableRef(x, dk, pk, null, 1, 1, true, os);
        double[] want = new double[conv.length];
        for (int i = 0; i < conv.length; i++) {
            int c = i % 6;
            want[i] = Math.max(0, g.getDouble(c) * (conv[i] - mean.getDouble(c)) / Math.sqrt(var.getDouble(c) + 1e-3)
                    + beta.getDouble(c));
        }
        double plan = maxRelError(want, m.predict(x));
        double dl4j = maxRelError(want, Dl4jEngine.get().newNetwork(m).outputSingle(false, x));
        System.out.printf(Locale.ROOT, "separable + BN + relu: plan %.3g, dl4j %.3g%n", plan, dl4j);
        assertTrue(plan <= 1e-4 && dl4j <= 1e-4, "plan " + plan + ", dl4j " + dl4j);
    }

    private static org.deeplearning4j.nn.conf.layers.Layer conf(Layer layer, Shape in) {
        return (org.deeplearning4j.nn.conf.layers.Layer) Dl4jLowering.part(layer, List.of(in));
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Backend.init();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        Shape in = Shape.of(6, 5, 3);
        SeparableConv2D a = new SeparableConv2D(4, 3, 3, "sep_a").padding("same").depthMultiplier(2).activation("tanh");
        Shape aOut = a.computeOutputShape(List.of(in));                       // (6, 5, 4)
        SeparableConv2D b = new SeparableConv2D(3, 3, 3, "sep_b").strides(2, 2).useBias(false);
        Shape bOut = b.computeOutputShape(List.of(aOut));                     // (2, 2, 3)
        Reshape flat = new Reshape(new long[]{bOut.size()}, "flat");
        var gb = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(3).updater(new NoOp())
                .graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(6, 5, 3, CNN2DFormat.NHWC))
                .addLayer("sep_a", conf(a, in), "in")
                .addLayer("sep_b", conf(b, aOut), "sep_a")
                .addVertex("flat", (org.deeplearning4j.nn.conf.graph.GraphVertex) Dl4jLowering.part(flat, List.of(bOut)), "sep_b")
                .addLayer("loss", new LossLayer.Builder(LossFunctions.LossFunction.MSE)
                        .activation(org.nd4j.linalg.activations.Activation.IDENTITY).build(), "flat")
                .setOutputs("loss");
        ComputationGraph g = new ComputationGraph(gb.build());
        g.init();
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 6, 5, 3).subi(0.5).muli(2);
        INDArray y = Nd4j.rand(DataType.DOUBLE, 3, bOut.size());
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{x}).labels(new INDArray[]{y})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
        assertTrue(ok, "analytic gradients differ from finite differences (see the log above)");
    }

    /** Float gradients (DL4J's oneDNN helpers on and off) equal the same network's in double precision. */
    @ParameterizedTest(name = "oneDNN helpers {0}")
    @ValueSource(booleans = {true, false})
    void floatGradientsEqualDoublePrecision(boolean helpers) {
        Tensor in = Layers.Input(12, 12, 3);
        Tensor x = new Conv2D(6, 3, 3, "conv").padding("same").activation("relu").on(in);
        x = new SeparableConv2D(8, 3, 3, "sep_relu").padding("same").activation("relu").on(x);
        x = new BatchNormalization("bn").on(x);
        x = new SeparableConv2D(8, 3, 3, "sep_s2").strides(2, 2).depthMultiplier(2).useBias(false).on(x);
        x = new Activation("relu", "act").on(x);
        x = new GlobalAveragePooling2D("gap").on(x);
        Model model = Model.of("separable", in, new Dense(3, "softmax", "out").on(x));
        model.compile(Optimizer.RMSprop(1e-3), "categorical_crossentropy", "accuracy");
        Nd4j.getRandom().setSeed(17);
        INDArray xs = Nd4j.rand(DataType.FLOAT, 8, 12, 12, 3).subi(0.5).muli(4);
        INDArray ys = Nd4j.zeros(DataType.FLOAT, 8, 3);
        for (int i = 0; i < 8; i++) {
            ys.putScalar(i, i % 3, 1f);
        }
        Backend.setHelpersEnabled(helpers);
        ComputationGraph net = Dl4jEngine.get().newNetwork(model, model.optimizer(), model.loss());
        Map<String, INDArray> truth = gradients(net.convertDataType(DataType.DOUBLE), xs.castTo(DataType.DOUBLE),
                ys.castTo(DataType.DOUBLE));
        StringBuilder wrong = new StringBuilder();
        double worst = 0;
        for (int step = 0; step < 2; step++) {
            Map<String, INDArray> actual = gradients(net, xs, ys);
            assertEquals(truth.keySet(), actual.keySet());
            for (String k : truth.keySet()) {
                if (k.endsWith("_mean") || k.endsWith("_var")) {
                    continue;
                }
                double scale = truth.get(k).norm2Number().doubleValue();
                double diff = actual.get(k).sub(truth.get(k)).norm2Number().doubleValue();
                assertTrue(scale > 1e-6, "gradient of " + k + " should not vanish");
                worst = Math.max(worst, diff / scale);
                if (!(diff <= 1e-4 * scale)) {
                    wrong.append(String.format(Locale.ROOT, "%n  step %d: %s relative difference %.3g", step, k, diff / scale));
                }
            }
        }
        System.out.printf(Locale.ROOT, "helpers %s: worst relative gradient difference float vs double %.3g%n", helpers, worst);
        assertTrue(truth.containsKey("sep_relu_pW") && truth.containsKey("sep_s2_W"), truth.keySet().toString());
        assertTrue(wrong.length() == 0, "float gradients differ from double precision:" + wrong);
    }

    private static Map<String, INDArray> gradients(ComputationGraph net, INDArray x, INDArray y) {
        net.setInputs(x.dup());
        net.setLabels(y.dup());
        net.computeGradientAndScore();
        Map<String, INDArray> g = new TreeMap<>();
        net.gradient().gradientForVariable().forEach((k, v) -> g.put(k, v.castTo(DataType.FLOAT)));
        return g;
    }
}
