package io.transferlab.engine.onednn;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Matrix products, on oneDNN and on OpenBLAS, against a plain triple loop in double precision. */
class MatMulTest {

    /** A(i, l) of an (m x k) matrix stored row-major, or stored transposed as (k x m). */
    private static double get(float[] a, int rows, int cols, boolean transposed, int i, int l) {
        return transposed ? a[l * rows + i] : a[i * cols + l];
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static void check(int m, int n, int k, boolean transA, boolean transB, boolean withBias, boolean oneDnn) {
        Random r = new Random(m * 31L + n * 7L + k + (transA ? 1 : 0) + (transB ? 2 : 0));
        float[] a = random(r, m * k);
        float[] b = random(r, k * n);
        float[] bias = random(r, n);
        int offset = 3; // matrices that start inside a larger buffer, as a head's layers do in its weights
        FloatPointer pa = new FloatPointer(offset + a.length).position(offset).put(a).position(offset);
        FloatPointer pb = new FloatPointer(offset + b.length).position(offset).put(b).position(offset);
        FloatPointer pBias = new FloatPointer(offset + n).position(offset).put(bias).position(offset);
        FloatPointer pc = new FloatPointer(offset + (long) m * n).position(offset);
        try (MatMul product = new MatMul(m, n, k, transA, transB, withBias, oneDnn)) {
            if ((long) m * n * k <= MatMul.PLAIN_MAX) {
                assertEquals("plain loops", product.engine());
            } else if (oneDnn) {
                assertEquals("oneDNN matmul", product.engine());
            } else {
                assertTrue(product.engine().startsWith("OpenBLAS"), product.engine());
            }
            product.run(pa, pb, withBias ? pBias : null, pc);
        }
        assertEquals(offset, pc.position(), "the position is left as it was");
        float[] c = new float[m * n];
        pc.get(c); // from the position on
        double worst = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double want = withBias ? bias[j] : 0;
                double size = Math.abs(want); // float rounding grows with the sum of the terms' sizes
                for (int l = 0; l < k; l++) {
                    double term = get(a, m, k, transA, i, l) * get(b, k, n, transB, l, j);
                    want += term;
                    size += Math.abs(term);
                }
                worst = Math.max(worst, Math.abs(c[i * n + j] - want) / size);
            }
        }
        assertTrue(worst < 1e-6,  "m=" + m + " n=" + n + " k=" + k + " transA=" + transA + " transB=" + transB
                + " bias=" + withBias + " oneDNN=" + oneDnn + ": relative error " + worst);
    }

    @Test
    void everyLayoutMatchesPlainLoopsOnBothEngines() {
        assertNull(OneDnn.unavailable(), "oneDNN should load on this platform");
        for (boolean oneDnn : new boolean[]{true, false}) {
            for (boolean transA : new boolean[]{false, true}) {
                for (boolean transB : new boolean[]{false, true}) {
                    check(5, 7, 2000, transA, transB, false, oneDnn);
                    check(20, 3, 2000, transA, transB, true, oneDnn);
                }
            }
            // the shapes of a classifier head: forward product with bias, weight gradient, input gradient
            check(20, 256, 1024, false, true, true, oneDnn);
            check(256, 1024, 20, true, false, false, oneDnn);
            check(20, 1024, 256, false, false, false, oneDnn);
        }
    }

    @Test
    void smallProductsRunAsPlainLoopsInEveryLayout() {
        for (boolean transA : new boolean[]{false, true}) {
            for (boolean transB : new boolean[]{false, true}) {
                for (boolean withBias : new boolean[]{false, true}) {
                    // a head's last layer: forward (20 x 256 by 256 x 1), weight gradient, input gradient
                    check(20, 1, 256, transA, transB, withBias, true);
                    check(1, 256, 20, transA, transB, withBias, true);
                    check(20, 256, 1, transA, transB, withBias, true);
                    check(5, 7, 300, transA, transB, withBias, false);
                }
            }
        }
        // the largest product that runs as loops, and the smallest that does not
        check(16, 64, 64, false, true, true, true);
        check(16, 64, 65, false, true, true, true);
    }

    @Test
    void biasMustBeGivenExactlyWhenTheProductHasOne() {
        var p = new FloatPointer(4);
        try (MatMul withBias = new MatMul(2, 2, 1, false, false, true);
             MatMul without = new MatMul(2, 2, 1, false, false, false)) {
            assertThrows(IllegalArgumentException.class, () -> withBias.run(p, p, null, p));
            assertThrows(IllegalArgumentException.class, () -> without.run(p, p, p, p));
        }
        assertThrows(IllegalArgumentException.class, () -> new MatMul(0, 2, 2, false, false, false));
    }
}
