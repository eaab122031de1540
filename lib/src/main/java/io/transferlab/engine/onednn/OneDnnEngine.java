package io.transferlab.engine.onednn;

import io.transferlab.engine.api.Forward;
import io.transferlab.engine.api.TrainStep;
import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.runtime.Backend;
import io.transferlab.runtime.MixedPrecision;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The fast engine: models compiled into oneDNN plans for inference ({@link InferencePlan}, one lowering per layer
 * type), classifier heads trained on oneDNN's matmul ({@link DenseHeadTrainer}); convolution training primitives
 * ({@link ConvolutionTrainingPrimitives}) serve the DL4J engine's convolution layers. Plans are kept per model and
 * input shape and dropped when the model's weights change ({@link Functional#weightsDigest()}).
 */
public final class OneDnnEngine {
    private static final OneDnnEngine INSTANCE = new OneDnnEngine();
    private static final int PLANS_PER_MODEL = 2;

    /** A model's compiled plans, or why it cannot have one. */
    private static final class State {
        long digest = Long.MIN_VALUE;
        String unsupported;
        final LinkedHashMap<String, InferencePlan> plans = new LinkedHashMap<>();

        void clear() {
            plans.values().forEach(InferencePlan::close);
            plans.clear();
            unsupported = null;
        }
    }

    private final Map<Functional, State> states = new WeakHashMap<>();

    private OneDnnEngine() {
    }

    public static OneDnnEngine get() {
        return INSTANCE;
    }

    /** Why this engine cannot run on this machine, or null when it can. */
    public static String unavailable() {
        return OneDnn.unavailable();
    }

    /** Whether classifier heads train here (unless TL_FAST_HEAD=0 or transferlab.fastHead=false). */
    public static boolean headTrainingEnabled() {
        return DenseHeadTrainer.enabled();
    }

    private State state(Functional model) {
        State s = states.computeIfAbsent(model, m -> new State());
        long digest = model.weightsDigest();
        if (s.digest != digest) {
            s.clear();
            s.digest = digest;
        }
        return s;
    }

    /**
     * The model compiled for inputs of this shape (batch, ...), cached; null when the plan cannot cover the model
     * ({@link #whyNot} says why; with {@code transferlab.verbose=true} it is printed once).
     */
    public Forward forward(Functional model, long[] xShape) {
        if (unavailable() != null) {
            return null;
        }
        Backend.init();
        // the precision policy is part of the key: a plan compiled in one precision never serves the other
        boolean bf16 = MixedPrecision.bfloat16();
        String key = MixedPrecision.policy() + Arrays.toString(xShape);
        synchronized (states) {
            State s = state(model);
            if (s.unsupported != null) {
                return null;
            }
            InferencePlan p = s.plans.remove(key);
            if (p == null) {
                try {
                    p = InferencePlan.compile(model, xShape, bf16);
                } catch (UnsupportedOperationException e) {
                    s.clear();
                    s.unsupported = e.getMessage();
                    if (Backend.verbose()) {
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

    /** Why the model runs elsewhere: the machine has no oneDNN, or a layer the plan does not cover; null if it runs here. */
    public String whyNot(Functional model) {
        String why = unavailable();
        if (why != null) {
            return why;
        }
        synchronized (states) {
            State s = states.get(model);
            return s == null || s.digest != model.weightsDigest() ? null : s.unsupported;
        }
    }

    /**
     * The plan last used for this model, or a plan compiled for one example of its input shape (any size for a
     * size-agnostic model) when it has none yet; null when the plan cannot cover the model.
     */
    public Forward anyPlan(Functional model) {
        synchronized (states) {
            State s = state(model);
            InferencePlan last = null;
            for (var e : s.plans.entrySet()) {
                if (e.getKey().startsWith(MixedPrecision.policy() + "[")) {
                    last = e.getValue();
                }
            }
            if (last != null) {
                return last;
            }
        }
        long[] shape = model.inputShape().dims();
        long[] one = new long[shape.length + 1];
        one[0] = 1;
        for (int i = 0; i < shape.length; i++) {
            one[i + 1] = shape[i] < 0 ? 224 : shape[i]; // a size-agnostic model: any size shows the path
        }
        return forward(model, one);
    }

    /** Whether a compiled plan for this model is cached (without compiling one). */
    public boolean hasPlan(Functional model) {
        synchronized (states) {
            State s = states.get(model);
            return s != null && !s.plans.isEmpty();
        }
    }

    /**
     * A training step for a classifier head (Dense, Dropout, Activation after an optional Flatten) on oneDNN's
     * matmul. Its weights and optimizer state live in the layout of a DL4J network trained by {@code base} (so
     * that checkpoints are the same on both engines): written into it at every write-back, read from it on restore.
     *
     * @throws UnsupportedOperationException saying why when the model is not such a head
     */
    public TrainStep headStep(Functional model, Optimizer optimizer, Loss loss, ComputationGraph net, TrainStep base) {
        return new DenseHeadStep(base, net, model, optimizer, loss);
    }
}
