package io.transferlab.engine;

import io.transferlab.engine.api.Forward;
import io.transferlab.engine.api.LayerGradient;
import io.transferlab.engine.api.TrainStep;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.engine.dl4j.Dl4jTrainStep;
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
 *   <li>{@link #trainStep}: a model whose learning layers all come after a frozen prefix (fine-tuning) runs the
 *   prefix forward on the inference plan and trains the rest on DL4J ({@code TL_FAST_FINETUNE=0} trains the
 *   whole network on DL4J); a classifier head on features trains on the oneDNN engine's head trainer, everything
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
        Forward f = fastInference() ? OneDnnEngine.get().forward(model, xShape) : null;
        return f != null ? f : Dl4jEngine.get().forward(model);
    }

    /**
     * Which engine {@link #forward} uses for this model, and why: for notebooks and benchmarks. Describes the plan
     * the model last ran on (compiling one only for a model that never ran).
     */
    public static String describe(Functional model) {
        if (!fastInference()) {
            return "DL4J (fast inference switched off by TL_FAST_INFERENCE=0)";
        }
        Forward plan = OneDnnEngine.get().anyPlan(model);
        if (plan != null) {
            return plan.describe();
        }
        String why = OneDnnEngine.unavailable();
        return why != null ? "DL4J (" + why + ")" : "DL4J (oneDNN plan not possible: " + OneDnnEngine.get().whyNot(model) + ")";
    }

    /**
     * A training step for the model with this optimizer and loss.
     *
     * @param inputAugmented whether the trainer augments the input batches (heads on features never are)
     */
    public static TrainStep trainStep(Functional model, Optimizer optimizer, Loss loss, boolean inputAugmented) {
        String fineTune = fastFineTuning() ? frozenPrefixWhyNot(model) : "TL_FAST_FINETUNE=0";
        if (fineTune == null) {
            TrainStep step = new FrozenPrefixStep(model, optimizer, loss, FrozenPrefix.of(model));
            if (Backend.verbose()) {
                System.out.println("Training path: " + step.describe());
            }
            return step;
        }
        if (Backend.verbose()) {
            System.out.println("Fast fine-tuning (frozen prefix on the inference plan) not used: " + fineTune);
        }
        Dl4jTrainStep base = Dl4jEngine.get().trainStep(model, optimizer, loss);
        HeadChoice head = inputAugmented ? new HeadChoice(base, "input augmentation")
                : headStep(model, optimizer, loss, base);
        TrainStep step = head.step();
        String why = head.whyNot();
        if (Backend.verbose()) {
            System.out.println("Training path: " + step.describe() + (why == null ? "" : " (" + why + ")"));
        }
        return step;
    }

    /** The step that trains a model: the head trainer's, or the DL4J step with why not. */
    record HeadChoice(TrainStep step, String whyNot) {
    }

    /**
     * The oneDNN engine's head trainer over the DL4J step's network when the model is a classifier head (and
     * TL_FAST_HEAD is not 0), else the DL4J step itself and why not.
     */
    static HeadChoice headStep(Functional model, Optimizer optimizer, Loss loss, Dl4jTrainStep base) {
        if (!OneDnnEngine.headTrainingEnabled()) {
            return new HeadChoice(base, "TL_FAST_HEAD=0");
        }
        try {
            return new HeadChoice(OneDnnEngine.get().headStep(model, optimizer, loss, base.network(), base), null);
        } catch (UnsupportedOperationException e) {
            return new HeadChoice(base, e.getMessage());
        }
    }

    /** Whether fine-tuning runs a frozen prefix on the inference plan (unless TL_FAST_FINETUNE=0 or transferlab.fastFinetune=false). */
    public static boolean fastFineTuning() {
        return Backend.switchedOn("transferlab.fastFinetune", "TL_FAST_FINETUNE");
    }

    /**
     * Null when {@link #trainStep} trains the model as a frozen prefix run forward on the oneDNN inference plan and a
     * trainable suffix on DL4J; else why not (no frozen prefix with weights before every learning layer, or the
     * oneDNN engine is off or absent).
     */
    public static String frozenPrefixWhyNot(Functional model) {
        if (!fastInference()) {
            return "fast inference switched off by TL_FAST_INFERENCE=0";
        }
        if (OneDnnEngine.unavailable() != null) {
            return OneDnnEngine.unavailable();
        }
        return FrozenPrefix.of(model).whyNot();
    }

    /** The layer whose output ends the frozen prefix {@link #trainStep} would run on the inference plan, or null. */
    public static String frozenPrefixCut(Functional model) {
        return frozenPrefixWhyNot(model) == null ? FrozenPrefix.of(model).cut() : null;
    }

    /**
     * The model compiled to differentiate its output with respect to a layer's output (Grad-CAM and other saliency
     * methods). Only the DL4J engine can do this; it runs in inference mode and leaves the weights alone.
     *
     * @param withoutOutputActivation differentiate the final Dense (or Activation) layer's output before its
     *                                activation: the logits of a softmax or sigmoid classifier
     */
    public static LayerGradient layerGradient(Functional model, String layerName, boolean withoutOutputActivation) {
        return Dl4jEngine.get().layerGradient(model, layerName, withoutOutputActivation);
    }
}
