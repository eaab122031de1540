package io.transferlab.layers;

import java.util.ArrayList;
import java.util.List;

/**
 * Keras's DepthwiseConv2D, channels-last: each input channel is convolved with its own
 * {@code depth_multiplier} filters; output channel {@code c * depth_multiplier + m} comes from input channel c and
 * filter m. Weights: depthwise_kernel (kh, kw, in, depth_multiplier) and, if {@link #useBias} (Keras's default
 * true), bias (in * depth_multiplier). Runs as DL4J's DepthwiseConvolution2D in NHWC, whose kernel layout is the
 * same as Keras's.
 */
public class DepthwiseConv2D extends Layer {
    private final int kernelH;
    private final int kernelW;
    private int strideH = 1;
    private int strideW = 1;
    private Padding padding = Padding.VALID;
    private int depthMultiplier = 1;
    private boolean useBias = true;
    private String activation = "linear";

    public DepthwiseConv2D(int kernelH, int kernelW, String name) {
        super(name);
        if (kernelH <= 0 || kernelW <= 0) {
            throw new IllegalArgumentException("DepthwiseConv2D needs a positive kernel size, got (" + kernelH + ", "
                    + kernelW + ")");
        }
        this.kernelH = kernelH;
        this.kernelW = kernelW;
    }

    public DepthwiseConv2D strides(int h, int w) {
        if (h <= 0 || w <= 0) {
            throw new IllegalArgumentException("DepthwiseConv2D strides must be positive, got (" + h + ", " + w + ")");
        }
        this.strideH = h;
        this.strideW = w;
        return this;
    }

    /** "valid" (Keras's default) or "same". */
    public DepthwiseConv2D padding(String mode) {
        this.padding = Padding.parse(mode);
        return this;
    }

    /** Keras's depth_multiplier: filters per input channel (default 1). */
    public DepthwiseConv2D depthMultiplier(int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("DepthwiseConv2D depth_multiplier must be positive, got " + value);
        }
        this.depthMultiplier = value;
        return this;
    }

    public DepthwiseConv2D useBias(boolean value) {
        this.useBias = value;
        return this;
    }

    /** Keras's use_bias. */
    public boolean hasBias() {
        return useBias;
    }

    public DepthwiseConv2D activation(String name) {
        this.activation = Activations.check(name);
        return this;
    }

    public int depthMultiplier() {
        return depthMultiplier;
    }

    /** Kernel size, strides and padding, as Keras defines them. */
    public Window window() {
        return new Window(kernelH, kernelW, strideH, strideW, padding);
    }

    public String activation() {
        return activation;
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 3) {
            throw new IllegalArgumentException("DepthwiseConv2D '" + name() + "' needs an image input (height, width, channels), got " + s);
        }
        if (s.get(2) == Shape.NONE) {
            throw new IllegalArgumentException("DepthwiseConv2D '" + name() + "' needs a known number of input channels");
        }
        return Shape.of(padding.outputSize(s.get(0), kernelH, strideH), padding.outputSize(s.get(1), kernelW, strideW),
                s.get(2) * depthMultiplier);
    }

    @Override
    protected List<WeightSpec> buildWeights(List<Shape> in) {
        long channels = in.get(0).get(2);
        List<WeightSpec> w = new ArrayList<>();
        w.add(new WeightSpec("depthwise_kernel", new long[]{kernelH, kernelW, channels, depthMultiplier}, true));
        if (useBias) {
            w.add(new WeightSpec("bias", new long[]{channels * depthMultiplier}, true));
        }
        return w;
    }
}
