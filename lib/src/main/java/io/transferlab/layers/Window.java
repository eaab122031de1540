package io.transferlab.layers;

/**
 * The sliding-window geometry of a convolution or pooling layer, as Keras defines it: kernel (pool) size, strides
 * and padding mode. {@link #pads} gives the explicit zero padding that Keras's "same" implies (TensorFlow's rule:
 * the odd pixel, if any, goes to the bottom and right).
 */
public record Window(int kernelH, int kernelW, int strideH, int strideW, Padding padding) {

    /** Output height and width for an input of the given height and width. */
    public long[] outputSize(long inH, long inW) {
        return new long[]{padding.outputSize(inH, kernelH, strideH), padding.outputSize(inW, kernelW, strideW)};
    }

    /** Explicit padding {top, bottom, left, right} for an input of the given height and width. */
    public long[] pads(long inH, long inW) {
        if (padding == Padding.VALID) {
            return new long[4];
        }
        long th = total(inH, kernelH, strideH);
        long tw = total(inW, kernelW, strideW);
        return new long[]{th / 2, th - th / 2, tw / 2, tw - tw / 2};
    }

    private static long total(long in, int k, int s) {
        long out = (in + s - 1) / s;
        return Math.max((out - 1) * s + k - in, 0);
    }
}
