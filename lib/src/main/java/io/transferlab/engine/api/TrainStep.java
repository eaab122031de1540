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
