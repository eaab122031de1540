package io.transferlab.engine;

import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.engine.onednn.OneDnnEngine;
import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.runtime.Backend;

/**
 * The seam between the Keras face and the engines: the one place that picks an engine for a model.
 *
 * <ul>
 *   <li>{@link #forward}: inference (predict, feature extraction, evaluation) on the oneDNN engine's compiled plan
 *   when it covers the model, else on the DL4J engine; {@code TL_FAST_INFERENCE=0} forces DL4J.</li>
 *   <li>{@link #trainStep}: a classifier head on features trains on the oneDNN engine's head trainer, everything
 *   else on the DL4J engine; {@code TL_FAST_HEAD=0} forces DL4J.</li>
 * </ul>
 * With {@code transferlab.verbose=true} the choice and its reason are printed.
 */
public final class Engines {
    private Engines() {
    }

    /** Whether the oneDNN inference path is switched on (it is unless TL_FAST_INFERENCE=0 or transferlab.fastInference=false). */
    public static boolean fastInference() {
        return Backend.switchedOn("transferlab.fastInference", "TL_FAST_INFERENCE");
    }

    /** The model compiled for inputs of this shape (batch, ...input shape), on the fastest engine that covers it. */
    public static Forward forward(Functional model, long[] xShape) {
        if (fastInference()) {
            try {
                return OneDnnEngine.get().forward(model, xShape);
            } catch (UnsupportedOperationException e) {
                if (Backend.verbose()) {
                    System.out.println("Model '" + model.name() + "' runs on DL4J: the oneDNN plan does not support "
                            + e.getMessage());
                }
            }
        }
        return Dl4jEngine.get().forward(model);
    }

    /** Which engine {@link #forward} uses for this model, and why: for notebooks and benchmarks. */
    public static String describe(Functional model) {
        if (!fastInference()) {
            return "DL4J (fast inference switched off by TL_FAST_INFERENCE=0)";
        }
        long[] shape = model.inputShape().dims().clone();
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shape[i] < 0 ? 224 : shape[i]; // a size-agnostic model: any size shows the path
        }
        long[] one = new long[shape.length + 1];
        one[0] = 1;
        System.arraycopy(shape, 0, one, 1, shape.length);
        try {
            return OneDnnEngine.get().forward(model, one).describe();
        } catch (UnsupportedOperationException e) {
            String why = OneDnnEngine.unavailable();
            return why != null ? "DL4J (" + why + ")" : "DL4J (oneDNN plan not possible: " + e.getMessage() + ")";
        }
    }

    /**
     * A training step for the model with this optimizer and loss.
     *
     * @param inputAugmented whether the trainer augments the input batches (heads on features never are)
     */
    public static TrainStep trainStep(Functional model, Optimizer optimizer, Loss loss, boolean inputAugmented) {
        String why = inputAugmented ? "input augmentation" : !OneDnnEngine.headTrainingEnabled() ? "TL_FAST_HEAD=0" : null;
        TrainStep step = null;
        if (why == null) {
            try {
                step = OneDnnEngine.get().headStep(model, optimizer, loss);
            } catch (UnsupportedOperationException e) {
                why = e.getMessage();
            }
        }
        if (step == null) {
            step = Dl4jEngine.get().trainStep(model, optimizer, loss);
        }
        if (Backend.verbose()) {
            System.out.println("Training path: " + step.describe() + (why == null ? "" : " (" + why + ")"));
        }
        return step;
    }
}
