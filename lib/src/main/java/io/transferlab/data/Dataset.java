package io.transferlab.data;

/** Something that gives batches, one epoch per iteration: an {@link ImageFolder} or {@link ArrayData}. */
public interface Dataset extends Iterable<Batch> {
    /** Number of examples. */
    int size();

    /** Batches per epoch. */
    int numBatches();

    /**
     * The number of the epoch the next iteration gives (0 for a new dataset; each iteration counts one): the order
     * of examples (and augmentation draws) depend on it, so a checkpoint saves it and a resumed run sets it back.
     */
    default int epoch() {
        return 0;
    }

    /** Makes the next iteration give this epoch's order (see {@link #epoch()}). */
    default void setEpoch(int epoch) {
        if (epoch != 0) {
            throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot start at epoch " + epoch);
        }
    }

    /**
     * The order of examples in one epoch: 0..n-1, or a shuffle drawn from the seed and the epoch number, so that
     * every epoch differs and a rerun (or a resumed run) repeats them exactly.
     */
    static int[] epochOrder(int n, boolean shuffle, long seed, int epoch) {
        int[] order = java.util.stream.IntStream.range(0, n).toArray();
        if (shuffle) {
            java.util.Random rng = new java.util.Random(seed * 1_000_003L + epoch);
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }
}
