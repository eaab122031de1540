package io.transferlab.applications;

import io.transferlab.models.Model;
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

/**
 * InceptionV3 as keras.applications.InceptionV3 builds it. Its unit is "conv2d_bn": a Conv2D without bias, a
 * BatchNormalization without scale (epsilon 1e-3) and a ReLU, named as a fresh Keras session names them
 * (conv2d, conv2d_1, ..., batch_normalization..., activation...). Eleven Inception blocks, mixed0 ... mixed10,
 * concatenate parallel branches. Without the top: 21,802,784 parameters (34,432 non-trainable: the batch-norm
 * moving statistics); with it: 23,851,784.
 */
public final class InceptionV3 extends ApplicationBuilder<InceptionV3> {
    InceptionV3() {
    }

    @Override
    protected String kerasName() {
        return "inception_v3";
    }

    @Override
    protected int defaultSize() {
        return 299;
    }

    @Override
    protected Model buildArchitecture() {
        return Applications.buildChecked(kerasName(), shape(), this::graph, 75);
    }

    /** Conv2D (no bias) + BatchNormalization (no scale) + ReLU; the ReLU carries the block's name if given. */
    private static Tensor convBn(Tensor x, int filters, int rows, int cols, String padding, int stride, String name) {
        x = new Conv2D(filters, rows, cols, name == null ? null : name + "_conv").strides(stride, stride)
                .padding(padding).useBias(false).on(x);
        x = new BatchNormalization(name == null ? null : name + "_bn").scale(false).epsilon(1e-3).on(x);
        return new Activation("relu", name).on(x);
    }

    private static Tensor convBn(Tensor x, int filters, int rows, int cols) {
        return convBn(x, filters, rows, cols, "same", 1, null);
    }

    private static Tensor avgPool3(Tensor x) {
        return new AveragePooling2D(3, 3, null).strides(1, 1).padding("same").on(x);
    }

    private static Tensor maxPool3(Tensor x) {
        return new MaxPooling2D(3, 3, null).strides(2, 2).on(x);
    }

    private static Tensor concat(String name, Tensor... parts) {
        return new Concatenate(name).on(parts);
    }

    private Model graph(Shape shape) {
        Tensor input = Layers.Input(shape.dims());
        Tensor x = convBn(input, 32, 3, 3, "valid", 2, null);
        x = convBn(x, 32, 3, 3, "valid", 1, null);
        x = convBn(x, 64, 3, 3);
        x = maxPool3(x);
        x = convBn(x, 80, 1, 1, "valid", 1, null);
        x = convBn(x, 192, 3, 3, "valid", 1, null);
        x = maxPool3(x);

        // mixed0, 1, 2: 35x35 (at 299) blocks
        int[] poolFilters = {32, 64, 64};
        for (int i = 0; i < 3; i++) {
            Tensor b1 = convBn(x, 64, 1, 1);
            Tensor b5 = convBn(convBn(x, 48, 1, 1), 64, 5, 5);
            Tensor b3 = convBn(convBn(convBn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3);
            Tensor bp = convBn(avgPool3(x), poolFilters[i], 1, 1);
            x = concat("mixed" + i, b1, b5, b3, bp);
        }

        // mixed3: reduction to 17x17
        {
            Tensor b3 = convBn(x, 384, 3, 3, "valid", 2, null);
            Tensor bd = convBn(convBn(convBn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, "valid", 2, null);
            Tensor bp = maxPool3(x);
            x = concat("mixed3", b3, bd, bp);
        }

        // mixed4 .. mixed7: factorised 7x7 convolutions
        int[] mid = {128, 160, 160, 192};
        for (int i = 0; i < 4; i++) {
            int c = mid[i];
            Tensor b1 = convBn(x, 192, 1, 1);
            Tensor b7 = convBn(convBn(convBn(x, c, 1, 1), c, 1, 7), 192, 7, 1);
            Tensor bd = convBn(x, c, 1, 1);
            bd = convBn(bd, c, 7, 1);
            bd = convBn(bd, c, 1, 7);
            bd = convBn(bd, c, 7, 1);
            bd = convBn(bd, 192, 1, 7);
            Tensor bp = convBn(avgPool3(x), 192, 1, 1);
            x = concat("mixed" + (4 + i), b1, b7, bd, bp);
        }

        // mixed8: reduction to 8x8
        {
            Tensor b3 = convBn(convBn(x, 192, 1, 1), 320, 3, 3, "valid", 2, null);
            Tensor b7 = convBn(x, 192, 1, 1);
            b7 = convBn(b7, 192, 1, 7);
            b7 = convBn(b7, 192, 7, 1);
            b7 = convBn(b7, 192, 3, 3, "valid", 2, null);
            Tensor bp = maxPool3(x);
            x = concat("mixed8", b3, b7, bp);
        }

        // mixed9, mixed10: expanded filter banks
        for (int i = 0; i < 2; i++) {
            Tensor b1 = convBn(x, 320, 1, 1);
            Tensor b3 = convBn(x, 384, 1, 1);
            Tensor b3a = convBn(b3, 384, 1, 3);
            Tensor b3b = convBn(b3, 384, 3, 1);
            b3 = concat("mixed9_" + i, b3a, b3b);
            Tensor bd = convBn(convBn(x, 448, 1, 1), 384, 3, 3);
            Tensor bda = convBn(bd, 384, 1, 3);
            Tensor bdb = convBn(bd, 384, 3, 1);
            bd = concat(null, bda, bdb);
            Tensor bp = convBn(avgPool3(x), 192, 1, 1);
            x = concat("mixed" + (9 + i), b1, b3, bd, bp);
        }

        if (includeTop) {
            x = new GlobalAveragePooling2D("avg_pool").on(x);
            x = new Dense(classes, classifierActivation, "predictions").on(x);
        } else if ("avg".equals(pooling)) {
            x = new GlobalAveragePooling2D(null).on(x);
        } else if ("max".equals(pooling)) {
            x = new GlobalMaxPooling2D(null).on(x);
        }
        return Model.of("inception_v3", input, x);
    }
}
