package io.transferlab.layers;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The shape of one example, without the batch dimension, written as Keras writes it with the batch first:
 * {@code (None, 150, 150, 64)}. Images are channels-last (height, width, channels). A dimension of
 * {@link #NONE} is unknown until data arrives, as Keras's {@code None}.
 */
public final class Shape {
    /** An unknown dimension (Keras's None). */
    public static final long NONE = -1;

    private final long[] dims;

    private Shape(long[] dims) {
        this.dims = dims.clone();
    }

    /** A shape from its dimensions, batch excluded; use {@link #NONE} for unknown ones. */
    public static Shape of(long... dims) {
        for (long d : dims) {
            if (d < NONE) {
                throw new IllegalArgumentException("Negative dimension in shape " + Arrays.toString(dims));
            }
        }
        return new Shape(dims);
    }

    public int rank() {
        return dims.length;
    }

    public long get(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public long[] dims() {
        return dims.clone();
    }

    public boolean isFullyKnown() {
        return Arrays.stream(dims).noneMatch(d -> d == NONE);
    }

    /** Number of values per example; fails if a dimension is unknown. */
    public long size() {
        if (!isFullyKnown()) {
            throw new IllegalStateException("Shape " + this + " has unknown dimensions: give the model an input shape");
        }
        return Arrays.stream(dims).reduce(1, (a, b) -> a * b);
    }

    /** The same shape with the batch dimension of the given size in front. */
    public long[] withBatch(long batch) {
        long[] out = new long[dims.length + 1];
        out[0] = batch;
        System.arraycopy(dims, 0, out, 1, dims.length);
        return out;
    }

    /** Keras's way of writing it: {@code (None, 150, 150, 64)}. */
    @Override
    public String toString() {
        return "(None, " + Arrays.stream(dims).mapToObj(d -> d == NONE ? "None" : Long.toString(d))
                .collect(Collectors.joining(", ")) + (dims.length == 0 ? ")" : ")");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }
}
