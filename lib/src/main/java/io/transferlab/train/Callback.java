package io.transferlab.train;

/** Hooks into {@link Trainer#fit}: checkpoints, early stopping, logs. */
public interface Callback {
    /** Before the first epoch; may move the starting epoch (a checkpoint that resumes does). */
    default int onTrainBegin(TrainingContext ctx, int initialEpoch) {
        return initialEpoch;
    }

    /** After each epoch, with its figures already in ctx.history(). */
    default void onEpochEnd(TrainingContext ctx, EpochLog log) {
    }

    /** Asked after each epoch; true ends training. */
    default boolean stopTraining() {
        return false;
    }

    default void onTrainEnd(TrainingContext ctx) {
    }
}
