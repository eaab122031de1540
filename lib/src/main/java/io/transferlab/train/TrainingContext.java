package io.transferlab.train;

import io.transferlab.graph.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;

/** What a callback sees: the model, its running network, the history so far and the planned epochs. */
public record TrainingContext(Model model, ComputationGraph network, History history, int epochs) {
}
