package io.transferlab.applications;

import io.transferlab.models.Model;
import io.transferlab.layers.Add;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.DepthwiseConv2D;
import io.transferlab.layers.GlobalAveragePooling2D;
import io.transferlab.layers.GlobalMaxPooling2D;
import io.transferlab.layers.Layers;
import io.transferlab.layers.ReLU;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.layers.ZeroPadding2D;

import io.transferlab.weights.WeightStore;

import java.util.Locale;

/**
 * MobileNetV2 exactly as keras.applications.MobileNetV2 (Keras 2.x) builds it: Conv1 (3x3, stride 2, no bias),
 * bn_Conv1, Conv1_relu; the inverted residual blocks expanded_conv_* (block 0, no expansion) and block_1_* ..
 * block_16_* (expand, expand_BN, expand_relu, pad before strided depthwise convolutions, depthwise, depthwise_BN,
 * depthwise_relu, project, project_BN, and add when the block keeps its shape); then Conv_1 (1x1), Conv_1_bn,
 * out_relu; with the top, global average pooling and predictions (Dense, softmax). Every BatchNormalization has
 * epsilon 1e-3 and momentum 0.999; activations are ReLU 6. Parameters at alpha 1.0: 3,538,984 with the top,
 * 2,257,984 without.
 */
public final class MobileNetV2 extends ApplicationBuilder<MobileNetV2> {
    /** Output filters (before alpha), stride and expansion of blocks 0..16. */
    private static final int[][] BLOCKS = {{16, 1, 1}, {24, 2, 6}, {24, 1, 6}, {32, 2, 6}, {32, 1, 6}, {32, 1, 6},
            {64, 2, 6}, {64, 1, 6}, {64, 1, 6}, {64, 1, 6}, {96, 1, 6}, {96, 1, 6}, {96, 1, 6}, {160, 2, 6},
            {160, 1, 6}, {160, 1, 6}, {320, 1, 6}};

    private double alpha = 1.0;

    MobileNetV2() {
    }

    @Override
    protected String kerasName() {
        return "mobilenet_v2";
    }

    @Override
    protected int minSize() {
        return 32;
    }

    /** Keras's alpha, the width multiplier: 0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 for the ImageNet weights (default 1.0). */
    public MobileNetV2 alpha(double value) {
        if (!(value > 0)) {
            throw new IllegalArgumentException("MobileNetV2 alpha must be positive, got " + value);
        }
        this.alpha = value;
        return this;
    }

    private long weightRows() {
        Shape s = shape();
        long rows = s.get(0);
        return rows == s.get(1) && (rows == 96 || rows == 128 || rows == 160 || rows == 192 || rows == 224) ? rows : 224;
    }

    /** Keras's rules for the ImageNet weights: 3 channels, 1000 classes with the top, published sizes. */
    @Override
    protected void checkImagenet() {
        Shape shape = shape();
        if (shape.get(2) != 3) {
            throw new IllegalArgumentException("The MobileNetV2 ImageNet weights take 3-channel images, got input_shape " + shape);
        }
        if (includeTop && classes != 1000) {
            throw new IllegalArgumentException("With include_top and ImageNet weights, MobileNetV2 has 1000 classes (got "
                    + classes + "). Use includeTop(false) for a new classifier.");
        }
    }

    @Override
    protected WeightStore.WeightsFile imagenetWeights() {
        return WeightStore.mobileNetV2(alpha, (int) weightRows(), includeTop);
    }

    @Override
    protected Model buildArchitecture() {
        return Applications.buildChecked("MobileNetV2", shape(), this::graph, 32);
    }

    private Model graph(Shape shape) {
        Tensor input = Layers.Input(shape.dims());
        Tensor x = new Conv2D(makeDivisible(32 * alpha), 3, 3, "Conv1").strides(2, 2).padding("same").useBias(false).on(input);
        x = bn("bn_Conv1").on(x);
        x = new ReLU(6.0, "Conv1_relu").on(x);
        for (int b = 0; b < BLOCKS.length; b++) {
            x = invertedResidual(x, BLOCKS[b][0], BLOCKS[b][1], BLOCKS[b][2], b);
        }
        int last = alpha > 1.0 ? makeDivisible(1280 * alpha) : 1280;
        x = new Conv2D(last, 1, 1, "Conv_1").useBias(false).on(x);
        x = bn("Conv_1_bn").on(x);
        x = new ReLU(6.0, "out_relu").on(x);
        if (includeTop) {
            x = new GlobalAveragePooling2D(null).on(x);
            x = new Dense(classes, classifierActivation, "predictions").on(x);
        } else if ("avg".equals(pooling)) {
            x = new GlobalAveragePooling2D(null).on(x);
        } else if ("max".equals(pooling)) {
            x = new GlobalMaxPooling2D(null).on(x);
        }
        String rows = shape.get(0) == Shape.NONE ? (weights != null ? "224" : "None")
                : Long.toString(weights != null ? weightRows() : shape.get(0));
        return Model.of(String.format(Locale.ROOT, "mobilenetv2_%.2f_%s", alpha, rows), input, x);
    }

    private Tensor invertedResidual(Tensor in, int filters, int stride, int expansion, int id) {
        long inChannels = in.shape().get(2);
        int pointwise = makeDivisible((int) (filters * alpha));
        String prefix = id == 0 ? "expanded_conv_" : "block_" + id + "_";
        Tensor x = in;
        if (id != 0) {
            x = new Conv2D((int) (expansion * inChannels), 1, 1, prefix + "expand").padding("same").useBias(false).on(x);
            x = bn(prefix + "expand_BN").on(x);
            x = new ReLU(6.0, prefix + "expand_relu").on(x);
        }
        if (stride == 2) {
            // Keras's correct_pad: one more row/column after than before when the size is even
            long h = x.shape().get(0);
            long w = x.shape().get(1);
            int adjustH = h == Shape.NONE ? 1 : (int) (1 - h % 2);
            int adjustW = w == Shape.NONE ? 1 : (int) (1 - w % 2);
            x = new ZeroPadding2D(1 - adjustH, 1, 1 - adjustW, 1, prefix + "pad").on(x);
        }
        x = new DepthwiseConv2D(3, 3, prefix + "depthwise").strides(stride, stride).useBias(false)
                .padding(stride == 1 ? "same" : "valid").on(x);
        x = bn(prefix + "depthwise_BN").on(x);
        x = new ReLU(6.0, prefix + "depthwise_relu").on(x);
        x = new Conv2D(pointwise, 1, 1, prefix + "project").padding("same").useBias(false).on(x);
        x = bn(prefix + "project_BN").on(x);
        if (inChannels == pointwise && stride == 1) {
            return new Add(prefix + "add").on(in, x);
        }
        return x;
    }

    private static BatchNormalization bn(String name) {
        return new BatchNormalization(name).epsilon(1e-3).momentum(0.999);
    }

    /** Keras's _make_divisible(v, 8): the nearest multiple of 8, not below 8 nor more than 10% below v. */
    private static int makeDivisible(double v) {
        int divisor = 8;
        int newV = Math.max(divisor, (int) (v + divisor / 2.0) / divisor * divisor);
        if (newV < 0.9 * v) {
            newV += divisor;
        }
        return newV;
    }
}
