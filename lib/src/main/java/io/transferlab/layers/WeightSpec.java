package io.transferlab.layers;

import java.util.Arrays;

/**
 * One weight variable of a layer in Keras's terms: its name (kernel, bias, moving_mean...), shape, trainability and
 * the Keras initializer that gives it its first values.
 */
public record WeightSpec(String name, long[] shape, boolean trainable, Initializer initializer) {

    /** A variable with Keras's default initializer for its name (see {@link Initializer#kerasDefault}). */
    public WeightSpec(String name, long[] shape, boolean trainable) {
        this(name, shape, trainable, Initializer.kerasDefault(name));
    }

    public long size() {
        return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
