package io.transferlab.engine.onednn;

import io.transferlab.optimizers.Optimizer;

/**
 * The oneDNN engine's optimizer arithmetic, once per update rule: Keras's RMSprop, Adam and SGD (with Keras's
 * classical momentum), computed as DL4J's updaters compute them so that both engines train alike (RMSprop's
 * average starting at epsilon, Adam's bias correction folded into its step size). It works on flat float weights
 * in chunks that the JIT vectorizes. State slots per weight, in DL4J's layout: RMSprop one (the squared-gradient
 * average), Adam two (m for all weights, then v), SGD with momentum one (the velocity), plain SGD none.
 *
 * <p>State that decays (a weight whose gradient stays exactly zero, such as one feeding a dead ReLU unit) would
 * shrink by a constant factor every step and, after several hundred steps, reach the subnormal floats below
 * {@link Float#MIN_NORMAL}, where every multiply and square root costs the CPU tens of times more: notebook 02's
 * head slowed from 11 s to 44 s per epoch within one fit that way. So every state value goes through
 * {@link #keepNormal} when it is stored: values below 2<sup>-101</sup> are rounded to a multiple of
 * 2<sup>-125</sup> (an absolute change of at most 2<sup>-125</sup>, about 2.4e-38), which keeps them out of the
 * subnormal range and lets a decaying value settle at a few multiples of 2<sup>-125</sup> or at zero; values up
 * to 2<sup>-76</sup> may lose their last bit; larger values are unchanged. That is the effect TensorFlow gets
 * from the CPU's flush-to-zero mode, which Java cannot switch on, here in two additions that the JIT vectorizes.
 */
abstract class OptimizerStep {
    /** Added and subtracted by {@link #keepNormal}: 2^-101, whose neighbours are 2^-124 above and 2^-125 below it. */
    private static final float NORMAL_GRID = 0x1p-101f;

    /**
     * x rounded to a multiple of 2^-125 when |x| is below 2^-101, to within its last bit up to 2^-76, otherwise x
     * itself: never subnormal. Java's strict IEEE arithmetic keeps the JIT from folding the two operations away.
     */
    static float keepNormal(float x) {
        return (x + NORMAL_GRID) - NORMAL_GRID;
    }

    /**
     * The arithmetic for a Keras optimizer.
     *
     * @throws UnsupportedOperationException for rules this engine does not have (SGD with Nesterov momentum)
     */
    static OptimizerStep of(Optimizer o) {
        return switch (o.kind()) {
            case RMSPROP -> new RmsProp(o);
            case ADAM -> new Adam(o);
            case SGD -> {
                if (o.momentum() == 0) {
                    yield new Sgd(o);   // Nesterov or not: without momentum both are plain SGD
                }
                if (o.nesterov()) {
                    throw new UnsupportedOperationException("optimizer " + o + " with Nesterov momentum");
                }
                yield new Momentum(o);
            }
        };
    }

    /** State values per weight. */
    abstract int stateSlots();

    /** Sets the constants of the step with this 0-based iteration number. */
    void begin(int iteration) {
    }

    /** Updates len weights p from gradients g and state s1 (and s2 for Adam), in place. */
    abstract void apply(float[] p, float[] g, float[] s1, float[] s2, int len);

    private static final class RmsProp extends OptimizerStep {
        final float lr;
        final float rho;
        final float eps;

        RmsProp(Optimizer o) {
            lr = (float) o.learningRate();
            rho = (float) o.rho();
            eps = (float) o.epsilon();
        }

        @Override
        int stateSlots() {
            return 1;
        }

        @Override
        void apply(float[] p, float[] g, float[] s1, float[] s2, int len) {
            for (int i = 0; i < len; i++) {
                float gi = g[i];
                float si = keepNormal(rho * s1[i] + (1 - rho) * gi * gi);
                s1[i] = si;
                p[i] -= lr * gi / ((float) Math.sqrt(si) + eps);
            }
        }
    }

    private static final class Adam extends OptimizerStep {
        final Optimizer o;
        final float b1;
        final float b2;
        final float eps;
        float step;

        Adam(Optimizer o) {
            this.o = o;
            b1 = (float) o.beta1();
            b2 = (float) o.beta2();
            eps = (float) o.epsilon();
        }

        @Override
        int stateSlots() {
            return 2;
        }

        @Override
        void begin(int iteration) {
            double st = o.learningRate() * Math.sqrt(1 - Math.pow(o.beta2(), iteration + 1))
                    / (1 - Math.pow(o.beta1(), iteration + 1));
            step = (float) (Double.isNaN(st) || st == 0 ? o.epsilon() : st);
        }

        @Override
        void apply(float[] p, float[] g, float[] s1, float[] s2, int len) {
            for (int i = 0; i < len; i++) {
                float gi = g[i];
                float mi = keepNormal(b1 * s1[i] + (1 - b1) * gi);
                float vi = keepNormal(b2 * s2[i] + (1 - b2) * gi * gi);
                s1[i] = mi;
                s2[i] = vi;
                p[i] -= step * mi / ((float) Math.sqrt(vi) + eps);
            }
        }
    }

    /** Keras's SGD momentum: velocity = momentum * velocity - lr * g; w += velocity. */
    private static final class Momentum extends OptimizerStep {
        final float lr;
        final float momentum;

        Momentum(Optimizer o) {
            lr = (float) o.learningRate();
            momentum = (float) o.momentum();
        }

        @Override
        int stateSlots() {
            return 1;
        }

        @Override
        void apply(float[] p, float[] g, float[] s1, float[] s2, int len) {
            for (int i = 0; i < len; i++) {
                float vi = keepNormal(momentum * s1[i] - lr * g[i]);
                s1[i] = vi;
                p[i] += vi;
            }
        }
    }

    private static final class Sgd extends OptimizerStep {
        final float lr;

        Sgd(Optimizer o) {
            lr = (float) o.learningRate();
        }

        @Override
        int stateSlots() {
            return 0;
        }

        @Override
        void apply(float[] p, float[] g, float[] s1, float[] s2, int len) {
            for (int i = 0; i < len; i++) {
                p[i] -= lr * g[i];
            }
        }
    }
}
