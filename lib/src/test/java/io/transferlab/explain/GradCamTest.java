package io.transferlab.explain;

import io.transferlab.engine.Engines;
import io.transferlab.engine.api.LayerGradient;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.report.Plots;
import io.transferlab.runtime.Backend;
import io.transferlab.train.History;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Grad-CAM: the engine's layer gradients against central finite differences in double precision (through
 * batch norm, a residual Add whose input feeds two layers, dropout, pooling, a nested model) and against the
 * closed form of conv -> GlobalAveragePooling -> Dense; the heatmap of a small CNN trained on synthetic images
 * lands on the pattern that makes the class; a layer without a 4-D output is refused with the layers that qualify.
 */
class GradCamTest {

    private static INDArray randomWeights(Layer l, Random r, double scale) {
        List<INDArray> out = new ArrayList<>();
        for (INDArray w : l.getWeights()) {
            INDArray v = Nd4j.create(DataType.FLOAT, w.shape());
            for (long i = 0; i < v.length(); i++) {
                v.putScalar(i, (r.nextDouble() * 2 - 1) * scale);
            }
            out.add(v);
        }
        l.setWeights(out);
        return null;
    }

    /** The head after the target layer: conv, a residual Add with the target, batch norm, pooling, dense, dropout. */
    private static Tensor head(Tensor a, Conv2D conv3, io.transferlab.layers.Add add, BatchNormalization bn2,
                               Dense fc, io.transferlab.layers.Dropout drop, Dense out) {
        Tensor t = conv3.on(a);
        t = add.on(a, t);
        t = bn2.on(t);
        t = MaxPooling2D(2, "pool").on(t);
        t = Flatten("flat").on(t);
        t = fc.on(t);
        t = drop.on(t);
        return out.on(t);
    }

