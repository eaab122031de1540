package io.transferlab.data;

/** Keras's class_mode: how labels are given. */
public enum ClassMode {
    /** One value per image, 0 or 1 (two classes; for a sigmoid output and binary_crossentropy). */
    BINARY,
    /** One-hot vectors (for a softmax output and categorical_crossentropy). */
    CATEGORICAL,
    /** The class index as one value (for sparse_categorical_crossentropy). */
    SPARSE
}
