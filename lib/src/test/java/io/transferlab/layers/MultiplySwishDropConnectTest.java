package io.transferlab.layers;

import io.transferlab.engine.Engines;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.engine.dl4j.Dl4jLowering;
import io.transferlab.engine.dl4j.NoiseShapeDropout;
import io.transferlab.inference.Inference;
import io.transferlab.models.Model;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layers EfficientNet adds: Multiply with squeeze-and-excitation's broadcast ((h, w, c) times (1, 1, c)), the
 * swish activation (standalone and fused into a convolution), and Dropout with noise_shape (None, 1, 1, 1)
 * (drop-connect). Forward passes against plain double loops on both engines (oneDNN plan and DL4J); gradients
 * through Multiply and swish against finite differences in double precision.
 */
class MultiplySwishDropConnectTest {
    @AfterEach
    void backToFloat() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    private static double swish(double v) {
        return v / (1 + Math.exp(-v));
    }

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    private static double relError(double[] want, INDArray got) {
        double[] g = got.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        assertEquals(want.length, g.length, "number of values");
        double num = 0;
        double den = 0;
        for (int i = 0; i < g.length; i++) {
            num += (want[i] - g[i]) * (want[i] - g[i]);
            den += want[i] * want[i];
        }
        return Math.sqrt(num / den);
    }

    /** x (h, w, c) -> swish conv 1x1 -> a; squeeze-and-excitation: pool, reshape (1, 1, c), sigmoid conv -> s; a * s. */
    private static Model seModel(boolean smallFirst, int h, int w, int c) {
        Tensor in = Input(h, w, c);
        Tensor a = new Conv2D(c, 1, 1, "a").activation("swish").on(in);
        Tensor s = GlobalAveragePooling2D("squeeze").on(a);
        s = Reshape(new long[]{1, 1, c}, "reshape").on(s);
        s = new Conv2D(c, 1, 1, "excite").activation("sigmoid").on(s);
        Tensor y = smallFirst ? Multiply("mul").on(s, a) : Multiply("mul").on(a, s);
        Tensor z = Activation("swish", "act").on(y);
        return Model.of(in, z);
    }

