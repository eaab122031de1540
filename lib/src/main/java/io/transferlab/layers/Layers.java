package io.transferlab.layers;

/**
 * Keras's layer constructors by their Keras names, for {@code import static io.transferlab.layers.Layers.*}:
 * {@code Dense(256, "relu")}, {@code Dropout(0.5)}, {@code Flatten()}, {@code Conv2D(64, 3, "relu")}.
 * Each has a form that also takes the layer's name, like Keras's {@code name=} argument.
 */
public final class Layers {
    private Layers() {
    }

    /** Keras's Input(shape=(h, w, c)): the start of a functional model. */
    public static Tensor Input(long... shape) {
        return new InputLayer(Shape.of(shape), null).output();
    }

    public static Tensor Input(String name, long... shape) {
        return new InputLayer(Shape.of(shape), name).output();
    }

    public static Dense Dense(int units) {
        return new Dense(units, null, null);
    }

    public static Dense Dense(int units, String activation) {
        return new Dense(units, activation, null);
    }

    public static Dense Dense(int units, String activation, String name) {
        return new Dense(units, activation, name);
    }

    public static Dropout Dropout(double rate) {
        return new Dropout(rate, null);
    }

    public static Dropout Dropout(double rate, String name) {
        return new Dropout(rate, name);
    }

    public static Flatten Flatten() {
        return new Flatten(null);
    }

    public static Flatten Flatten(String name) {
        return new Flatten(name);
    }

    /** Conv2D(filters, kernel_size=(k, k), activation=...), padding "valid" as in Keras. */
    public static Conv2D Conv2D(int filters, int kernelSize, String activation) {
        return new Conv2D(filters, kernelSize, kernelSize, null).activation(activation);
    }

    public static Conv2D Conv2D(int filters, int kernelSize, String activation, String name) {
        return new Conv2D(filters, kernelSize, kernelSize, name).activation(activation);
    }

    /** MaxPooling2D(pool_size=(p, p)), strides equal to the pool size as in Keras. */
    public static MaxPooling2D MaxPooling2D(int poolSize) {
        return new MaxPooling2D(poolSize, poolSize, null);
    }

    public static MaxPooling2D MaxPooling2D(int poolSize, String name) {
        return new MaxPooling2D(poolSize, poolSize, name);
    }
}
