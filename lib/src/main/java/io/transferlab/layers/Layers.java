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

    /** Keras's BatchNormalization() over the last axis: epsilon 1e-3, momentum 0.99, scale and center true. */
    public static BatchNormalization BatchNormalization() {
        return new BatchNormalization(null);
    }

    public static BatchNormalization BatchNormalization(String name) {
        return new BatchNormalization(name);
    }

    /** Keras's Activation("relu"), Activation("softmax"), ... as a layer of its own. */
    public static Activation Activation(String activation) {
        return new Activation(activation, null);
    }

    public static Activation Activation(String activation, String name) {
        return new Activation(activation, name);
    }

    /** Keras's ReLU() without an upper bound. */
    public static ReLU ReLU() {
        return new ReLU(null, null);
    }

    /** Keras's ReLU(max_value): ReLU(6.0) is MobileNet's relu6. */
    public static ReLU ReLU(double maxValue) {
        return new ReLU(maxValue, null);
    }

    public static ReLU ReLU(double maxValue, String name) {
        return new ReLU(maxValue, name);
    }

    /** Keras's ZeroPadding2D(padding=p): p rows and columns of zeros on every side. */
    public static ZeroPadding2D ZeroPadding2D(int padding) {
        return new ZeroPadding2D(padding, padding, padding, padding, null);
    }

    /** Keras's ZeroPadding2D(padding=(h, w)): h rows above and below, w columns left and right. */
    public static ZeroPadding2D ZeroPadding2D(int height, int width) {
        return new ZeroPadding2D(height, height, width, width, null);
    }

    /** Keras's ZeroPadding2D(padding=((top, bottom), (left, right))). */
    public static ZeroPadding2D ZeroPadding2D(int top, int bottom, int left, int right) {
        return new ZeroPadding2D(top, bottom, left, right, null);
    }

    public static ZeroPadding2D ZeroPadding2D(int top, int bottom, int left, int right, String name) {
        return new ZeroPadding2D(top, bottom, left, right, name);
    }

    /** Keras's DepthwiseConv2D(kernel_size=(k, k)): padding "valid", depth_multiplier 1, with bias, as in Keras. */
    public static DepthwiseConv2D DepthwiseConv2D(int kernelSize) {
        return new DepthwiseConv2D(kernelSize, kernelSize, null);
    }

    public static DepthwiseConv2D DepthwiseConv2D(int kernelSize, String name) {
        return new DepthwiseConv2D(kernelSize, kernelSize, name);
    }

    /** Keras's SeparableConv2D(filters, kernel_size=(k, k)): padding "valid", depth_multiplier 1, with bias. */
    public static SeparableConv2D SeparableConv2D(int filters, int kernelSize) {
        return new SeparableConv2D(filters, kernelSize, kernelSize, null);
    }

    public static SeparableConv2D SeparableConv2D(int filters, int kernelSize, String name) {
        return new SeparableConv2D(filters, kernelSize, kernelSize, name);
    }

    /** Keras's GlobalAveragePooling2D(): (h, w, c) becomes (c). */
    public static GlobalAveragePooling2D GlobalAveragePooling2D() {
        return new GlobalAveragePooling2D(null);
    }

    public static GlobalAveragePooling2D GlobalAveragePooling2D(String name) {
        return new GlobalAveragePooling2D(name);
    }

    /** Keras's GlobalMaxPooling2D(): (h, w, c) becomes (c). */
    public static GlobalMaxPooling2D GlobalMaxPooling2D() {
        return new GlobalMaxPooling2D(null);
    }

    public static GlobalMaxPooling2D GlobalMaxPooling2D(String name) {
        return new GlobalMaxPooling2D(name);
    }

    /** Keras's AveragePooling2D(pool_size=(p, p)), strides equal to the pool size, padding "valid". */
    public static AveragePooling2D AveragePooling2D(int poolSize) {
        return new AveragePooling2D(poolSize, poolSize, null);
    }

    public static AveragePooling2D AveragePooling2D(int poolSize, String name) {
        return new AveragePooling2D(poolSize, poolSize, name);
    }

    /** Keras's Concatenate() along the last axis; call it on two or more tensors with {@code .on(a, b)}. */
    public static Concatenate Concatenate() {
        return new Concatenate(null);
    }

    public static Concatenate Concatenate(String name) {
        return new Concatenate(name);
    }

    /** Keras's layers.concatenate([a, b, ...]) along the last axis. */
    public static Tensor concatenate(Tensor... inputs) {
        return new Concatenate(null).on(inputs);
    }

    /** Keras's Add(); call it on two or more tensors of the same shape with {@code .on(a, b)}. */
    public static Add Add() {
        return new Add(null);
    }

    public static Add Add(String name) {
        return new Add(name);
    }

    /** Keras's layers.add([a, b, ...]). */
    public static Tensor add(Tensor... inputs) {
        return new Add(null).on(inputs);
    }

    /** Keras's Multiply(); call it on two or more tensors with {@code .on(a, b)} (axes of size 1 broadcast). */
    public static Multiply Multiply() {
        return new Multiply(null);
    }

    public static Multiply Multiply(String name) {
        return new Multiply(name);
    }

    /** Keras's layers.multiply([a, b, ...]). */
    public static Tensor multiply(Tensor... inputs) {
        return new Multiply(null).on(inputs);
    }

    /** Keras's Reshape(target_shape): the new shape of each example, batch excluded; one -1 may be inferred. */
    public static Reshape Reshape(long... targetShape) {
        return new Reshape(targetShape, null);
    }

    public static Reshape Reshape(long[] targetShape, String name) {
        return new Reshape(targetShape, name);
    }

    /** Keras's RandomFlip("horizontal"): training-time augmentation inside the model. */
    public static RandomAugmentation.RandomFlip RandomFlip(String mode) {
        return new RandomAugmentation.RandomFlip(mode, null);
    }

    /** Keras's RandomRotation(factor), factor a fraction of a full turn. */
    public static RandomAugmentation.RandomRotation RandomRotation(double factor) {
        return new RandomAugmentation.RandomRotation(factor, null);
    }

    /** Keras's RandomZoom(factor). */
    public static RandomAugmentation.RandomZoom RandomZoom(double factor) {
        return new RandomAugmentation.RandomZoom(factor, null);
    }

    /** Keras's Rescaling(scale, offset=0.0): y = x * scale + offset. */
    public static Rescaling Rescaling(double scale) {
        return new Rescaling(scale, 0, null);
    }

    public static Rescaling Rescaling(double scale, double offset) {
        return new Rescaling(scale, offset, null);
    }

    public static Rescaling Rescaling(double scale, double offset, String name) {
        return new Rescaling(scale, offset, name);
    }

    /** Keras's Normalization() over the last axis, its mean, variance and count held as (non-trainable) weights. */
    public static Normalization Normalization() {
        return new Normalization(null, null, null);
    }

    public static Normalization Normalization(String name) {
        return new Normalization(null, null, name);
    }

    /** Keras's Normalization(mean=..., variance=...): fixed constants per channel (or one value for all). */
    public static Normalization Normalization(double[] mean, double[] variance) {
        return new Normalization(mean, variance, null);
    }

    public static Normalization Normalization(double[] mean, double[] variance, String name) {
        return new Normalization(mean, variance, name);
    }
}