    /** The same maths in plain double loops, from the layers' own weights. */
    private static double[] seReference(Model m, INDArray xIn) {
        double[] x = xIn.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        int n = (int) xIn.size(0);
        int h = (int) xIn.size(1);
        int w = (int) xIn.size(2);
        int c = (int) xIn.size(3);
        double[] ka = m.getLayer("a").getWeights().get(0).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] ba = m.getLayer("a").getWeights().get(1).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] ke = m.getLayer("excite").getWeights().get(0).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] be = m.getLayer("excite").getWeights().get(1).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] out = new double[n * h * w * c];
        for (int b = 0; b < n; b++) {
            double[] a = new double[h * w * c];
            double[] mean = new double[c];
            for (int p = 0; p < h * w; p++) {
                for (int o = 0; o < c; o++) {
                    double v = ba[o];
                    for (int i = 0; i < c; i++) {
                        v += x[(b * h * w + p) * c + i] * ka[i * c + o];
                    }
                    a[p * c + o] = swish(v);
                    mean[o] += a[p * c + o] / (h * w);
                }
            }
            double[] s = new double[c];
            for (int o = 0; o < c; o++) {
                double v = be[o];
                for (int i = 0; i < c; i++) {
                    v += mean[i] * ke[i * c + o];
                }
                s[o] = sigmoid(v);
            }
            for (int p = 0; p < h * w; p++) {
                for (int o = 0; o < c; o++) {
                    out[(b * h * w + p) * c + o] = swish(a[p * c + o] * s[o]);
                }
            }
        }
        return out;
    }

    @Test
    void squeezeAndExcitationOnBothEnginesMatchesPlainLoops() {
        Nd4j.getRandom().setSeed(4);
        // 26x22x24: a size where oneDNN 2.5's broadcast multiply is its reference loop and the plan splits it per image
        for (int[] hwc : new int[][]{{5, 4, 6}, {26, 22, 24}})
        for (boolean smallFirst : new boolean[]{false, true}) {
            INDArray x = Nd4j.randn(DataType.FLOAT, 3, hwc[0], hwc[1], hwc[2]);
            Model m = seModel(smallFirst, hwc[0], hwc[1], hwc[2]);
            assertEquals(Shape.of(hwc[0], hwc[1], hwc[2]), m.outputShape());
            assertTrue(Inference.describe(m).startsWith("oneDNN plan"), "the fast plan should cover it: " + Inference.describe(m));
            double[] want = seReference(m, x);
            double fast = relError(want, m.predict(x));
            double dl4j = relError(want, Dl4jEngine.get().newNetwork(m).outputSingle(false, x.dup()));
            System.out.printf("squeeze-and-excitation %s (small input %s): relative error plan %.2e, DL4J %.2e%n",
                    java.util.Arrays.toString(hwc), smallFirst ? "first" : "second", fast, dl4j);
            assertTrue(fast < 1e-5, "oneDNN plan: " + fast);
            assertTrue(dl4j < 1e-5, "DL4J: " + dl4j);
        }
    }

    @Test
    void sameShapeMultiplyAndShapeRules() {
        Tensor in = Input(3, 3, 2);
        Tensor a = Activation("tanh", "t").on(in);
        Model m = Model.of(in, Multiply("m").on(in, a));
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 3, 2);
        double[] xs = x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] want = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            want[i] = xs[i] * Math.tanh(xs[i]);
        }
        assertTrue(relError(want, m.predict(x)) < 1e-6);
        assertTrue(relError(want, Dl4jEngine.get().newNetwork(m).outputSingle(false, x.dup())) < 1e-6);
        // Keras's rules: the same rank, each axis equal or 1
        var e = assertThrows(IllegalArgumentException.class, () -> Multiply("bad").on(Input(4, 4, 3), Input(1, 1, 2)));
        assertTrue(e.getMessage().contains("bad") && e.getMessage().contains("broadcast"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Multiply("rank").on(Input(4, 4, 3), Input(3)));
        assertThrows(IllegalArgumentException.class, () -> Multiply("one").on(Input(4, 4, 3)));
        assertEquals(Shape.of(4, 4, 3), Multiply().on(Input(1, 1, 3), Input(4, 4, 3)).shape());
    }

    @Test
    void swishStandaloneAndFusedMatchesPlainLoops() {
        Tensor in = Input(4, 4, 3);
        Conv2D conv = new Conv2D(3, 1, 1, "conv").activation("swish");
        Tensor y = conv.on(in);
        y = Activation("swish", "again").on(y);
        Model m = Model.of(in, y);
        Nd4j.getRandom().setSeed(6);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 4, 4, 3).muli(3);
        double[] xs = x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] k = conv.getWeights().get(0).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] b = conv.getWeights().get(1).castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] want = new double[xs.length];
        for (int p = 0; p < xs.length / 3; p++) {
            for (int o = 0; o < 3; o++) {
                double v = b[o];
                for (int i = 0; i < 3; i++) {
                    v += xs[p * 3 + i] * k[i * 3 + o];
                }
                want[p * 3 + o] = swish(swish(v));
            }
        }
        assertTrue(Inference.describe(m).startsWith("oneDNN plan"), Inference.describe(m));
        assertTrue(relError(want, m.predict(x)) < 1e-5, "plan");
        assertTrue(relError(want, Dl4jEngine.get().newNetwork(m).outputSingle(false, x.dup())) < 1e-5, "DL4J");
    }

    @Test
    void gradientsThroughMultiplyAndSwishMatchFiniteDifferences() {
        io.transferlab.runtime.Backend.init();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        Shape in = Shape.of(4, 3, 2);
        Conv2D a = new Conv2D(3, 3, 3, "a").padding("same").activation("swish");
        Shape aOut = a.computeOutputShape(List.of(in));                          // (4, 3, 3)
        GlobalAveragePooling2D pool = new GlobalAveragePooling2D("pool");
        Reshape reshape = new Reshape(new long[]{1, 1, 3}, "reshape");
        Conv2D excite = new Conv2D(3, 1, 1, "excite").activation("sigmoid");
        Shape small = Shape.of(1, 1, 3);
        Multiply mul = new Multiply("mul");
        Activation act = new Activation("swish", "act");
        Multiply square = new Multiply("square");                                  // same shapes: both gradients
        Reshape flat = new Reshape(new long[]{aOut.size()}, "flat");
        var gb = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(3).updater(new NoOp())
                .graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(4, 3, 2, CNN2DFormat.NHWC))
                .addLayer("a", layer(a, in), "in")
                .addLayer("pool", layer(pool, aOut), "a")
                .addVertex("reshape", vertex(reshape, Shape.of(3)), "pool")
                .addLayer("excite", layer(excite, small), "reshape")
                .addVertex("mul", vertex(mul, aOut, small), "a", "excite")
                .addLayer("act", layer(act, aOut), "mul")
                .addVertex("square", vertex(square, aOut, aOut), "act", "a")
                .addVertex("flat", vertex(flat, aOut), "square")
                .addLayer("loss", new LossLayer.Builder(LossFunctions.LossFunction.MSE)
                        .activation(org.nd4j.linalg.activations.Activation.IDENTITY).build(), "flat")
                .setOutputs("loss");
        ComputationGraph g = new ComputationGraph(gb.build());
        g.init();
        Nd4j.getRandom().setSeed(12);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 4, 3, 2).subi(0.5).muli(2);
        INDArray y = Nd4j.rand(DataType.DOUBLE, 3, aOut.size());
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{x}).labels(new INDArray[]{y})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
        assertTrue(ok, "gradients through Multiply (broadcast and same shape) and swish differ from finite differences");
    }

    private static org.deeplearning4j.nn.conf.layers.Layer layer(Layer l, Shape in) {
        return (org.deeplearning4j.nn.conf.layers.Layer) Dl4jLowering.part(l, List.of(in));
    }

    private static GraphVertex vertex(Layer l, Shape... in) {
        return (GraphVertex) Dl4jLowering.part(l, List.of(in));
    }

    @Test
    void dropConnectDropsWholeExamplesInTrainingOnly() {
        Tensor in = Input(3, 3, 4);
        Dropout drop = Dropout(0.5, "drop").noiseShape(Shape.NONE, 1, 1, 1);
        Model m = Model.of(in, Add("add").on(drop.on(in), in));
        INDArray x = Nd4j.ones(DataType.FLOAT, 64, 3, 3, 4);
        // inference: the identity on both engines, the plan keeps it out of its steps
        assertTrue(Inference.describe(m).startsWith("oneDNN plan"), Inference.describe(m));
        assertEquals(2.0, m.predict(x).minNumber().doubleValue(), 1e-6);
        assertEquals(2.0, m.predict(x).maxNumber().doubleValue(), 1e-6);
        ComputationGraph g = Dl4jEngine.get().newNetwork(m);
        assertEquals(0.0, g.outputSingle(false, x.dup()).sub(2).norm2Number().doubleValue(), 1e-6);
        // training: each example is all 1 (dropped: 0 + 1) or all 3 (kept, scaled by 1 / (1 - 0.5), + 1)
        Nd4j.getRandom().setSeed(3);
        INDArray t = g.outputSingle(true, x.dup());
        int dropped = 0;
        for (int n = 0; n < 64; n++) {
            INDArray e = t.get(org.nd4j.linalg.indexing.NDArrayIndex.point(n));
            double lo = e.minNumber().doubleValue();
            double hi = e.maxNumber().doubleValue();
            assertEquals(lo, hi, 1e-6, "example " + n + " is not dropped as a whole");
            assertTrue(Math.abs(lo - 1) < 1e-6 || Math.abs(lo - 3) < 1e-6, "example " + n + ": " + lo);
            dropped += Math.abs(lo - 1) < 1e-6 ? 1 : 0;
        }
        assertTrue(dropped > 16 && dropped < 48, dropped + " of 64 dropped at rate 0.5");
        // backprop multiplies by the same per-example mask
        NoiseShapeDropout d = new NoiseShapeDropout(0.25, new long[]{-1, 1, 1, 1});
        INDArray input = Nd4j.rand(DataType.FLOAT, 8, 2, 2, 3).addi(1);
        INDArray out = d.applyDropout(input, Nd4j.createUninitialized(DataType.FLOAT, input.shape()), 0, 0,
                LayerWorkspaceMgr.noWorkspaces());
        INDArray grad = d.backprop(Nd4j.ones(DataType.FLOAT, input.shape()), Nd4j.createUninitialized(DataType.FLOAT, input.shape()), 0, 0);
        assertEquals(0.0, out.sub(input.mul(grad)).norm2Number().doubleValue(), 1e-5);
        for (int n = 0; n < 8; n++) {
            INDArray gn = grad.get(org.nd4j.linalg.indexing.NDArrayIndex.point(n));
            double v = gn.minNumber().doubleValue();
            assertEquals(v, gn.maxNumber().doubleValue(), 1e-6);
            assertTrue(Math.abs(v) < 1e-6 || Math.abs(v - 1 / 0.75) < 1e-5, "mask value " + v);
        }
        // Keras's noise_shape rules
        assertThrows(IllegalArgumentException.class, () -> Dropout(0.2, "bad").noiseShape(Shape.NONE, 1, 1).on(Input(3, 3, 4)));
        assertThrows(IllegalArgumentException.class, () -> Dropout(0.2, "bad2").noiseShape(Shape.NONE, 2, 1, 1).on(Input(3, 3, 4)));
    }
}
