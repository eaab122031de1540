package io.transferlab.graph;

import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.models.Model;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.Layers;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.Tensor;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Known answers for the layer maths and the Keras-to-DL4J weight mapping: a plain-loop implementation of Keras's
 * definitions (channels-last, HWIO kernels, "same" padding, flatten in (h, w, c) order) against the network.
 */
class LayerMathsTest {
    private static final Random RNG = new Random(3);

    private static INDArray random(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (RNG.nextGaussian() * 0.5);
        }
        return Nd4j.create(v, shape, 'c');
    }

    /** Keras Conv2D, padding "same", stride 1, then ReLU: the textbook definition. */
    private static float[][][][] convSameRelu(INDArray x, INDArray k, INDArray b) {
        int n = (int) x.size(0), h = (int) x.size(1), w = (int) x.size(2), cin = (int) x.size(3);
        int kh = (int) k.size(0), kw = (int) k.size(1), cout = (int) k.size(3);
        int padTop = (kh - 1) / 2, padLeft = (kw - 1) / 2;
        float[][][][] out = new float[n][h][w][cout];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    for (int o = 0; o < cout; o++) {
                        double s = b.getDouble(o);
                        for (int dr = 0; dr < kh; dr++) {
                            for (int dc = 0; dc < kw; dc++) {
                                int rr = r + dr - padTop, cc = c + dc - padLeft;
                                if (rr < 0 || rr >= h || cc < 0 || cc >= w) {
                                    continue;
                                }
                                for (int ch = 0; ch < cin; ch++) {
                                    s += x.getDouble(i, rr, cc, ch) * k.getDouble(dr, dc, ch, o);
                                }
                            }
                        }
                        out[i][r][c][o] = (float) Math.max(0, s);
                    }
                }
            }
        }
        return out;
    }

    @Test
    void convPoolFlattenDenseMatchTheDefinitions() {
        Tensor in = Layers.Input(6, 5, 3);
        Conv2D conv = new Conv2D(4, 3, 3, "conv").padding("same").activation("relu");
        MaxPooling2D pool = new MaxPooling2D(2, 2, "pool");
        Dense dense = new Dense(2, null, "dense");
        Tensor x = conv.on(in);
        x = pool.on(x);
        x = Layers.Flatten("flat").on(x);
        Model model = Model.of(in, dense.on(x));

        INDArray k = random(3, 3, 3, 4), kb = random(4), w = random(3 * 2 * 4, 2), wb = random(2);
        conv.setWeights(List.of(k, kb));
        dense.setWeights(List.of(w, wb));
        INDArray input = random(2, 6, 5, 3);
        INDArray got = model.predict(input);

        float[][][][] c = convSameRelu(input, k, kb);
        for (int i = 0; i < 2; i++) {
            // max pool 2x2 valid: 6x5 -> 3x2, then flatten in (h, w, c) order, then dense
            float[] flat = new float[3 * 2 * 4];
            int idx = 0;
            for (int r = 0; r < 3; r++) {
                for (int q = 0; q < 2; q++) {
                    for (int o = 0; o < 4; o++) {
                        float m = Float.NEGATIVE_INFINITY;
                        for (int dr = 0; dr < 2; dr++) {
                            for (int dq = 0; dq < 2; dq++) {
                                m = Math.max(m, c[i][2 * r + dr][2 * q + dq][o]);
                            }
                        }
                        flat[idx++] = m;
                    }
                }
            }
            for (int u = 0; u < 2; u++) {
                double s = wb.getDouble(u);
                for (int j = 0; j < flat.length; j++) {
                    s += flat[j] * w.getDouble(j, u);
                }
                assertEquals(s, got.getDouble(i, u), 1e-4 * Math.max(1, Math.abs(s)), "example " + i + " unit " + u);
            }
        }
    }

    @Test
    void weightsSurviveRebuildsAndReadBackInKerasLayout() {
        Tensor in = Layers.Input(8, 8, 3);
        Conv2D conv = new Conv2D(5, 3, 3, "c1").padding("same").activation("relu");
        Model m = Model.of(in, conv.on(in));
        INDArray k = random(3, 3, 3, 5), b = random(5);
        conv.setWeights(List.of(k, b));
        INDArray x = random(1, 8, 8, 3);
        INDArray before = m.predict(x).dup();
        m.freeze();                       // a new network is built on next use
        INDArray after = m.predict(x);
        assertEquals(0.0, before.sub(after).amaxNumber().doubleValue(), 0.0);
        // through a DL4J network built after the freeze, and back in Keras's layout
        assertEquals(k, Dl4jEngine.get().readWeights(m, conv).get(0));
        assertEquals(b, Dl4jEngine.get().readWeights(m, conv).get(1));
        assertEquals(DataType.FLOAT, conv.getWeights().get(0).dataType());
    }

    @Test
    void setWeightsRefusesWrongShapesNamingLayerAndVariable() {
        Tensor in = Layers.Input(8, 8, 3);
        Conv2D conv = new Conv2D(5, 3, 3, "c1");
        conv.on(in);
        var e = assertThrows(IllegalArgumentException.class, () -> conv.setWeights(List.of(random(3, 3, 4, 5), random(5))));
        assertTrue(e.getMessage().contains("Layer 'c1' weight 'kernel' has shape [3, 3, 3, 5], got [3, 3, 4, 5]"), e.getMessage());
    }

    @Test
    void dl4jCountsEqualOurCounts() {
        Model vgg = io.transferlab.applications.Applications.vgg16().inputShape(32, 32, 3).classes(10).build();
        assertEquals(vgg.countParams(), Dl4jEngine.get().network(vgg).numParams());
    }
}
