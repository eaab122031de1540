package io.transferlab.inference;

import io.transferlab.engine.Engines;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Shape;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs a model forward for inference (Keras's {@code model.predict}) on the fastest engine this machine has (see
 * {@link Engines#forward}): a oneDNN plan compiled from the model (weights pre-laid out, batch norm folded,
 * activations fused, channels-blocked throughout), or the DL4J engine when the plan cannot cover the model (a layer
 * it does not support, no oneDNN build for this platform) or when it is switched off ({@code TL_FAST_INFERENCE=0}).
 */
public final class Inference {
    private Inference() {
    }

    /**
     * The model's outputs for x (batch, ...input shape), channels-last, in inference mode (no dropout, frozen
     * batch-norm statistics).
     */
    public static INDArray predict(Functional model, INDArray x) {
        if (!model.inputShape().isFullyKnown()) {
            // a size-agnostic model: a too small image gets the smallest size that works, not an engine's error
            long[] s = x.shape();
            model.outputShapeFor(Shape.of(java.util.Arrays.copyOfRange(s, 1, s.length)));
        }
        return Engines.forward(model, x.shape()).run(x);
    }

    /** Which path predict takes for this model, and why: for notebooks and benchmarks. */
    public static String describe(Functional model) {
        return Engines.describe(model);
    }
}
