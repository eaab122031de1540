package io.transferlab.data;

/** Something that gives batches, one epoch per iteration: an {@link ImageFolder} or {@link ArrayData}. */
public interface Dataset extends Iterable<Batch> {
    /** Number of examples. */
    int size();

    /** Batches per epoch. */
    int numBatches();
}
