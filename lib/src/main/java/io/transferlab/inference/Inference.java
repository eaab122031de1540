package io.transferlab.inference;

import io.transferlab.graph.Model;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Runs a model forward for inference (Keras's {@code model.predict}) on the fastest path this machine has: a
 * oneDNN plan compiled from the model ({@link InferencePlan}: weights pre-laid out, batch norm folded, activations
 * fused, channels-blocked throughout), or the model's DL4J network when the plan cannot cover the model (a layer
 * it does not support, no oneDNN build for this platform) or when it is switched off.
 *
 * <p>Plans are kept per model and input shape (batch and image size), and rebuilt when the model's weights change (set, loaded, or
 * trained). Switch the fast path off with the environment variable {@code TL_FAST_INFERENCE=0} (or the system
 * property {@code transferlab.fastInference=false}), to compare the two paths.
 */
public final class Inference {
    private static final int PLANS_PER_MODEL = 2;
    private static final Map<Model, State> STATES = new WeakHashMap<>();

    private static final class State {
        long stamp = Long.MIN_VALUE;
        String unsupported;
        final LinkedHashMap<String, InferencePlan> plans = new LinkedHashMap<>();

        void clear() {
            plans.values().forEach(InferencePlan::close);
            plans.clear();
            unsupported = null;
        }
    }

    private Inference() {
    }

    /** Whether the oneDNN path is switched on (it is unless TL_FAST_INFERENCE=0 or transferlab.fastInference=false). */
    public static boolean enabled() {
        return io.transferlab.runtime.Backend.switchedOn("transferlab.fastInference", "TL_FAST_INFERENCE");
    }

    /**
     * The model's outputs for x (batch, ...input shape), channels-last, in inference mode (no dropout, frozen
     * batch-norm statistics): on the oneDNN plan when it covers the model, else on DL4J.
     */
    public static INDArray predict(Model model, INDArray x) {
        InferencePlan plan = enabled() ? plan(model, x.shape()) : null;
        if (plan != null) {
            return plan.run(x);
        }
        return model.network().outputSingle(false, x);
    }

    /** Which path predict takes for this model, and why: for notebooks and benchmarks. */
    public static String describe(Model model) {
        if (!enabled()) {
            return "DL4J (fast inference switched off by TL_FAST_INFERENCE=0)";
        }
        String why = OneDnn.unavailable();
        if (why != null) {
            return "DL4J (" + why + ")";
        }
        synchronized (STATES) {
            State s = state(model);
            if (s.unsupported == null && s.plans.isEmpty()) {
                long[] shape = model.inputShape().dims().clone();
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = shape[i] < 0 ? 224 : shape[i]; // a size-agnostic model: any size shows the path
                }
                long[] one = new long[shape.length + 1];
                one[0] = 1;
                System.arraycopy(shape, 0, one, 1, shape.length);
                plan(model, one);
            }
            if (s.unsupported != null) {
                return "DL4J (oneDNN plan not possible: " + s.unsupported + ")";
            }
            InferencePlan p = s.plans.values().iterator().next();
            return "oneDNN plan (" + p.steps() + " fused steps" + (p.winogradSteps() > 0 ? ", " + p.winogradSteps()
                    + " Winograd convolutions" : "") + ", weights laid out once)";
        }
    }

    /** Whether a compiled plan for this model is cached (without compiling one). For tests. */
    static boolean hasPlan(Model model) {
        synchronized (STATES) {
            State s = STATES.get(model);
            return s != null && !s.plans.isEmpty();
        }
    }

    private static State state(Model model) {
        State s = STATES.get(model);
        long stamp = model.weightsStamp();
        if (s == null) {
            s = new State();
            STATES.put(model, s);
        }
        if (s.stamp != stamp) {
            s.clear();
            s.stamp = stamp;
        }
        return s;
    }

    private static InferencePlan plan(Model model, long[] xShape) {
        String key = java.util.Arrays.toString(xShape);
        if (OneDnn.unavailable() != null) {
            return null;
        }
        synchronized (STATES) {
            State s = state(model);
            if (s.unsupported != null) {
                return null;
            }
            InferencePlan p = s.plans.remove(key);
            if (p == null) {
                try {
                    try {
                        p = InferencePlan.compile(model, xShape);
                    } catch (InferencePlan.MissingWeights e) {
                        // a model never run before: its DL4J network creates the initial weights (Keras's
                        // initializers), then the plan compiles on them
                        model.network();
                        s = state(model);
                        p = InferencePlan.compile(model, xShape);
                    }
                } catch (UnsupportedOperationException e) {
                    s.clear();
                    s.unsupported = e.getMessage();
                    if (io.transferlab.runtime.Backend.verbose()) {
                        System.out.println("Model '" + model.name() + "' runs on DL4J: the oneDNN plan does not support "
                                + e.getMessage());
                    }
                    return null;
                }
                if (s.plans.size() >= PLANS_PER_MODEL) {
                    String oldest = s.plans.keySet().iterator().next();
                    s.plans.remove(oldest).close();
                }
            }
            s.plans.put(key, p); // most recently used last
            return p;
        }
    }
}
