package io.transferlab.applications;

import io.transferlab.layers.Activation;
import io.transferlab.layers.AveragePooling2D;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Concatenate;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.GlobalAveragePooling2D;
import io.transferlab.layers.GlobalMaxPooling2D;
import io.transferlab.layers.Layers;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.layers.ZeroPadding2D;
import io.transferlab.models.Model;

/**
 * DenseNet121, DenseNet169 and DenseNet201 as keras.applications builds them (keras/src/applications/densenet.py):
 * a 7x7 stem, four dense blocks of 6, 12, 24/32/48 and 16/32/32 bottleneck blocks (batch normalization, ReLU, 1x1
 * convolution to 128 channels, batch normalization, ReLU, 3x3 convolution to 32: the growth rate, concatenated to the
 * block's input along the channels), transition layers between the blocks (batch normalization, ReLU, a 1x1
 * convolution halving the channels, 2x2 average pooling), a last batch normalization and ReLU. No convolution has a
 * bias; every batch normalization has epsilon 1.001e-5. Counts as Keras's: DenseNet121 8,062,504 with top (7,037,504
 * without, 83,648 of them non-trainable), DenseNet169 14,307,880 (12,642,880; 158,400), DenseNet201 20,242,984
 * (18,321,984; 229,056). Preprocessing: "torch" ({@link io.transferlab.data.Preprocessing#TORCH}). Minimum input 32.
 *
 * <p>Layer names are those inside the published weight files, which the library loads by name. The files were
 * written in 2018 by keras-applications' densenet.py, which named the stem {@code conv1/conv}, {@code conv1/bn},
 * {@code conv1/relu} and the classifier {@code fc1000}; Keras 3 calls them conv1_conv, conv1_bn, conv1_relu and
 * predictions, but it loads these legacy files by layer order, not by name, so the files were never rewritten. Every
 * other name (conv2_block1_0_bn ... conv5_block16_concat, pool2_conv, pool2_pool, bn, relu, avg_pool) is the same in
 * all Keras versions. The two unnamed paddings are called as Keras 3 calls them in a fresh session: zero_padding2d and
 * zero_padding2d_1 (they hold no weights).
 */
public final class DenseNet extends ApplicationBuilder<DenseNet> {
    private static final double EPSILON = 1.001e-5;
    private static final int GROWTH_RATE = 32;
    /** The stem's and the classifier's names in the published files (Keras 3: conv1_conv, conv1_bn, conv1_relu, predictions). */
    static final String STEM_CONV = "conv1/conv";
    static final String STEM_BN = "conv1/bn";
    static final String STEM_RELU = "conv1/relu";
    static final String CLASSIFIER = "fc1000";

    private final String name;
    private final int[] blocks;

    private DenseNet(String name, int[] blocks) {
        this.name = name;
        this.blocks = blocks;
    }

    static DenseNet denseNet121() {
        return new DenseNet("densenet121", new int[]{6, 12, 24, 16});
    }

    static DenseNet denseNet169() {
        return new DenseNet("densenet169", new int[]{6, 12, 32, 32});
    }

    static DenseNet denseNet201() {
        return new DenseNet("densenet201", new int[]{6, 12, 48, 32});
    }

    @Override
    protected String kerasName() {
        return name;
    }

    @Override
    protected int minSize() {
        return 32;
    }

    @Override
    protected Model buildArchitecture() {
        return Applications.buildChecked(name, shape(), this::graph, 32);
    }

    private static Tensor bn(Tensor x, String n) {
        return new BatchNormalization(n).epsilon(EPSILON).on(x);
    }

    private static Tensor relu(Tensor x, String n) {
        return new Activation("relu", n).on(x);
    }

    private Model graph(Shape shape) {
        Tensor input = Layers.Input(shape.dims());
        Tensor x = new ZeroPadding2D(3, 3, 3, 3, "zero_padding2d").on(input);
        x = new Conv2D(64, 7, 7, STEM_CONV).strides(2, 2).useBias(false).on(x);
        x = relu(bn(x, STEM_BN), STEM_RELU);
        x = new ZeroPadding2D(1, 1, 1, 1, "zero_padding2d_1").on(x);
        x = new MaxPooling2D(3, 3, "pool1").strides(2, 2).on(x);
        for (int s = 0; s < blocks.length; s++) {
            x = denseBlock(x, blocks[s], "conv" + (s + 2));
            if (s < blocks.length - 1) {
                x = transition(x, "pool" + (s + 2));
            }
        }
        x = relu(bn(x, "bn"), "relu");
        if (includeTop) {
            x = new GlobalAveragePooling2D("avg_pool").on(x);
            x = new Dense(classes, classifierActivation, CLASSIFIER).on(x);
        } else if ("avg".equals(pooling)) {
            x = new GlobalAveragePooling2D("avg_pool").on(x);
        } else if ("max".equals(pooling)) {
            x = new GlobalMaxPooling2D("max_pool").on(x);
        }
        return Model.of(name, input, x);
    }

    /** Keras's dense_block: {@code count} bottleneck blocks, each adding 32 channels. */
    private static Tensor denseBlock(Tensor x, int count, String stage) {
        for (int i = 1; i <= count; i++) {
            x = convBlock(x, stage + "_block" + i);
        }
        return x;
    }

    /** Keras's conv_block: BN-ReLU-1x1 conv (4 x growth) - BN-ReLU-3x3 conv (growth), concatenated to the input. */
    private static Tensor convBlock(Tensor x, String n) {
        Tensor y = relu(bn(x, n + "_0_bn"), n + "_0_relu");
        y = new Conv2D(4 * GROWTH_RATE, 1, 1, n + "_1_conv").useBias(false).on(y);
        y = relu(bn(y, n + "_1_bn"), n + "_1_relu");
        y = new Conv2D(GROWTH_RATE, 3, 3, n + "_2_conv").padding("same").useBias(false).on(y);
        return new Concatenate(n + "_concat").on(x, y);
    }

    /** Keras's transition_block with reduction 0.5: BN-ReLU, a 1x1 convolution to half the channels, 2x2 average pooling. */
    private static Tensor transition(Tensor x, String n) {
        x = relu(bn(x, n + "_bn"), n + "_relu");
        long channels = x.shape().get(-1);
        x = new Conv2D((int) (channels / 2), 1, 1, n + "_conv").useBias(false).on(x);
        return new AveragePooling2D(2, 2, n + "_pool").strides(2, 2).on(x);
    }
}
