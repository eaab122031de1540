package io.transferlab.engine.api;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model made trainable by an engine for one optimizer and loss: one optimizer step per batch. The engine may keep
 * the weights in its own form while training; {@link #writeBack} puts them into the model's layers (the one copy
 * everything else reads), and the trainer calls it at the end of every epoch and when training stops.
 */
public interface TrainStep extends AutoCloseable {
    /** What one step reports: the loss summed over the batch and the number of correct predictions. */
    record Result(double lossSum, long correct) {
    }

    /** One optimizer step on a batch (x channels-last, y one-hot or binary labels). */
    Result fit(INDArray x, INDArray y);

    /** Writes the trained weights into the model's layers. */
    void writeBack();

    /**
     * Whether {@link #predict} works: the step can run the model forward in inference mode on the weights it holds,
     * so that validation during training needs no {@link #writeBack} (and no new inference plan) every epoch.
     */
    default boolean predicts() {
        return false;
    }

    /**
     * The model's outputs for x in inference mode with the weights trained so far, equal (to float rounding) to
     * what the model predicts after {@link #writeBack}; only where {@link #predicts} says so.
     */
    default INDArray predict(INDArray x) {
        throw new UnsupportedOperationException(describe() + " does not predict");
    }

    /**
     * Reads the weights and optimizer state again from the network this step trains, after something else wrote
     * them there (a checkpoint restored through another step). Steps that keep nothing of their own do nothing.
     */
    default void reload() {
    }

    /** Writes weights and optimizer state into a folder, for resuming. */
    void saveState(Path dir) throws IOException;

    /**
     * Reads what {@link #saveState} wrote; the weights go into the layers too.
     *
     * @throws IllegalStateException naming the folder when it was written for a different model
     */
    void restoreState(Path dir) throws IOException;

    /** Which engine trains, and how. */
    String describe();

    @Override
    void close();
}