    @Test
    void layerGradientsMatchFiniteDifferencesInDoublePrecision() {
        Backend.init();
        Random r = new Random(11);
        // a nested base: conv1 -> batch norm -> conv2 (the target, 4-D output (6, 4, 4))
        Tensor bin = Input(6, 4, 2);
        Conv2D conv1 = new Conv2D(3, 3, 3, "conv1").padding("same").activation("tanh");
        BatchNormalization bn1 = new BatchNormalization("bn1");
        Conv2D conv2 = new Conv2D(4, 3, 3, "conv2").padding("same").activation("tanh");
        Model base = Model.of("base", bin, conv2.on(bn1.on(conv1.on(bin))));
        Conv2D conv3 = new Conv2D(4, 3, 3, "conv3").padding("same").activation("tanh");
        var add = Add("add");
        BatchNormalization bn2 = new BatchNormalization("bn2");
        Dense fc = Dense(5, "tanh", "fc");
        var drop = Dropout(0.5, "drop");
        Dense out = Dense(3, "softmax", "predictions");
        Tensor in = Input(6, 4, 2);
        Model model = Model.of("nested", in, head(base.on(in), conv3, add, bn2, fc, drop, out));
        for (Layer l : List.of(conv1, conv2, conv3, fc, out)) {
            randomWeights(l, r, 0.6);
        }
        for (BatchNormalization bn : List.of(bn1, bn2)) { // gamma, beta, moving mean, moving variance
            List<INDArray> w = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                INDArray v = Nd4j.create(DataType.FLOAT, bn.getWeights().get(k).shape());
                for (long i = 0; i < v.length(); i++) {
                    v.putScalar(i, k == 3 ? 0.5 + r.nextDouble() : (r.nextDouble() * 2 - 1) * 0.5 + (k == 0 ? 1 : 0));
                }
                w.add(v);
            }
            bn.setWeights(w);
        }
        // the part after conv2, on its own input, sharing the layers: its logits as a function of conv2's output
        Tensor ain = Input(6, 4, 4);
        Model after = Model.of("after", ain, head(ain, conv3, add, bn2, fc, drop, out));
        LayerGradient headForward = Engines.layerGradient(after, "conv3", true);

        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 6, 4, 2).subi(0.5).muli(2);
        // example 0: class 2's logit; example 1: a mixture of all three logits
        INDArray w = Nd4j.create(new double[][]{{0, 0, 1}, {0.7, -1.3, 0.4}});
        LayerGradient g = Engines.layerGradient(model, "conv2", true);
        LayerGradient.Result res = g.compute(x, w);
        assertEquals(DataType.DOUBLE, res.gradients().dataType());
        assertArrayEquals(new long[]{2, 6, 4, 4}, res.gradients().shape());

        // the activations equal the base's own output, and the outputs are the logits
        INDArray a = res.activations();
        INDArray logits = headForward.compute(a, Nd4j.zeros(DataType.DOUBLE, 2, 3)).outputs();
        assertTrue(logits.equalsWithEps(res.outputs(), 1e-12), "outputs are the head's logits");
        // and the same forward pass as inference: conv2's output is the base's prediction, softmax of the logits the model's
        INDArray baseOut = base.predict(x.castTo(DataType.FLOAT));
        assertTrue(baseOut.castTo(DataType.DOUBLE).equalsWithEps(a, 1e-5), "activations are the base's output");
        INDArray probs = org.nd4j.linalg.ops.transforms.Transforms.softmax(res.outputs(), true);
        assertTrue(model.predict(x.castTo(DataType.FLOAT)).castTo(DataType.DOUBLE).equalsWithEps(probs, 1e-5),
                "softmax of the logits is the model's prediction");

        // every entry of every example moved by +h and by -h, all in one batch: rows 2e and 2e+1 for entry e
        double h = 1e-6, worst = 0, maxGrad = 0;
        long per = a.length() / 2;
        INDArray moved = Nd4j.create(DataType.DOUBLE, 4 * per, 6, 4, 4);
        long[][] where = new long[(int) (2 * per)][];
        int e = 0;
        for (int n = 0; n < 2; n++) {
            for (long i = 0; i < a.size(1); i++) {
                for (long j = 0; j < a.size(2); j++) {
                    for (long c = 0; c < a.size(3); c++, e++) {
                        where[e] = new long[]{n, i, j, c};
                        for (int sign = 0; sign < 2; sign++) {
                            INDArray row = a.slice(n).dup();
                            row.putScalar(new long[]{i, j, c}, a.getDouble(n, i, j, c) + (sign == 0 ? h : -h));
                            moved.slice(2L * e + sign).assign(row);
                        }
                    }
                }
            }
        }
        INDArray z = headForward.compute(moved, Nd4j.zeros(DataType.DOUBLE, 4 * per, 3)).outputs();
        int checked = 0;
        for (e = 0; e < where.length; e++) {
            long[] at = where[e];
            int n = (int) at[0];
            double fd = 0;
            for (int k = 0; k < 3; k++) {
                fd += w.getDouble(n, k) * (z.getDouble(2L * e, k) - z.getDouble(2L * e + 1, k)) / (2 * h);
            }
            double an = res.gradients().getDouble(at);
            worst = Math.max(worst, Math.abs(an - fd) / Math.max(1e-3, Math.abs(fd) + Math.abs(an)));
            maxGrad = Math.max(maxGrad, Math.abs(an));
            checked++;
        }
        System.out.printf("finite differences: %d entries, max relative error %.2e, largest gradient %.3f%n",
                checked, worst, maxGrad);
        assertEquals(192, checked);
        assertTrue(maxGrad > 0.05, "the gradient is not trivially zero: " + maxGrad);
        assertTrue(worst < 1e-6, "gradient vs finite differences, worst relative error " + worst);
    }

    /** conv (valid, relu) -> GlobalAveragePooling2D -> Dense: d logit_k / d A_ij^c = W[c][k] / (H * W). */
    private static Model gapModel(int units, String activation) {
        Tensor in = Input(9, 7, 3);
        Tensor t = new Conv2D(5, 3, 3, "conv").activation("relu").on(in);
        t = GlobalAveragePooling2D("gap").on(t);
        return Model.of("gap_model", in, Dense(units, activation, "predictions").on(t));
    }

    /** The conv layer's output with plain loops (valid padding, relu), from its Keras weights. */
    private static double[][][][] convByHand(Layer conv, INDArray x) {
        INDArray k = conv.getWeights().get(0), b = conv.getWeights().get(1);
        int n = (int) x.size(0), ho = (int) x.size(1) - 2, wo = (int) x.size(2) - 2, cin = 3, cout = 5;
        double[][][][] out = new double[n][ho][wo][cout];
        for (int e = 0; e < n; e++) {
            for (int i = 0; i < ho; i++) {
                for (int j = 0; j < wo; j++) {
                    for (int o = 0; o < cout; o++) {
                        double s = b.getDouble(o);
                        for (int di = 0; di < 3; di++) {
                            for (int dj = 0; dj < 3; dj++) {
                                for (int c = 0; c < cin; c++) {
                                    s += x.getDouble(e, i + di, j + dj, c) * k.getDouble(di, dj, c, o);
                                }
                            }
                        }
                        out[e][i][j][o] = Math.max(0, s);
                    }
                }
            }
        }
        return out;
    }

    @Test
    void gradientsAndHeatmapsMatchTheClosedFormOfGlobalAveragePooling() {
        Backend.init();
        for (DataType dt : List.of(DataType.DOUBLE, DataType.FLOAT)) {
            Model m = gapModel(4, "softmax");
            Nd4j.getRandom().setSeed(21);
            INDArray x = Nd4j.rand(dt, 3, 9, 7, 3).subi(0.3);
            GradCam cam = GradCam.of(m);
            assertEquals("conv", cam.layerName());
            assertTrue(cam.usesLogits());
            int[] classes = {2, 0, 3};
            GradCam.Result r = cam.explain(x, classes);
            INDArray wd = m.getLayer("predictions").getWeights().get(0); // (5, 4)
            double[][][][] a = convByHand(m.getLayer("conv"), x.castTo(DataType.DOUBLE));
            double tol = dt == DataType.DOUBLE ? 1e-12 : 1e-5;
            double worstAlpha = 0, worstMap = 0, peak = 0;
            for (int n = 0; n < 3; n++) {
                for (int c = 0; c < 5; c++) {
                    double want = wd.getDouble(c, classes[n]) / (7 * 5);
                    worstAlpha = Math.max(worstAlpha, Math.abs(r.channelWeights().getDouble(n, c) - want));
                }
                for (int i = 0; i < 7; i++) {
                    for (int j = 0; j < 5; j++) {
                        double s = 0;
                        for (int c = 0; c < 5; c++) {
                            s += wd.getDouble(c, classes[n]) / 35.0 * a[n][i][j][c];
                        }
                        double want = Math.max(0, s);
                        peak = Math.max(peak, want);
                        worstMap = Math.max(worstMap, Math.abs(r.heatmap(n).getDouble(i, j) - want));
                    }
                }
            }
            System.out.printf("closed form (%s): channel weights max error %.2e, heatmaps max error %.2e (peak %.3f)%n",
                    dt, worstAlpha, worstMap, peak);
            assertTrue(peak > 0.01, "some positive evidence " + peak);
            assertTrue(worstAlpha < tol, dt + " channel weights " + worstAlpha);
            assertTrue(worstMap < 10 * tol, dt + " heatmaps " + worstMap);
            // the full gradient, not only its mean: W[c][k] / (H * W) at every position
            INDArray oneHot = Nd4j.zeros(DataType.DOUBLE, 3, 4);
            for (int n = 0; n < 3; n++) {
                oneHot.putScalar(n, classes[n], 1);
            }
            INDArray grad = Engines.layerGradient(m, "conv", true).compute(x, oneHot).gradients();
            double worst = 0;
            for (int n = 0; n < 3; n++) {
                for (int i = 0; i < 7; i++) {
                    for (int j = 0; j < 5; j++) {
                        for (int c = 0; c < 5; c++) {
                            worst = Math.max(worst, Math.abs(grad.getDouble(n, i, j, c) - wd.getDouble(c, classes[n]) / 35.0));
                        }
                    }
                }
            }
            assertTrue(worst < tol, dt + " gradient at every position " + worst);
            // the default class is the top prediction, and the probabilities are the model's
            INDArray p = m.predict(x.castTo(DataType.FLOAT));
            GradCam.Result top = cam.explain(x);
            assertTrue(top.topClasses());
            for (int n = 0; n < 3; n++) {
                int best = Nd4j.argMax(p.getRow(n)).getInt(0);
                assertEquals(best, top.classes()[n]);
                assertEquals(p.getDouble(n, best), top.probabilities()[n], 1e-5);
            }
        }
    }

    @Test
    void aOneUnitSigmoidExplainsClassOneWithTheLogitAndClassZeroWithItsNegative() {
        Backend.init();
        Model m = gapModel(1, "sigmoid");
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 9, 7, 3);
        GradCam cam = GradCam.of(m);
        GradCam.Result one = cam.explain(x, 1), zero = cam.explain(x, 0);
        INDArray wd = m.getLayer("predictions").getWeights().get(0);
        for (int c = 0; c < 5; c++) {
            assertEquals(wd.getDouble(c, 0) / 35, one.channelWeights().getDouble(0, c), 1e-12);
            assertEquals(-wd.getDouble(c, 0) / 35, zero.channelWeights().getDouble(0, c), 1e-12);
        }
        double p = m.predict(x.castTo(DataType.FLOAT)).getDouble(0, 0);
        assertEquals(p, one.probabilities()[0], 1e-6);
        assertEquals(1 - p, zero.probabilities()[0], 1e-6);
        assertEquals(-one.scores()[0], zero.scores()[0], 1e-12);
        // new weights reach the gradient network (it is refreshed by the model's weights digest)
        INDArray doubled = wd.mul(2);
        m.getLayer("predictions").setWeights(List.of(doubled, m.getLayer("predictions").getWeights().get(1)));
        assertEquals(2 * wd.getDouble(3, 0) / 35, cam.explain(x, 1).channelWeights().getDouble(1, 3), 1e-12);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cam.explain(x, 2));
        assertTrue(e.getMessage().contains("classes 0 and 1"), e.getMessage());
    }

    @Test
    void aLayerWithoutAFourDimensionalOutputIsRefusedWithTheLayersThatQualify() {
        Backend.init();
        Model m = gapModel(4, "softmax");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradCam.of(m).layer("gap"));
        assertTrue(e.getMessage().contains("'gap' (GlobalAveragePooling2D) outputs (batch, 5)"), e.getMessage());
        assertTrue(e.getMessage().contains("with 4-D outputs: conv"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GradCam.of(m).layer("predictions"));
        assertTrue(e.getMessage().contains("not a 4-D feature map"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GradCam.of(m).layer("conv_9"));
        assertTrue(e.getMessage().contains("No layer named 'conv_9'") && e.getMessage().contains("conv"), e.getMessage());
        // a model with no feature map at all
        Model dense = Sequential.withInput(8).add(Dense(3, "softmax"));
        e = assertThrows(IllegalArgumentException.class, () -> GradCam.of(dense));
        assertTrue(e.getMessage().contains("no layer with a 4-D output"), e.getMessage());
    }

    /**
     * MobileNet's top (global pooling, reshape to 1x1, dropout, conv_preds, reshape, Activation softmax): the default
     * layer is the last feature map before the pooling, the score is conv_preds' logit (the final Activation left
     * out), and its gradient is conv_preds' kernel / (H * W) everywhere.
     */
    @Test
    void mobileNetsTopIsExplainedOnItsLastFeatureMapWithConvPredsLogits() {
        Backend.init();
        Model m = io.transferlab.applications.Applications.mobileNet().alpha(0.25).classes(5).inputShape(64, 64, 3).build();
        GradCam cam = GradCam.of(m);
        assertEquals("conv_pw_13_relu", cam.layerName());
        assertTrue(cam.usesLogits());
        Nd4j.getRandom().setSeed(8);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 64, 64, 3).muli(2).subi(1);
        GradCam.Result r = cam.explain(x, new int[]{4, 1});
        assertArrayEquals(new long[]{2, 2, 2}, r.heatmaps().shape());
        INDArray kernel = m.getLayer("conv_preds").getWeights().get(0); // (1, 1, 256, 5)
        double worst = 0;
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 256; c++) {
                double want = kernel.getDouble(0, 0, c, r.classes()[n]) / 4;
                worst = Math.max(worst, Math.abs(r.channelWeights().getDouble(n, c) - want));
            }
        }
        assertTrue(worst < 1e-7, "channel weights vs conv_preds' kernel / 4: " + worst);
        INDArray p = m.predict(x);
        assertEquals(p.getDouble(0, 4), r.probabilities()[0], 1e-5);
        assertEquals(p.getDouble(1, 1), r.probabilities()[1], 1e-5);
        assertEquals("conv_preds", cam.layer("conv_preds").layerName()); // a 1x1 map can still be asked for
    }

    @Test
    void theDefaultLayerIsTheLastFeatureMapInsideANestedBase() {
        Tensor bin = Input(16, 16, 3);
        Tensor t = Conv2D(4, 3, "relu", "c1").on(bin);
        t = MaxPooling2D(2, "p1").on(t);
        t = Conv2D(4, 3, "relu", "c2").on(t);
        Model base = Model.of("base", bin, MaxPooling2D(2, "p2").on(t));
        Tensor in = Input(16, 16, 3);
        Tensor x = Flatten("flat").on(base.on(in));
        Model m = Model.of(in, Dense(2, "softmax", "out").on(x));
        assertEquals(List.of("c1", "p1", "c2", "p2"), GradCam.featureMapLayers(m));
        assertEquals("p2", GradCam.of(m).layerName());
        assertEquals("c2", GradCam.of(m).layer("c2").layerName());
        INDArray map = GradCam.of(m).layer("c2").heatmap(Nd4j.rand(DataType.FLOAT, 16, 16, 3), 1);
        assertArrayEquals(new long[]{5, 5}, map.shape());
    }

    // ---- a classifier trained to find a square ----

    private static final int SIZE = 32, SQUARE = 6;

    /**
     * Noise images (uniform in -0.3..0.3); class 1 has a bright square (1.0..1.2) at a random place, its top-left
     * corner in corners[i].
     */
    private static INDArray[] squares(int n, long seed, int[][] corners) {
        Random r = new Random(seed);
        INDArray x = Nd4j.create(DataType.FLOAT, n, SIZE, SIZE, 1);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 2);
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < SIZE; p++) {
                for (int q = 0; q < SIZE; q++) {
                    x.putScalar(new long[]{i, p, q, 0}, (r.nextDouble() - 0.5) * 0.6);
                }
            }
            int cls = i % 2;
            y.putScalar(i, cls, 1);
            corners[i] = null;
            if (cls == 1) {
                int top = r.nextInt(SIZE - SQUARE + 1), left = r.nextInt(SIZE - SQUARE + 1);
                corners[i] = new int[]{top, left};
                for (int p = top; p < top + SQUARE; p++) {
                    for (int q = left; q < left + SQUARE; q++) {
                        x.putScalar(new long[]{i, p, q, 0}, 1.0 + r.nextDouble() * 0.2);
                    }
                }
            }
        }
        return new INDArray[]{x, y};
    }

    @Test
    void theHeatmapOfATrainedClassifierLandsOnTheSquare() throws IOException {
        Backend.init();
        int[][] trainCorners = new int[400][], testCorners = new int[40][];
        INDArray[] tr = squares(400, 1, trainCorners), te = squares(40, 2, testCorners);
        Tensor in = Input(SIZE, SIZE, 1);
        Tensor t = new Conv2D(8, 3, 3, "conv1").padding("same").activation("relu").on(in);
        t = MaxPooling2D(2, "pool1").on(t);
        t = new Conv2D(16, 3, 3, "last_conv").padding("same").activation("relu").on(t);
        t = GlobalAveragePooling2D("gap").on(t);
        Model m = Model.of("squares", in, Dense(2, "softmax", "predictions").on(t));
        m.compile(Optimizer.Adam(1e-2), "categorical_crossentropy", "accuracy");
        History h = m.fit(tr[0], tr[1], 5, 20, te[0], te[1]);
        assertTrue(h.last().valAccuracy() >= 0.95, "the classifier learnt the task: " + h.last().valAccuracy());

        GradCam cam = GradCam.of(m);
        assertEquals("last_conv", cam.layerName());
        int[] ones = Stream.iterate(1, i -> i + 2).limit(20).mapToInt(Integer::intValue).toArray();
        INDArray x1 = te[0].get(org.nd4j.linalg.indexing.NDArrayIndex.indices(toLong(ones)));
        GradCam.Result r = cam.explain(x1, 1);
        double share = (double) SQUARE * SQUARE / (SIZE * SIZE);
        double sumInside = 0, minInside = 1;
        int peaksOnSquare = 0;
        for (int k = 0; k < ones.length; k++) {
            int[] corner = testCorners[ones[k]];
            double[][] up = Plots.upsample(r.heatmap(k), SIZE, SIZE);
            double total = 0, inside = 0, best = -1;
            int bp = 0, bq = 0;
            for (int p = 0; p < SIZE; p++) {
                for (int q = 0; q < SIZE; q++) {
                    total += up[p][q];
                    boolean in2 = p >= corner[0] && p < corner[0] + SQUARE && q >= corner[1] && q < corner[1] + SQUARE;
                    if (in2) {
                        inside += up[p][q];
                    }
                    if (up[p][q] > best) {
                        best = up[p][q];
                        bp = p;
                        bq = q;
                    }
                }
            }
            double frac = total > 0 ? inside / total : 0;
            sumInside += frac;
            minInside = Math.min(minInside, frac);
            // the peak within two pixels of the square (the map is 16x16: one cell is two pixels)
            if (bp >= corner[0] - 2 && bp < corner[0] + SQUARE + 2 && bq >= corner[1] - 2 && bq < corner[1] + SQUARE + 2) {
                peaksOnSquare++;
            }
        }
        double mean = sumInside / ones.length;
        System.out.printf("square: heatmap mass inside %.3f on average (min %.3f), area share %.3f (%.1fx); "
                + "peak on the square in %d of %d images; val accuracy %.3f%n", mean, minInside, share, mean / share,
                peaksOnSquare, ones.length, h.last().valAccuracy());
        assertTrue(mean > 8 * share, "heatmap mass inside the square " + mean + " vs its area share " + share);
        assertTrue(peaksOnSquare >= 18, "peaks on the square: " + peaksOnSquare + " of " + ones.length);

        // the pictures: an overlay the size of the image, and a grid with titles
        List<BufferedImage> images = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            INDArray gray = x1.slice(k);
            images.add(Plots.toImage(Nd4j.concat(2, gray, gray, gray)));
        }
        BufferedImage over = Plots.gradCam(images.get(0), r.heatmap(0));
        assertEquals(SIZE, over.getWidth());
        assertEquals(SIZE, over.getHeight());
        GradCam.Result four = cam.explain(x1.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4)));
        BufferedImage grid = Plots.gradCamGrid(images, four, List.of("plain", "square"), new int[]{1, 1, 1, 1});
        assertEquals(4 * 180, grid.getWidth());
        Path out = Path.of("target/gradcam");
        Plots.save(grid, out.resolve("squares_grid.png"));
        assertTrue(Files.size(out.resolve("squares_grid.png")) > 0);
    }

    private static long[] toLong(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    @Test
    void theExplainPackageKnowsNoEngineButTheSeam() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of("src/main/java/io/transferlab/explain"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                for (String line : Files.readAllLines(f)) {
                    assertFalse(line.matches("\\s*import (static )?(org\\.deeplearning4j|org\\.bytedeco|io\\.transferlab\\.engine\\.(dl4j|onednn))\\..*"),
                            f + ": " + line);
                }
            }
        }
    }
}
