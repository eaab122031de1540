package io.transferlab.engine.api;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model compiled by an engine for inference at one input shape: frozen weights, batch-norm statistics, no dropout,
 * augmentation layers passing through. Owned by the engine that made it (cached, and dropped when the model's
 * weights change); callers run it and let it go.
 */
public interface Forward {
    /** The outputs for x (batch, ...input shape), channels-last, as a new array. */
    INDArray run(INDArray x);

    /** Which engine runs it, and how: for notebooks and benchmarks. */
    String describe();
}
