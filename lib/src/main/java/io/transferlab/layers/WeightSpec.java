package io.transferlab.layers;

import java.util.Arrays;

/** One weight variable of a layer in Keras's terms: its name (kernel, bias, moving_mean...), shape, trainability. */
public record WeightSpec(String name, long[] shape, boolean trainable) {
    public long size() {
        return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
