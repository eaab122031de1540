package io.transferlab.train;

import io.transferlab.data.Dataset;
import io.transferlab.engine.api.TrainStep;
import io.transferlab.graph.Functional;

/**
 * What a callback sees: the model, the engine's training step (its state is what a checkpoint saves), the training
 * data (its epoch counter sets the order of examples, which a checkpoint saves too), the history so far and the
 * planned epochs.
 */
public record TrainingContext(Functional model, TrainStep step, Dataset train, History history, int epochs) {
}
