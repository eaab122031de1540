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
import io.transferlab.layers.SeparableConv2D;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;

/**
 * Xception as keras.applications.Xception builds it (keras/src/applications/xception.py): the entry flow (two
 * strided-less 3x3 convolutions after a stride-2 one, then three blocks of two separable convolutions and a
 * stride-2 max pooling, each added to a strided 1x1 convolution of the block's input), the middle flow (blocks 5 to
 * 12: three ReLU + separable convolution + batch normalization units added to their input), and the exit flow
 * (block 13 with its 1x1 shortcut, block 14's two separable convolutions). Every convolution is without bias and
 * followed by a BatchNormalization (Keras's defaults: epsilon 1e-3). Keras's names: block1_conv1, block1_conv1_bn,
 * block1_conv1_act ... block14_sepconv2_act, avg_pool and predictions for the top; the shortcut convolutions, their
 * batch normalizations, the additions and the pooling without top are unnamed in Keras, so they carry a fresh
 * session's automatic names (conv2d ... conv2d_3, batch_normalization ... batch_normalization_3, add ... add_11,
 * global_average_pooling2d / global_max_pooling2d).
 *
 * <p>Input at least 71x71 (299x299 with the top). Parameters: 22,910,480 with the top, 20,861,480 without (of
 * which 54,528 are the batch-norm moving statistics). Preprocessing: "tf" (x / 127.5 - 1).
 */
public final class Xception extends ApplicationBuilder<Xception> {
    private int convs;
    private int norms;
    private int adds;

    Xception() {
    }

    @Override
    protected String kerasName() {
        return "xception";
    }

    @Override
    protected int defaultSize() {
        return 299;
    }

    @Override
    protected int minSize() {
        return 71;
    }

    @Override
    protected Model buildArchitecture() {
        return Applications.buildChecked(kerasName(), shape(), this::graph, 71);
    }

    private static String numbered(String prefix, int n) {
        return n == 0 ? prefix : prefix + "_" + n;
    }

    private static Tensor bn(Tensor x, String name) {
        return new BatchNormalization(name).on(x);
    }

    private static Tensor relu(Tensor x, String name) {
        return new Activation("relu", name).on(x);
    }

    private static Tensor sep(Tensor x, int filters, String name) {
        return new SeparableConv2D(filters, 3, 3, name).padding("same").useBias(false).on(x);
    }

    /** Keras's unnamed shortcut: Conv2D(filters, 1x1, stride 2, same, no bias) and BatchNormalization. */
    private Tensor shortcut(Tensor x, int filters) {
        Tensor r = new Conv2D(filters, 1, 1, numbered("conv2d", convs++)).strides(2, 2).padding("same").useBias(false)
                .on(x);
        return bn(r, numbered("batch_normalization", norms++));
    }

    private Tensor add(Tensor a, Tensor b) {
        return new Add(numbered("add", adds++)).on(a, b);
    }

    private Model graph(Shape shape) {
        convs = 0;
        norms = 0;
        adds = 0;
        Tensor input = Layers.Input(shape.dims());
        Tensor x = new Conv2D(32, 3, 3, "block1_conv1").strides(2, 2).useBias(false).on(input);
        x = relu(bn(x, "block1_conv1_bn"), "block1_conv1_act");
        x = new Conv2D(64, 3, 3, "block1_conv2").useBias(false).on(x);
        x = relu(bn(x, "block1_conv2_bn"), "block1_conv2_act");

        // block 2: no ReLU before its first separable convolution (it follows block1_conv2_act)
        Tensor residual = shortcut(x, 128);
        x = bn(sep(x, 128, "block2_sepconv1"), "block2_sepconv1_bn");
        x = relu(x, "block2_sepconv2_act");
        x = bn(sep(x, 128, "block2_sepconv2"), "block2_sepconv2_bn");
        x = new MaxPooling2D(3, 3, "block2_pool").strides(2, 2).padding("same").on(x);
        x = add(x, residual);

        x = entryBlock(x, 3, 256, 256);
        x = entryBlock(x, 4, 728, 728);

        for (int b = 5; b <= 12; b++) {
            String p = "block" + b;
            residual = x;
            for (int u = 1; u <= 3; u++) {
                x = relu(x, p + "_sepconv" + u + "_act");
                x = bn(sep(x, 728, p + "_sepconv" + u), p + "_sepconv" + u + "_bn");
            }
            x = add(x, residual);
        }

        x = entryBlock(x, 13, 728, 1024);

        x = bn(sep(x, 1536, "block14_sepconv1"), "block14_sepconv1_bn");
        x = relu(x, "block14_sepconv1_act");
        x = bn(sep(x, 2048, "block14_sepconv2"), "block14_sepconv2_bn");
        x = relu(x, "block14_sepconv2_act");

        if (includeTop) {
            x = new GlobalAveragePooling2D("avg_pool").on(x);
            x = new Dense(classes, classifierActivation, "predictions").on(x);
        } else if ("avg".equals(pooling)) {
            x = new GlobalAveragePooling2D("global_average_pooling2d").on(x);
        } else if ("max".equals(pooling)) {
            x = new GlobalMaxPooling2D("global_max_pooling2d").on(x);
        }
        return Model.of(kerasName(), input, x);
    }

    /**
     * Blocks 3, 4 and 13: a strided 1x1 shortcut; ReLU, separable convolution, batch normalization twice; a 3x3
     * stride-2 "same" max pooling; the sum.
     */
    private Tensor entryBlock(Tensor x, int block, int filters1, int filters2) {
        String p = "block" + block;
        Tensor residual = shortcut(x, filters2);
        x = relu(x, p + "_sepconv1_act");
        x = bn(sep(x, filters1, p + "_sepconv1"), p + "_sepconv1_bn");
        x = relu(x, p + "_sepconv2_act");
        x = bn(sep(x, filters2, p + "_sepconv2"), p + "_sepconv2_bn");
        x = new MaxPooling2D(3, 3, p + "_pool").strides(2, 2).padding("same").on(x);
        return add(x, residual);
    }
}
