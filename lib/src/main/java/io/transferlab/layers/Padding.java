package io.transferlab.layers;

/** Keras's padding modes for convolution and pooling. */
public enum Padding {
    /** No padding: the output shrinks by the kernel size minus one. */
    VALID,
    /** Zero padding so that the output size is the input size divided by the stride, rounded up. */
    SAME;

    static Padding parse(String s) {
        return switch (s.toLowerCase()) {
            case "valid" -> VALID;
            case "same" -> SAME;
            default -> throw new IllegalArgumentException("padding must be 'valid' or 'same', got '" + s + "'");
        };
    }

    long outputSize(long in, int kernel, int stride) {
        if (in == Shape.NONE) {
            return Shape.NONE;
        }
        return this == SAME ? (in + stride - 1) / stride : Math.max(0, Math.floorDiv(in - kernel, stride) + 1);
    }
}
