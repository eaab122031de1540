package io.transferlab.engine.onednn;

import io.transferlab.engine.Forward;
import io.transferlab.engine.TrainStep;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.engine.dl4j.Dl4jTrainStep;
import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.runtime.Backend;

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

    /** The name of the matrix-product engine the head trainer uses (oneDNN, or OpenBLAS where oneDNN is absent). */
    public static String matMulEngine() {
        return MatMul.defaultEngine();
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
     * The model compiled for inputs of this shape (batch, ...), cached.
     *
     * @throws UnsupportedOperationException naming the layer (or the reason) when the plan cannot cover the model
     */
    public Forward forward(Functional model, long[] xShape) {
        String why = unavailable();
        if (why != null) {
            throw new UnsupportedOperationException(why);
        }
        Backend.init();
        String key = Arrays.toString(xShape);
        synchronized (states) {
            State s = state(model);
            if (s.unsupported != null) {
                throw new UnsupportedOperationException(s.unsupported);
            }
            InferencePlan p = s.plans.remove(key);
            if (p == null) {
                try {
                    p = InferencePlan.compile(model, xShape);
                } catch (UnsupportedOperationException e) {
                    s.clear();
                    s.unsupported = e.getMessage();
                    throw e;
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

    /** Whether a compiled plan for this model is cached (without compiling one). */
    public boolean hasPlan(Functional model) {
        synchronized (states) {
            State s = states.get(model);
            return s != null && !s.plans.isEmpty();
        }
    }

    /**
     * A training step for a classifier head (Dense, Dropout, Activation after an optional Flatten) on oneDNN's
     * matmul, keeping its state in the DL4J network's layout so that checkpoints are the same on both engines.
     *
     * @throws UnsupportedOperationException saying why when the model is not such a head
     */
    public TrainStep headStep(Functional model, Optimizer optimizer, Loss loss) {
        return new DenseHeadStep((Dl4jTrainStep) Dl4jEngine.get().trainStep(model, optimizer, loss), model, optimizer, loss);
    }
}
