package io.transferlab.applications;

import io.transferlab.layers.Activation;
import io.transferlab.layers.Add;
import io.transferlab.layers.BatchNormalization;
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
 * ResNet50, ResNet101, ResNet152 (Keras's v1) and ResNet50V2, ResNet101V2, ResNet152V2 exactly as
 * keras.applications builds them: the same layer names (conv1_conv, conv2_block1_0_conv ... conv5_block3_out, or
 * post_bn / post_relu for v2), batch normalization with epsilon 1.001e-5, and the same parameter counts (ResNet50:
 * 25,636,712 with top, 23,587,712 without; ResNet50V2: 25,613,800 with top).
 *
 * <p>v1 blocks: a 1x1 convolution carrying the stage's stride, a 3x3 "same" convolution and a 1x1 convolution to
 * four times the filters, each followed by batch normalization; the shortcut is a strided 1x1 convolution with batch
 * normalization in a stage's first block, the input otherwise; biases on every convolution. v2 (pre-activation):
 * batch normalization and ReLU before each block, the stride on the 3x3 convolution of a stage's last block, a
 * 1x pooling as the shortcut where the stride shrinks it. Preprocessing: "caffe" for v1, "tf" for v2.
 */
public final class ResNet extends ApplicationBuilder<ResNet> {
    private static final double EPSILON = 1.001e-5;
    private final String name;
    private final int[] blocks;
    private final boolean v2;
    private int autoPool;

    private ResNet(String name, int[] blocks, boolean v2) {
        this.name = name;
        this.blocks = blocks;
        this.v2 = v2;
    }

    static ResNet resNet50() {
        return new ResNet("resnet50", new int[]{3, 4, 6, 3}, false);
    }

    static ResNet resNet101() {
        return new ResNet("resnet101", new int[]{3, 4, 23, 3}, false);
    }

    static ResNet resNet152() {
        return new ResNet("resnet152", new int[]{3, 8, 36, 3}, false);
    }

    static ResNet resNet50V2() {
        return new ResNet("resnet50v2", new int[]{3, 4, 6, 3}, true);
    }

    static ResNet resNet101V2() {
        return new ResNet("resnet101v2", new int[]{3, 4, 23, 3}, true);
    }

    static ResNet resNet152V2() {
        return new ResNet("resnet152v2", new int[]{3, 8, 36, 3}, true);
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
        autoPool = 0;
        Tensor input = Layers.Input(shape.dims());
        Tensor x = new ZeroPadding2D(3, 3, 3, 3, "conv1_pad").on(input);
        x = new Conv2D(64, 7, 7, "conv1_conv").strides(2, 2).on(x);
        if (!v2) {
            x = relu(bn(x, "conv1_bn"), "conv1_relu");
        }
        x = new ZeroPadding2D(1, 1, 1, 1, "pool1_pad").on(x);
        x = new MaxPooling2D(3, 3, "pool1_pool").strides(2, 2).on(x);
        int[] filters = {64, 128, 256, 512};
        for (int s = 0; s < 4; s++) {
            String stage = "conv" + (s + 2);
            x = v2 ? stack2(x, filters[s], blocks[s], s == 3 ? 1 : 2, stage)
                    : stack1(x, filters[s], blocks[s], s == 0 ? 1 : 2, stage);
        }
        if (v2) {
            x = relu(bn(x, "post_bn"), "post_relu");
        }
        if (includeTop) {
            x = new GlobalAveragePooling2D("avg_pool").on(x);
            x = new Dense(classes, classifierActivation, "predictions").on(x);
        } else if ("avg".equals(pooling)) {
            x = new GlobalAveragePooling2D("avg_pool").on(x);
        } else if ("max".equals(pooling)) {
            x = new GlobalMaxPooling2D("max_pool").on(x);
        }
        return Model.of(name, input, x);
    }

    /** Keras's stack1: a first block with a convolution shortcut (and the stride), then identity blocks. */
    private static Tensor stack1(Tensor x, int filters, int count, int stride, String stage) {
        x = block1(x, filters, stride, true, stage + "_block1");
        for (int i = 2; i <= count; i++) {
            x = block1(x, filters, 1, false, stage + "_block" + i);
        }
        return x;
    }

    private static Tensor block1(Tensor x, int filters, int stride, boolean convShortcut, String n) {
        Tensor shortcut = x;
        if (convShortcut) {
            shortcut = bn(new Conv2D(4 * filters, 1, 1, n + "_0_conv").strides(stride, stride).on(x), n + "_0_bn");
        }
        Tensor y = relu(bn(new Conv2D(filters, 1, 1, n + "_1_conv").strides(stride, stride).on(x), n + "_1_bn"), n + "_1_relu");
        y = relu(bn(new Conv2D(filters, 3, 3, n + "_2_conv").padding("same").on(y), n + "_2_bn"), n + "_2_relu");
        y = bn(new Conv2D(4 * filters, 1, 1, n + "_3_conv").on(y), n + "_3_bn");
        return relu(new Add(n + "_add").on(shortcut, y), n + "_out");
    }

    /** Keras's stack2: the first block with a convolution shortcut, the last one carrying the stride. */
    private Tensor stack2(Tensor x, int filters, int count, int stride, String stage) {
        x = block2(x, filters, 1, true, stage + "_block1");
        for (int i = 2; i < count; i++) {
            x = block2(x, filters, 1, false, stage + "_block" + i);
        }
        return block2(x, filters, stride, false, stage + "_block" + count);
    }

    private Tensor block2(Tensor x, int filters, int stride, boolean convShortcut, String n) {
        Tensor preact = relu(bn(x, n + "_preact_bn"), n + "_preact_relu");
        Tensor shortcut;
        if (convShortcut) {
            shortcut = new Conv2D(4 * filters, 1, 1, n + "_0_conv").strides(stride, stride).on(preact);
        } else if (stride > 1) {
            // Keras's MaxPooling2D(1, strides=stride) without a name: auto-named max_pooling2d, _1, ...
            shortcut = new MaxPooling2D(1, 1, autoPool == 0 ? "max_pooling2d" : "max_pooling2d_" + autoPool)
                    .strides(stride, stride).on(x);
            autoPool++;
        } else {
            shortcut = x;
        }
        Tensor y = relu(bn(new Conv2D(filters, 1, 1, n + "_1_conv").useBias(false).on(preact), n + "_1_bn"), n + "_1_relu");
        y = new ZeroPadding2D(1, 1, 1, 1, n + "_2_pad").on(y);
        y = relu(bn(new Conv2D(filters, 3, 3, n + "_2_conv").strides(stride, stride).useBias(false).on(y), n + "_2_bn"),
                n + "_2_relu");
        y = new Conv2D(4 * filters, 1, 1, n + "_3_conv").on(y);
        return new Add(n + "_out").on(shortcut, y);
    }
}
