package io.transferlab.layers;

import java.util.ArrayList;
import java.util.List;

/**
 * Keras's Conv2D, channels-last. Weights: kernel (kh, kw, in, filters) and bias (filters), glorot-uniform and
 * zero initialised as in Keras. Runs as a DL4J ConvolutionLayer in NHWC, DL4J's fast path with oneDNN.
 */
public class Conv2D extends Layer {
    private final int filters;
    private final int kernelH;
    private final int kernelW;
    private int strideH = 1;
    private int strideW = 1;
    private Padding padding = Padding.VALID;
    private String activation = "linear";
    private boolean useBias = true;

    public Conv2D(int filters, int kernelH, int kernelW, String name) {
        super(name);
        if (filters <= 0 || kernelH <= 0 || kernelW <= 0) {
            throw new IllegalArgumentException("Conv2D needs positive filters and kernel size, got filters=" + filters
                    + ", kernel_size=(" + kernelH + ", " + kernelW + ")");
        }
        this.filters = filters;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
    }

    public Conv2D strides(int h, int w) {
        this.strideH = h;
        this.strideW = w;
        return this;
    }

    /** "valid" (Keras's default) or "same". */
    public Conv2D padding(String mode) {
        this.padding = Padding.parse(mode);
        return this;
    }

    public Conv2D activation(String name) {
        this.activation = Activations.check(name);
        return this;
    }

    public Conv2D useBias(boolean value) {
        this.useBias = value;
        return this;
    }

    /** Keras's use_bias. */
    public boolean hasBias() {
        return useBias;
    }

    public int filters() {
        return filters;
    }

    public String activation() {
        return activation;
    }

    /** Kernel size, strides and padding, as Keras defines them. */
    public Window window() {
        return new Window(kernelH, kernelW, strideH, strideW, padding);
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 3) {
            throw new IllegalArgumentException("Conv2D '" + name() + "' needs an image input (height, width, channels), got " + s);
        }
        return Shape.of(padding.outputSize(s.get(0), kernelH, strideH), padding.outputSize(s.get(1), kernelW, strideW), filters);
    }

    @Override
    protected List<WeightSpec> buildWeights(List<Shape> in) {
        long channels = in.get(0).get(2);
        if (channels == Shape.NONE) {
            throw new IllegalArgumentException("Conv2D '" + name() + "' needs a known number of input channels");
        }
        List<WeightSpec> w = new ArrayList<>();
        w.add(new WeightSpec("kernel", new long[]{kernelH, kernelW, channels, filters}, true));
        if (useBias) {
            w.add(new WeightSpec("bias", new long[]{filters}, true));
        }
        return w;
    }
}
