package io.transferlab.applications;

import io.transferlab.models.Model;
import io.transferlab.layers.Activation;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.DepthwiseConv2D;
import io.transferlab.layers.Dropout;
import io.transferlab.layers.GlobalAveragePooling2D;
import io.transferlab.layers.GlobalMaxPooling2D;
import io.transferlab.layers.Layers;
import io.transferlab.layers.ReLU;
import io.transferlab.layers.Reshape;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.layers.ZeroPadding2D;

import io.transferlab.weights.WeightStore;

import java.util.Locale;

/**
 * MobileNet (v1) exactly as keras.applications.MobileNet (Keras 2.x) builds it: conv1 (3x3, stride 2, no bias),
 * conv1_bn, conv1_relu (ReLU 6), then 13 blocks of depthwise conv_dw_N, conv_dw_N_bn, conv_dw_N_relu and pointwise
 * conv_pw_N, conv_pw_N_bn, conv_pw_N_relu, a ZeroPadding2D conv_pad_N ((0, 1), (0, 1)) before each strided
 * depthwise convolution. With the top: global average pooling, reshape_1, dropout, conv_preds (1x1), reshape_2
 * and predictions (softmax). Filters are {@code int(filters * alpha)}; BatchNormalization uses Keras's defaults
 * (epsilon 1e-3). Parameters: 4,253,864 at alpha 1.0 with the top, 3,228,864 without; 218,544 at alpha 0.25
 * without the top.
 */
public final class MobileNet extends ApplicationBuilder<MobileNet> {
    /** Pointwise filters (before alpha) and depthwise stride of blocks 1..13. */
    private static final int[][] BLOCKS = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1},
            {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};

    private double alpha = 1.0;
    private int depthMultiplier = 1;
    private double dropout = 1e-3;

    MobileNet() {
    }

    @Override
    protected String kerasName() {
        return "mobilenet";
    }

    @Override
    protected int minSize() {
        return 32;
    }

    /** Keras's alpha, the width multiplier: 0.25, 0.5, 0.75 or 1.0 for the ImageNet weights (default 1.0). */
    public MobileNet alpha(double value) {
        if (!(value > 0)) {
            throw new IllegalArgumentException("MobileNet alpha must be positive, got " + value);
        }
        this.alpha = value;
        return this;
    }

    /** Keras's depth_multiplier of the depthwise convolutions (default 1; must be 1 for the ImageNet weights). */
    public MobileNet depthMultiplier(int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("MobileNet depth_multiplier must be positive, got " + value);
        }
        this.depthMultiplier = value;
        return this;
    }

    /** Keras's dropout rate before the classifier (default 1e-3). */
    public MobileNet dropout(double rate) {
        this.dropout = rate;
        return this;
    }

    private long weightRows() {
        Shape s = shape();
        long rows = s.get(0);
        return rows == s.get(1) && (rows == 128 || rows == 160 || rows == 192 || rows == 224) ? rows : 224;
    }

    /** Keras's rules for the ImageNet weights: 3 channels, 1000 classes with the top, depth multiplier 1, published sizes. */
    @Override
    protected void checkImagenet() {
        Shape shape = shape();
        if (shape.get(2) != 3) {
            throw new IllegalArgumentException("The MobileNet ImageNet weights take 3-channel images, got input_shape " + shape);
        }
        if (depthMultiplier != 1) {
            throw new IllegalArgumentException("The MobileNet ImageNet weights need depth_multiplier 1, got " + depthMultiplier);
        }
        if (includeTop && classes != 1000) {
            throw new IllegalArgumentException("With include_top and ImageNet weights, MobileNet has 1000 classes (got "
                    + classes + "). Use includeTop(false) for a new classifier.");
        }
        if (includeTop && (shape.get(0) != shape.get(1) || weightRows() != shape.get(0))) {
            throw new IllegalArgumentException("With include_top and ImageNet weights, MobileNet takes square images of "
                    + "128, 160, 192 or 224 pixels, got input_shape " + shape + ". Use includeTop(false) for other sizes.");
        }
    }

    @Override
    protected WeightStore.WeightsFile imagenetWeights() {
        return WeightStore.mobileNet(alpha, (int) weightRows(), includeTop);
    }

    @Override
    protected Model buildArchitecture() {
        return Applications.buildChecked("MobileNet", shape(), this::graph, 32);
    }

    private Model graph(Shape shape) {
        Tensor input = Layers.Input(shape.dims());
        Tensor x = new Conv2D(filters(32), 3, 3, "conv1").strides(2, 2).padding("same").useBias(false).on(input);
        x = new BatchNormalization("conv1_bn").on(x);
        x = new ReLU(6.0, "conv1_relu").on(x);
        for (int b = 0; b < BLOCKS.length; b++) {
            x = depthwiseBlock(x, BLOCKS[b][0], BLOCKS[b][1], b + 1);
        }
        if (includeTop) {
            int channels = filters(1024);
            x = new GlobalAveragePooling2D(null).on(x);
            x = new Reshape(new long[]{1, 1, channels}, "reshape_1").on(x);
            x = new Dropout(dropout, "dropout").on(x);
            x = new Conv2D(classes, 1, 1, "conv_preds").padding("same").on(x);
            x = new Reshape(new long[]{classes}, "reshape_2").on(x);
            x = new Activation(classifierActivation, "predictions").on(x);
        } else if ("avg".equals(pooling)) {
            x = new GlobalAveragePooling2D(null).on(x);
        } else if ("max".equals(pooling)) {
            x = new GlobalMaxPooling2D(null).on(x);
        }
        String rows = shape.get(0) == Shape.NONE ? (weights != null ? "224" : "None")
                : Long.toString(weights != null ? weightRows() : shape.get(0));
        return Model.of(String.format(Locale.ROOT, "mobilenet_%.2f_%s", alpha, rows), input, x);
    }

    private Tensor depthwiseBlock(Tensor in, int pointwiseFilters, int stride, int id) {
        Tensor x = in;
        if (stride != 1) {
            x = new ZeroPadding2D(0, 1, 0, 1, "conv_pad_" + id).on(x);
        }
        x = new DepthwiseConv2D(3, 3, "conv_dw_" + id).padding(stride == 1 ? "same" : "valid")
                .depthMultiplier(depthMultiplier).strides(stride, stride).useBias(false).on(x);
        x = new BatchNormalization("conv_dw_" + id + "_bn").on(x);
        x = new ReLU(6.0, "conv_dw_" + id + "_relu").on(x);
        x = new Conv2D(filters(pointwiseFilters), 1, 1, "conv_pw_" + id).padding("same").useBias(false).on(x);
        x = new BatchNormalization("conv_pw_" + id + "_bn").on(x);
        return new ReLU(6.0, "conv_pw_" + id + "_relu").on(x);
    }

    /** Keras's int(filters * alpha). */
    private int filters(int base) {
        return (int) (base * alpha);
    }
}
