package io.transferlab.layers;

import io.transferlab.layers.dl4j.ContiguousDepthwiseConvolution;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

    @Override
    public Object toDl4j(List<Shape> in) {
        return ContiguousDepthwiseConvolution.of(new DepthwiseConvolution2D.Builder(kernelH, kernelW)
                .stride(strideH, strideW)
                .nIn(in.get(0).get(2))
                .depthMultiplier(depthMultiplier)
                .convolutionMode(padding.dl4j())
                .dataFormat(CNN2DFormat.NHWC)
                .activation(Activations.dl4j(activation))
                .hasBias(useBias)
                .weightInit(WeightInit.XAVIER_UNIFORM));
    }

    /** Same layout in both: (kh, kw, in, multiplier). */
    @Override
    public Map<String, INDArray> toDl4jParams(List<INDArray> k) {
        return useBias ? Map.of("W", k.get(0), "b", k.get(1)) : Map.of("W", k.get(0));
    }

    @Override
    public List<INDArray> fromDl4jParams(Map<String, INDArray> p) {
        long n = weightSpecs().get(0).shape()[2] * depthMultiplier;
        INDArray kernel = p.get("W").dup('c');
        return useBias ? List.of(kernel, p.get("b").reshape(n).dup()) : List.of(kernel);
    }
}
