package io.transferlab.engine.onednn;

import io.transferlab.optimizers.Optimizer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The optimizer state never becomes subnormal (the slow floats that made notebook 02's head epochs four times
 * longer), and the rounding that prevents it leaves ordinary training arithmetic bit for bit as it was.
 */
class OptimizerStepTest {

    private static boolean subnormal(float x) {
        return x != 0 && Math.abs(x) < Float.MIN_NORMAL;
    }

    @Test
    void keepNormalNeverReturnsASubnormalAndChangesOnlyTinyValues() {
        Random r = new Random(7);
        for (int t = 0; t < 2_000_000; t++) {
            // magnitudes spread over 2^-149 .. 2^-60, both signs, plus every subnormal pattern near the edges
            float x = t < 1_000
                    ? Float.intBitsToFloat((t % 2 == 0 ? 0 : 0x80000000) | (t / 2 + (t % 4 < 2 ? 1 : 0x7ffc00)))
                    : (float) ((r.nextBoolean() ? 1 : -1) * Math.scalb(1 + r.nextDouble(), -60 - r.nextInt(90)));
            float k = OptimizerStep.keepNormal(x);
            if (subnormal(k)) {
                fail("keepNormal(" + x + ") = " + k + " is subnormal");
            }
            double change = Math.abs((double) k - x);
            if (Math.abs(x) < 0x1p-101f) {
                assertTrue(change <= 0x1p-125, "keepNormal(" + x + ") moved by " + change);
                assertEquals(0.0, Math.abs(Math.IEEEremainder(k, 0x1p-125)), "keepNormal(" + x + ") = " + k + " off the grid");
            } else if (Math.abs(x) < 0x1p-76f) {
                assertTrue(change <= Math.ulp(x), "keepNormal(" + x + ") moved by " + change);
            } else {
                assertEquals(x, k, "keepNormal must leave " + x + " as it is");
            }
        }
        assertEquals(1e-20f, OptimizerStep.keepNormal(1e-20f));
        assertEquals(0f, OptimizerStep.keepNormal(Float.MIN_VALUE));
    }

    /** Weights whose gradient is zero for thousands of steps: their state decays but never goes subnormal. */
    @Test
    void decayingStateStaysOutOfTheSubnormalRange() {
        for (Optimizer o : new Optimizer[] {Optimizer.RMSprop(1e-4), Optimizer.Adam(1e-3), Optimizer.SGD(0.01, 0.9)}) {
            OptimizerStep step = OptimizerStep.of(o);
            int n = 64;
            float[] p = new float[n];
            float[] g = new float[n];
            float[] s1 = new float[n];
            float[] s2 = new float[n];
            Random r = new Random(3);
            for (int i = 0; i < n; i++) {
                p[i] = (float) r.nextGaussian();
                g[i] = (float) r.nextGaussian() * 1e-2f;
            }
            step.begin(0);
            step.apply(p, g, s1, s2, n);   // one real step fills the state
            java.util.Arrays.fill(g, 0f);  // then the units die
            for (int it = 1; it < 5_000; it++) {
                step.begin(it);
                step.apply(p, g, s1, s2, n);
                for (int i = 0; i < n; i++) {
                    if (subnormal(s1[i]) || subnormal(s2[i]) || subnormal(p[i])) {
                        fail(o + ": state went subnormal at step " + it + ": " + s1[i] + ", " + s2[i]);
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                // settled at zero or a few multiples of 2^-125 (SGD's velocity and Adam's m decay by 0.9)
                assertTrue(Math.abs(s1[i]) <= 0x1p-120f, o + ": state " + s1[i] + " did not decay");
            }
            if (o.kind() == Optimizer.Kind.ADAM) {
                assertTrue(s2[0] > 0 && s2[0] < 1e-5f, "Adam's v decays slowly, by 0.999 a step: " + s2[0]);
            }
        }
    }

    /**
     * With gradients of ordinary size the state stays far above 2^-76, so the steps equal the plain formulas
     * (written out here in the same float arithmetic) exactly.
     */
    @Test
    void ordinaryStepsAreUnchangedBitForBit() {
        Random r = new Random(11);
        int n = 1000;
        float[] g = new float[n];
        float[] p0 = new float[n];
        for (int i = 0; i < n; i++) {
            p0[i] = (float) r.nextGaussian();
            g[i] = (float) r.nextGaussian() * 1e-3f;
        }
        // RMSprop, state starting at epsilon as DL4J's does
        Optimizer rms = Optimizer.RMSprop(1e-4);
        float lr = 1e-4f;
        float rho = (float) rms.rho();
        float eps = (float) rms.epsilon();
        float[] p = p0.clone();
        float[] s = new float[n];
        java.util.Arrays.fill(s, eps);
        float[] pRef = p0.clone();
        float[] sRef = s.clone();
        OptimizerStep step = OptimizerStep.of(rms);
        for (int it = 0; it < 20; it++) {
            step.begin(it);
            step.apply(p, g, s, null, n);
            for (int i = 0; i < n; i++) {
                sRef[i] = rho * sRef[i] + (1 - rho) * g[i] * g[i];
                pRef[i] -= lr * g[i] / ((float) Math.sqrt(sRef[i]) + eps);
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(sRef[i]), Float.floatToIntBits(s[i]), "RMSprop state " + i);
            assertEquals(Float.floatToIntBits(pRef[i]), Float.floatToIntBits(p[i]), "RMSprop weight " + i);
        }
        // SGD with momentum
        float[] pm = p0.clone();
        float[] v = new float[n];
        float[] pmRef = p0.clone();
        float[] vRef = new float[n];
        OptimizerStep momentum = OptimizerStep.of(Optimizer.SGD(0.01, 0.9));
        for (int it = 0; it < 20; it++) {
            momentum.begin(it);
            momentum.apply(pm, g, v, null, n);
            for (int i = 0; i < n; i++) {
                vRef[i] = 0.9f * vRef[i] - 0.01f * g[i];
                pmRef[i] += vRef[i];
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(vRef[i]), Float.floatToIntBits(v[i]), "velocity " + i);
            assertEquals(Float.floatToIntBits(pmRef[i]), Float.floatToIntBits(pm[i]), "momentum weight " + i);
        }
    }
}
