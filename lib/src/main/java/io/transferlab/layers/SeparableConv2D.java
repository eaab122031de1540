package io.transferlab.layers;

import java.util.ArrayList;
import java.util.List;

/**
 * Keras's SeparableConv2D, channels-last: a depthwise convolution (each input channel convolved with its own
 * {@code depth_multiplier} filters, with the layer's kernel size, strides and padding) followed by a 1x1
 * convolution that mixes the {@code in * depth_multiplier} channels into {@code filters}, then the bias and the
 * activation. Keras's weights, in Keras's order: depthwise_kernel (kh, kw, in, depth_multiplier), pointwise_kernel
 * (1, 1, in * depth_multiplier, filters) and, if {@link #hasBias()} (Keras's default true), bias (filters); the
 * depthwise step has no bias of its own. Parameters: kh*kw*in*m + in*m*filters (+ filters).
 */
public class SeparableConv2D extends Layer {
    private final int filters;
    private final int kernelH;
    private final int kernelW;
    private int strideH = 1;
    private int strideW = 1;
    private Padding padding = Padding.VALID;
    private int depthMultiplier = 1;
    private boolean useBias = true;
    private String activation = "linear";

    public SeparableConv2D(int filters, int kernelH, int kernelW, String name) {
        super(name);
        if (filters <= 0 || kernelH <= 0 || kernelW <= 0) {
            throw new IllegalArgumentException("SeparableConv2D needs positive filters and kernel size, got filters="
                    + filters + ", kernel_size=(" + kernelH + ", " + kernelW + ")");
        }
        this.filters = filters;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
    }

    public SeparableConv2D strides(int h, int w) {
        if (h <= 0 || w <= 0) {
            throw new IllegalArgumentException("SeparableConv2D strides must be positive, got (" + h + ", " + w + ")");
        }
        this.strideH = h;
        this.strideW = w;
        return this;
    }

    /** "valid" (Keras's default) or "same". */
    public SeparableConv2D padding(String mode) {
        this.padding = Padding.parse(mode);
        return this;
    }

    /** Keras's depth_multiplier: depthwise filters per input channel (default 1). */
    public SeparableConv2D depthMultiplier(int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("SeparableConv2D depth_multiplier must be positive, got " + value);
        }
        this.depthMultiplier = value;
        return this;
    }

    public SeparableConv2D useBias(boolean value) {
        this.useBias = value;
        return this;
    }

    public SeparableConv2D activation(String name) {
        this.activation = Activations.check(name);
        return this;
    }

    /** Keras's use_bias. */
    public boolean hasBias() {
        return useBias;
    }

    public int filters() {
        return filters;
    }

    public int depthMultiplier() {
        return depthMultiplier;
    }

    public String activation() {
        return activation;
    }

    /** Kernel size, strides and padding of the depthwise step, as Keras defines them. */
    public Window window() {
        return new Window(kernelH, kernelW, strideH, strideW, padding);
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 3) {
            throw new IllegalArgumentException("SeparableConv2D '" + name() + "' needs an image input (height, width, channels), got " + s);
        }
        if (s.get(2) == Shape.NONE) {
            throw new IllegalArgumentException("SeparableConv2D '" + name() + "' needs a known number of input channels");
        }
        return Shape.of(padding.outputSize(s.get(0), kernelH, strideH), padding.outputSize(s.get(1), kernelW, strideW),
                filters);
    }

    @Override
    protected List<WeightSpec> buildWeights(List<Shape> in) {
        long channels = in.get(0).get(2);
        List<WeightSpec> w = new ArrayList<>();
        w.add(new WeightSpec("depthwise_kernel", new long[]{kernelH, kernelW, channels, depthMultiplier}, true));
        w.add(new WeightSpec("pointwise_kernel", new long[]{1, 1, channels * depthMultiplier, filters}, true));
        if (useBias) {
            w.add(new WeightSpec("bias", new long[]{filters}, true));
        }
        return w;
    }
}
