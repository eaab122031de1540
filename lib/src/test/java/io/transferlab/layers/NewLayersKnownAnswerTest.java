package io.transferlab.layers;

import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.models.Model;
import io.transferlab.runtime.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Known answers for the layers MobileNet and friends need: each network output is checked against a plain-loop
 * Java implementation of Keras's definition (channels-last), to 1e-4 relative. The largest absolute error per
 * test is printed at the end.
 */
class NewLayersKnownAnswerTest {
    private static final Random RNG = new Random(11);
    private static final Map<String, Double> MAX_ERRORS = new TreeMap<>();

    @AfterEach
    void helpersBackOn() {
        Backend.setHelpersEnabled(true);
    }

    @AfterAll
    static void report() {
        MAX_ERRORS.forEach((k, v) -> System.out.printf(Locale.ROOT, "max abs error %-40s %.3g%n", k, v));
    }

    // ---- helpers ----

    static INDArray random(double scale, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (RNG.nextGaussian() * scale);
        }
        return Nd4j.create(v, shape, 'c');
    }

    static INDArray positive(long... shape) {
        INDArray a = random(1, shape);
        return Nd4j.create(java.util.Arrays.stream(a.reshape(-1).toDoubleVector()).map(x -> 0.2 + Math.abs(x)).toArray(), shape, 'c')
                .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    /** Compares every value, 1e-4 relative (absolute below 1), and records the largest absolute error. */
    static void assertClose(String what, double[] want, INDArray got) {
        double[] g = got.dup('c').reshape(-1).toDoubleVector();
        assertEquals(want.length, g.length, what + ": number of values");
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs(want[i] - g[i]);
            max = Math.max(max, err);
            assertTrue(err <= 1e-4 * Math.max(1, Math.abs(want[i])),
                    what + ": value " + i + " is " + g[i] + ", Keras's definition gives " + want[i]);
        }
        MAX_ERRORS.merge(what, max, Math::max);
    }

    /** x[n][h][w][c] of an NHWC array as a flat index. */
    static int idx(long[] shape, int n, int h, int w, int c) {
        return (int) (((n * shape[1] + h) * shape[2] + w) * shape[3] + c);
    }

    /** TensorFlow's "same" padding before the data: total = max((out-1)*s + k - in, 0), the smaller half first. */
    static int samePadBefore(int in, int k, int s) {
        int out = (in + s - 1) / s;
        return Math.max((out - 1) * s + k - in, 0) / 2;
    }

    // ---- BatchNormalization ----

    static double[] batchNormRef(INDArray x, INDArray gamma, INDArray beta, INDArray mean, INDArray var, double eps) {
        double[] v = x.dup('c').reshape(-1).toDoubleVector();
        int c = (int) x.size(x.rank() - 1);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int ch = i % c;
            double g = gamma == null ? 1 : gamma.getDouble(ch);
            double b = beta == null ? 0 : beta.getDouble(ch);
            out[i] = g * (v[i] - mean.getDouble(ch)) / Math.sqrt(var.getDouble(ch) + eps) + b;
        }
        return out;
    }

    @Test
    void batchNormalizationOnImagesIsKerasInference() {
        for (boolean helpers : new boolean[]{true, false}) {
            Backend.setHelpersEnabled(helpers);
            Tensor in = Layers.Input(5, 4, 6);
            BatchNormalization bn = new BatchNormalization("bn");
            Model m = Model.of(in, bn.on(in));
            INDArray g = random(1, 6), b = random(1, 6), mean = random(1, 6), var = positive(6);
            bn.setWeights(List.of(g, b, mean, var));
            INDArray x = random(2, 3, 5, 4, 6);
            assertClose("BatchNormalization image, helpers " + helpers, batchNormRef(x, g, b, mean, var, 1e-3),
                    Dl4jEngine.get().newNetwork(m).outputSingle(false, x));
        }
    }

    @Test
    void batchNormalizationWithoutScaleOrCenterAndOnFlatInput() {
        Tensor in = Layers.Input(4, 4, 5);
        BatchNormalization bn = new BatchNormalization("bn_noscale").scale(false).epsilon(1e-2);
        Model m = Model.of(in, bn.on(in));
        assertEquals(List.of("beta", "moving_mean", "moving_variance"),
                bn.weightSpecs().stream().map(WeightSpec::name).toList());
        assertEquals(15, m.countParams());
        assertEquals(5, m.trainableParams());
        assertEquals(10, m.nonTrainableParams());
        INDArray b = random(1, 5), mean = random(1, 5), var = positive(5);
        bn.setWeights(List.of(b, mean, var));
        INDArray x = random(2, 2, 4, 4, 5);
        assertClose("BatchNormalization scale=False", batchNormRef(x, null, b, mean, var, 1e-2), m.predict(x));
        // DL4J keeps a gamma of ones that Keras does not count
        assertEquals(m.countParams() + 5, Dl4jEngine.get().network(m).numParams());
        assertEquals(3, Dl4jEngine.get().readWeights(m, bn).size()); // DL4J's gamma is not read back
        assertEquals(b, Dl4jEngine.get().readWeights(m, bn).get(0));

        Tensor in2 = Layers.Input(7);
        BatchNormalization flat = new BatchNormalization("bn_flat").center(false);
        Model m2 = Model.of(in2, flat.on(in2));
        INDArray g2 = random(1, 7), mean2 = random(1, 7), var2 = positive(7);
        flat.setWeights(List.of(g2, mean2, var2));
        INDArray x2 = random(2, 4, 7);
        assertClose("BatchNormalization flat center=False", batchNormRef(x2, g2, null, mean2, var2, 1e-3), m2.predict(x2));
    }

    @Test
    void frozenBatchNormalizationRunsOnItsMovingStatistics() {
        Tensor in = Layers.Input(3, 3, 4);
        BatchNormalization bn = new BatchNormalization("bn_frozen");
        Model m = Model.of(in, bn.on(in));
        INDArray g = random(1, 4), b = random(1, 4), mean = random(1, 4), var = positive(4);
        bn.setWeights(List.of(g, b, mean, var));
        m.freeze();
        INDArray x = random(1, 2, 3, 3, 4);
        assertClose("BatchNormalization frozen", batchNormRef(x, g, b, mean, var, 1e-3), m.predict(x));
        assertEquals(0, m.trainableParams());
    }

    // ---- activations ----

    @Test
    void reluVariantsAndActivationLayer() {
        Tensor in = Layers.Input(3, 4, 5);
        Model relu6 = Model.of(in, Layers.ReLU(6.0, "relu6").on(in));
        INDArray x = random(5, 2, 3, 4, 5);
        double[] v = x.dup('c').reshape(-1).toDoubleVector();
        INDArray before = x.dup();
        assertClose("ReLU(6)", java.util.Arrays.stream(v).map(a -> Math.min(6, Math.max(0, a))).toArray(), relu6.predict(x));
        assertEquals(before, x, "predict must leave its input alone (DL4J's ActivationLayer works in place)");

        Tensor in2 = Layers.Input(3, 4, 5);
        Model leaky = Model.of(in2, new ReLU(null, "leaky").negativeSlope(0.1).on(in2));
        assertClose("ReLU(negative_slope=0.1)", java.util.Arrays.stream(v).map(a -> a >= 0 ? a : 0.1 * a).toArray(),
                leaky.predict(x));

        Tensor in3 = Layers.Input(3, 4, 5);
        Model thr = Model.of(in3, new ReLU(4.0, "thr").threshold(1.0).negativeSlope(0.2).on(in3));
        assertClose("ReLU(4, slope 0.2, threshold 1)",
                java.util.Arrays.stream(v).map(a -> a >= 4 ? 4 : a >= 1 ? a : 0.2 * (a - 1)).toArray(), thr.predict(x));

        Tensor in4 = Layers.Input(3, 4, 5);
        Model sig = Model.of(in4, Layers.Activation("sigmoid", "sig").on(in4));
        assertClose("Activation(sigmoid)", java.util.Arrays.stream(v).map(a -> 1 / (1 + Math.exp(-a))).toArray(),
                sig.predict(x));

        Tensor in5 = Layers.Input(6);
        Model soft = Model.of(in5, Layers.Activation("softmax", "soft").on(in5));
        INDArray y = random(2, 3, 6);
        double[] want = new double[18];
        for (int n = 0; n < 3; n++) {
            double sum = 0;
            for (int j = 0; j < 6; j++) {
                sum += Math.exp(y.getDouble(n, j));
            }
            for (int j = 0; j < 6; j++) {
                want[n * 6 + j] = Math.exp(y.getDouble(n, j)) / sum;
            }
        }
        assertClose("Activation(softmax)", want, soft.predict(y));
        var e = assertThrows(IllegalArgumentException.class, () -> Layers.Activation("softmax", "s2").on(Layers.Input(2, 2, 3)));
        assertTrue(e.getMessage().contains("flat"), e.getMessage());
    }

    // ---- ZeroPadding2D ----

    @Test
    void zeroPaddingAddsZerosWhereKerasDoes() {
        Tensor in = Layers.Input(3, 4, 2);
        Model m = Model.of(in, Layers.ZeroPadding2D(1, 2, 0, 3, "pad").on(in));
        assertEquals(Shape.of(6, 7, 2), m.outputShape());
        INDArray x = random(1, 2, 3, 4, 2);
        long[] os = {2, 6, 7, 2};
        double[] want = new double[2 * 6 * 7 * 2];
        for (int n = 0; n < 2; n++) {
            for (int h = 0; h < 3; h++) {
                for (int w = 0; w < 4; w++) {
                    for (int c = 0; c < 2; c++) {
                        want[idx(os, n, h + 1, w, c)] = x.getDouble(n, h, w, c);
                    }
                }
            }
        }
        assertClose("ZeroPadding2D((1,2),(0,3))", want, m.predict(x));
    }

    // ---- DepthwiseConv2D ----

    static double[] depthwiseRef(INDArray x, INDArray k, INDArray bias, int sh, int sw, boolean same, long[] outShape) {
        int n = (int) x.size(0), h = (int) x.size(1), w = (int) x.size(2), cin = (int) x.size(3);
        int kh = (int) k.size(0), kw = (int) k.size(1), mult = (int) k.size(3);
        int oh = (int) outShape[1], ow = (int) outShape[2];
        int pt = same ? samePadBefore(h, kh, sh) : 0, pl = same ? samePadBefore(w, kw, sw) : 0;
        double[] out = new double[n * oh * ow * cin * mult];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < oh; r++) {
                for (int q = 0; q < ow; q++) {
                    for (int c = 0; c < cin; c++) {
                        for (int m = 0; m < mult; m++) {
                            double s = bias == null ? 0 : bias.getDouble(c * mult + m);
                            for (int dr = 0; dr < kh; dr++) {
                                for (int dq = 0; dq < kw; dq++) {
                                    int rr = r * sh + dr - pt, qq = q * sw + dq - pl;
                                    if (rr >= 0 && rr < h && qq >= 0 && qq < w) {
                                        s += x.getDouble(i, rr, qq, c) * k.getDouble(dr, dq, c, m);
                                    }
                                }
                            }
                            out[idx(outShape, i, r, q, c * mult + m)] = s;
                        }
                    }
                }
            }
        }
        return out;
    }

    @Test
    void depthwiseConvolutionMatchesKeras() {
        for (boolean same : new boolean[]{true, false}) {
            for (int stride : new int[]{1, 2}) {
                Tensor in = Layers.Input(7, 6, 3);
                DepthwiseConv2D dw = new DepthwiseConv2D(3, 3, "dw").depthMultiplier(2).strides(stride, stride)
                        .padding(same ? "same" : "valid");
                Model m = Model.of(in, dw.on(in));
                assertEquals(List.of("depthwise_kernel", "bias"), dw.weightSpecs().stream().map(WeightSpec::name).toList());
                INDArray k = random(0.5, 3, 3, 3, 2), b = random(0.5, 6);
                dw.setWeights(List.of(k, b));
                INDArray x = random(1, 2, 7, 6, 3);
                long[] os = m.outputShape().withBatch(2);
                assertClose("DepthwiseConv2D " + (same ? "same" : "valid") + " stride " + stride,
                        depthwiseRef(x, k, b, stride, stride, same, os), m.predict(x));
                // and back out of the network in Keras's layout
                assertEquals(k, Dl4jEngine.get().readWeights(m, dw).get(0));
            }
        }
        Tensor in = Layers.Input(8, 8, 4);
        DepthwiseConv2D nobias = new DepthwiseConv2D(3, 3, "dw_nobias").useBias(false);
        Model m = Model.of(in, nobias.on(Layers.ZeroPadding2D(0, 1, 0, 1, "pad1").on(in)));
        // MobileNet's strided block: ZeroPadding2D((0,1),(0,1)) then a valid 3x3 stride-2 convolution
        Tensor in2 = Layers.Input(8, 8, 4);
        DepthwiseConv2D strided = new DepthwiseConv2D(3, 3, "dw_s2").useBias(false).strides(2, 2);
        Model m2 = Model.of(in2, strided.on(Layers.ZeroPadding2D(0, 1, 0, 1, "pad2").on(in2)));
        assertEquals(Shape.of(4, 4, 4), m2.outputShape());
        INDArray k = random(0.5, 3, 3, 4, 1);
        strided.setWeights(List.of(k));
        nobias.setWeights(List.of(k));
        INDArray x = random(1, 1, 8, 8, 4);
        assertClose("DepthwiseConv2D pad(0,1)+valid stride 2", depthwiseRef(x, k, null, 2, 2, true, new long[]{1, 4, 4, 4}),
                m2.predict(x));
        assertEquals(Shape.of(7, 7, 4), m.outputShape());
    }

    // ---- pooling ----

    static double[] avgPoolRef(INDArray x, int k, int s, boolean same, long[] os) {
        int h = (int) x.size(1), w = (int) x.size(2), c = (int) x.size(3);
        int pt = same ? samePadBefore(h, k, s) : 0, pl = same ? samePadBefore(w, k, s) : 0;
        double[] out = new double[(int) (os[0] * os[1] * os[2] * os[3])];
        for (int n = 0; n < os[0]; n++) {
            for (int r = 0; r < os[1]; r++) {
                for (int q = 0; q < os[2]; q++) {
                    for (int ch = 0; ch < c; ch++) {
                        double sum = 0;
                        int count = 0;
                        for (int dr = 0; dr < k; dr++) {
                            for (int dq = 0; dq < k; dq++) {
                                int rr = r * s + dr - pt, qq = q * s + dq - pl;
                                if (rr >= 0 && rr < h && qq >= 0 && qq < w) {
                                    sum += x.getDouble(n, rr, qq, ch);
                                    count++;
                                }
                            }
                        }
                        out[idx(os, n, r, q, ch)] = sum / count; // Keras: padding is not counted
                    }
                }
            }
        }
        return out;
    }

    @Test
    void averagePoolingExcludesPaddingLikeKeras() {
        for (boolean helpers : new boolean[]{true, false}) {
            Backend.setHelpersEnabled(helpers);
            for (boolean same : new boolean[]{true, false}) {
                Tensor in = Layers.Input(5, 6, 3);
                AveragePooling2D pool = new AveragePooling2D(3, 3, "avg").strides(2, 2).padding(same ? "same" : "valid");
                Model m = Model.of(in, pool.on(in));
                INDArray x = random(1, 2, 5, 6, 3);
                long[] os = m.outputShape().withBatch(2);
                assertClose("AveragePooling2D 3x3/2 " + (same ? "same" : "valid") + ", helpers " + helpers,
                        avgPoolRef(x, 3, 2, same, os), Dl4jEngine.get().newNetwork(m).outputSingle(false, x));
            }
        }
    }

    @Test
    void globalPoolingGivesOneValuePerChannel() {
        Tensor in = Layers.Input(4, 5, 3);
        Model avg = Model.of(in, Layers.GlobalAveragePooling2D("gap").on(in));
        Tensor in2 = Layers.Input(4, 5, 3);
        Model max = Model.of(in2, Layers.GlobalMaxPooling2D("gmp").on(in2));
        assertEquals(Shape.of(3), avg.outputShape());
        INDArray x = random(1, 2, 4, 5, 3);
        double[] wantAvg = new double[6], wantMax = new double[6];
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 3; c++) {
                double s = 0, mx = Double.NEGATIVE_INFINITY;
                for (int h = 0; h < 4; h++) {
                    for (int w = 0; w < 5; w++) {
                        s += x.getDouble(n, h, w, c);
                        mx = Math.max(mx, x.getDouble(n, h, w, c));
                    }
                }
                wantAvg[n * 3 + c] = s / 20;
                wantMax[n * 3 + c] = mx;
            }
        }
        assertClose("GlobalAveragePooling2D", wantAvg, avg.predict(x));
        assertClose("GlobalMaxPooling2D", wantMax, max.predict(x));
    }

    // ---- merging ----

    @Test
    void concatenateAndAddOnChannels() {
        Tensor in = Layers.Input(3, 4, 2);
        Tensor a = Layers.Activation("sigmoid", "branch_a").on(in);
        Tensor b = Layers.ReLU(6.0, "branch_b").on(in);
        Tensor c = Layers.ZeroPadding2D(0, 0, 0, 0, "branch_c").on(in);
        Tensor cat = Layers.Concatenate("cat").on(a, b, c);
        assertEquals(Shape.of(3, 4, 6), cat.shape());
        Model mc = Model.of(in, cat);
        INDArray x = random(3, 2, 3, 4, 2);
        long[] os = {2, 3, 4, 6};
        double[] want = new double[2 * 3 * 4 * 6];
        double[] wantAdd = new double[2 * 3 * 4 * 2];
        for (int n = 0; n < 2; n++) {
            for (int h = 0; h < 3; h++) {
                for (int w = 0; w < 4; w++) {
                    for (int ch = 0; ch < 2; ch++) {
                        double v = x.getDouble(n, h, w, ch);
                        double sa = 1 / (1 + Math.exp(-v)), sb = Math.min(6, Math.max(0, v));
                        want[idx(os, n, h, w, ch)] = sa;
                        want[idx(os, n, h, w, 2 + ch)] = sb;
                        want[idx(os, n, h, w, 4 + ch)] = v;
                        wantAdd[idx(new long[]{2, 3, 4, 2}, n, h, w, ch)] = sa + sb;
                    }
                }
            }
        }
        assertClose("Concatenate (channels)", want, mc.predict(x));

        Tensor in2 = Layers.Input(3, 4, 2);
        Tensor sum = Layers.add(Layers.Activation("sigmoid", "add_a").on(in2), Layers.ReLU(6.0, "add_b").on(in2));
        assertClose("Add", wantAdd, Model.of(in2, sum).predict(x));

        var e = assertThrows(IllegalArgumentException.class, () -> Layers.Add("bad_add").on(in2, Layers.GlobalAveragePooling2D("g").on(in2)));
        assertTrue(e.getMessage().contains("same shape"), e.getMessage());

        Tensor f = Layers.Input(3);
        Tensor g = Layers.Activation("tanh", "t").on(f);
        Model flat = Model.of(f, Layers.concatenate(f, g));
        INDArray y = random(1, 2, 3);
        double[] wantFlat = new double[12];
        for (int n = 0; n < 2; n++) {
            for (int j = 0; j < 3; j++) {
                wantFlat[n * 6 + j] = y.getDouble(n, j);
                wantFlat[n * 6 + 3 + j] = Math.tanh(y.getDouble(n, j));
            }
        }
        assertClose("Concatenate (flat)", wantFlat, flat.predict(y));
    }

    // ---- Reshape: MobileNet's top ----

    @Test
    void mobileNetTopWithReshapesMatchesKeras() {
        int c = 5, classes = 4;
        Tensor in = Layers.Input(3, 3, c);
        Tensor x = Layers.GlobalAveragePooling2D("gap_top").on(in);
        x = Layers.Reshape(new long[]{1, 1, c}, "reshape_1").on(x);
        assertEquals(Shape.of(1, 1, c), x.shape());
        x = Layers.Dropout(0.001, "dropout").on(x);
        Conv2D preds = new Conv2D(classes, 1, 1, "conv_preds").padding("same");
        x = preds.on(x);
        x = Layers.Reshape(new long[]{classes}, "reshape_2").on(x);
        x = Layers.Activation("softmax", "predictions").on(x);
        Model m = Model.of(in, x);
        INDArray k = random(0.5, 1, 1, c, classes), bias = random(0.5, classes);
        preds.setWeights(List.of(k, bias));
        INDArray input = random(1, 3, 3, 3, c);
        double[] want = new double[3 * classes];
        for (int n = 0; n < 3; n++) {
            double[] pooled = new double[c];
            for (int ch = 0; ch < c; ch++) {
                for (int h = 0; h < 3; h++) {
                    for (int w = 0; w < 3; w++) {
                        pooled[ch] += input.getDouble(n, h, w, ch) / 9;
                    }
                }
            }
            double[] logits = new double[classes];
            double sum = 0;
            for (int o = 0; o < classes; o++) {
                logits[o] = bias.getDouble(o);
                for (int ch = 0; ch < c; ch++) {
                    logits[o] += pooled[ch] * k.getDouble(0, 0, ch, o);
                }
                sum += Math.exp(logits[o]);
            }
            for (int o = 0; o < classes; o++) {
                want[n * classes + o] = Math.exp(logits[o]) / sum;
            }
        }
        assertClose("GAP > Reshape > Conv2D 1x1 > Reshape > softmax", want, m.predict(input));

        Tensor in2 = Layers.Input(2, 3, 4);
        Model r = Model.of(in2, Layers.Reshape(new long[]{4, -1}, "r").on(in2));
        assertEquals(Shape.of(4, 6), r.outputShape());
        var e = assertThrows(IllegalArgumentException.class, () -> Layers.Reshape(5).on(Layers.Input(2, 3)));
        assertTrue(e.getMessage().contains("must equal"), e.getMessage());
    }

    @Test
    void defaultNamesAreKeras() {
        Names.reset();
        assertEquals("batch_normalization", Layers.BatchNormalization().name());
        assertEquals("re_lu", Layers.ReLU(6.0).name());
        assertEquals("depthwise_conv2d", Layers.DepthwiseConv2D(3).name());
        assertEquals("global_average_pooling2d", Layers.GlobalAveragePooling2D().name());
        assertEquals("zero_padding2d", Layers.ZeroPadding2D(1).name());
        assertEquals("average_pooling2d", Layers.AveragePooling2D(2).name());
        assertEquals("concatenate", Layers.Concatenate().name());
        assertEquals("add", Layers.Add().name());
        assertEquals("reshape", Layers.Reshape(3).name());
        assertEquals("activation", Layers.Activation("relu").name());
        assertEquals("batch_normalization_1", Layers.BatchNormalization().name());
    }
}
