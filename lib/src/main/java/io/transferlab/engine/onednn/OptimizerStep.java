package io.transferlab.engine.onednn;

import io.transferlab.optimizers.Optimizer;

/**
 * The oneDNN engine's optimizer arithmetic, once per update rule: Keras's RMSprop, Adam and SGD (with Keras's
 * classical momentum), computed as DL4J's updaters compute them so that both engines train alike (RMSprop's
 * average starting at epsilon, Adam's bias correction folded into its step size). It works on flat float weights
 * in chunks that the JIT vectorizes. State slots per weight, in DL4J's layout: RMSprop one (the squared-gradient
 * average), Adam two (m for all weights, then v), SGD with momentum one (the velocity), plain SGD none.
 */
abstract class OptimizerStep {
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
                if (o.nesterov()) {
                    throw new UnsupportedOperationException("optimizer " + o + " with Nesterov momentum");
                }
                yield o.momentum() == 0 ? new Sgd(o) : new Momentum(o);
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
                float si = rho * s1[i] + (1 - rho) * gi * gi;
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
                float mi = b1 * s1[i] + (1 - b1) * gi;
                float vi = b2 * s2[i] + (1 - b2) * gi * gi;
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
                float vi = momentum * s1[i] - lr * g[i];
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
