package io.transferlab.train;

import io.transferlab.engine.api.TrainStep;
import io.transferlab.graph.Functional;

/**
 * What a callback sees: the model, the engine's training step (its state is what a checkpoint saves), the history so
 * far and the planned epochs.
 */
public record TrainingContext(Functional model, TrainStep step, History history, int epochs) {
}
