package io.transferlab.applications;

import io.transferlab.layers.Activation;
import io.transferlab.layers.Add;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.DepthwiseConv2D;
import io.transferlab.layers.Dropout;
import io.transferlab.layers.GlobalAveragePooling2D;
import io.transferlab.layers.GlobalMaxPooling2D;
import io.transferlab.layers.Layers;
import io.transferlab.layers.Multiply;
import io.transferlab.layers.Normalization;
import io.transferlab.layers.Reshape;
import io.transferlab.layers.Rescaling;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.layers.ZeroPadding2D;
import io.transferlab.models.Model;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * EfficientNetB0 to B7 exactly as keras.applications builds them (keras/src/applications/efficientnet.py): one table
 * of seven stages of inverted-residual blocks (kernel, repeats, filters in and out, expansion, stride; every block
 * with squeeze-and-excitation at ratio 0.25), widened by {@code round_filters} (the width coefficient, rounded to a
 * multiple of 8, never more than 10% down) and deepened by {@code round_repeats} (ceil of the depth coefficient
 * times the repeats); input size and top dropout per variant (B0: 1.0, 1.0, 224, 0.2 ... B7: 2.0, 3.1, 600, 0.5).
 *
 * <p>Layers and names as Keras's: the model's own preprocessing {@code rescaling} (x / 255) and
 * {@code normalization} (per channel mean and variance, weights of the file); {@code stem_conv_pad} (Keras's
 * correct_pad), {@code stem_conv} (3x3, stride 2), {@code stem_bn}, {@code stem_activation}; per block
 * {@code block1a_}..: {@code expand_conv/expand_bn/expand_activation} (when the expansion is not 1),
 * {@code dwconv_pad} (before stride-2 depthwise convolutions), {@code dwconv}, {@code bn}, {@code activation},
 * {@code se_squeeze} (global average pooling), {@code se_reshape} (1, 1, c), {@code se_reduce} (1x1, swish),
 * {@code se_expand} (1x1, sigmoid), {@code se_excite} (Multiply), {@code project_conv}, {@code project_bn}, and, when
 * the block keeps its shape, {@code drop} (Dropout with noise_shape (None, 1, 1, 1): drop-connect, whose rate grows
 * linearly from 0 to 0.2 over the blocks; only in training) and {@code add}; then {@code top_conv} (1x1 to
 * round_filters(1280)), {@code top_bn}, {@code top_activation}, and with the top {@code avg_pool},
 * {@code top_dropout}, {@code predictions}. Activations are swish; batch normalization has Keras's default epsilon
 * 1e-3. The model takes raw pixels in [0, 255] (no preprocessing outside it). Parameters (B0): 5,330,571 with the
 * top, 4,049,571 without, of which 42,023 not trainable (batch-norm statistics and the normalization's mean,
 * variance and count).
 *
 * <p><b>The published weights and tensorflow/tensorflow#49930.</b> Keras's published EfficientNet files hold, in the
 * {@code normalization} layer's {@code variance}, the ImageNet standard deviations [0.229, 0.224, 0.225] where
 * Normalization expects variances; Keras itself divides by their square root, and compensates with an extra
 * Rescaling layer only when built with {@code weights="imagenet"} (so loading the same file from a path gives other
 * numbers). This library's EfficientNet normalization layer recognises that layout whenever weights are set into it
 * (by {@code weights("imagenet")}, {@code weights(path)}, {@code model.loadWeights(path)}, also as part of a larger
 * model, or {@code setWeights}): a variance equal to the ImageNet standard deviations (within 1e-5) is replaced by
 * their squares, and a line says so. The network then computes {@code (x / 255 - mean) / std} per channel, what the
 * original EfficientNet does, with no extra layer (the layer list stays Keras's without the imagenet-only
 * {@code rescaling_1}). Other variances (a file saved after {@code adapt}, or this library's own files, which then
 * hold the squares) are taken as they are.
 */
public final class EfficientNet extends ApplicationBuilder<EfficientNet> {
    /** Keras's DEFAULT_BLOCKS_ARGS: kernel, repeats, filters in, filters out, expansion, stride (se_ratio 0.25). */
    private static final int[][] BLOCKS = {
            {3, 1, 32, 16, 1, 1},
            {3, 2, 16, 24, 6, 2},
            {5, 2, 24, 40, 6, 2},
            {3, 3, 40, 80, 6, 2},
            {5, 3, 80, 112, 6, 1},
            {5, 4, 112, 192, 6, 2},
            {3, 1, 192, 320, 6, 1}};
    private static final double SE_RATIO = 0.25;
    private static final double DROP_CONNECT_RATE = 0.2;
    private static final int DEPTH_DIVISOR = 8;
    /** The ImageNet standard deviations per channel (RGB) that the published files hold as "variance". */
    static final double[] IMAGENET_STDDEV_RGB = {0.229, 0.224, 0.225};

    private final String name;
    private final double widthCoefficient;
    private final double depthCoefficient;
    private final int defaultSize;
    private final double dropoutRate;

    private EfficientNet(String name, double width, double depth, int size, double dropout) {
        this.name = name;
        this.widthCoefficient = width;
        this.depthCoefficient = depth;
        this.defaultSize = size;
        this.dropoutRate = dropout;
    }

    static EfficientNet b0() {
        return new EfficientNet("efficientnetb0", 1.0, 1.0, 224, 0.2);
    }

    static EfficientNet b1() {
        return new EfficientNet("efficientnetb1", 1.0, 1.1, 240, 0.2);
    }

    static EfficientNet b2() {
        return new EfficientNet("efficientnetb2", 1.1, 1.2, 260, 0.3);
    }

    static EfficientNet b3() {
        return new EfficientNet("efficientnetb3", 1.2, 1.4, 300, 0.3);
    }

    static EfficientNet b4() {
        return new EfficientNet("efficientnetb4", 1.4, 1.8, 380, 0.4);
    }

    static EfficientNet b5() {
        return new EfficientNet("efficientnetb5", 1.6, 2.2, 456, 0.4);
    }

    static EfficientNet b6() {
        return new EfficientNet("efficientnetb6", 1.8, 2.6, 528, 0.5);
    }

    static EfficientNet b7() {
        return new EfficientNet("efficientnetb7", 2.0, 3.1, 600, 0.5);
    }

    @Override
    protected String kerasName() {
        return name;
    }

    @Override
    protected int defaultSize() {
        return defaultSize;
    }

    @Override
    protected int minSize() {
        return 32;
    }

    @Override
    protected Model buildArchitecture() {
        return Applications.buildChecked(name, shape(), this::graph, 32);
    }

    /** Keras's round_filters: filters times the width coefficient, to a multiple of 8, at most 10% below. */
    int roundFilters(int filters) {
        double f = filters * widthCoefficient;
        int rounded = Math.max(DEPTH_DIVISOR, (int) (f + DEPTH_DIVISOR / 2.0) / DEPTH_DIVISOR * DEPTH_DIVISOR);
        if (rounded < 0.9 * f) {
            rounded += DEPTH_DIVISOR;
        }
        return rounded;
    }

    /** Keras's round_repeats: ceil(depth coefficient * repeats). */
    int roundRepeats(int repeats) {
        return (int) Math.ceil(depthCoefficient * repeats);
    }

    private Model graph(Shape shape) {
        Tensor input = Layers.Input(shape.dims());
        Tensor x = new Rescaling(1 / 255.0, 0, "rescaling").on(input);
        x = new ImageNetNormalization("normalization").on(x);
        x = pad(x, 3, "stem_conv_pad");
        x = new Conv2D(roundFilters(32), 3, 3, "stem_conv").strides(2, 2).useBias(false).on(x);
        x = new BatchNormalization("stem_bn").on(x);
        x = new Activation("swish", "stem_activation").on(x);

        int total = 0;
        for (int[] b : BLOCKS) {
            total += roundRepeats(b[1]);
        }
        int done = 0;
        for (int s = 0; s < BLOCKS.length; s++) {
            int[] b = BLOCKS[s];
            int filtersIn = roundFilters(b[2]);
            int filtersOut = roundFilters(b[3]);
            int repeats = roundRepeats(b[1]);
            for (int j = 0; j < repeats; j++) {
                String prefix = "block" + (s + 1) + (char) ('a' + j) + "_";
                x = block(x, DROP_CONNECT_RATE * done / total, prefix, j == 0 ? filtersIn : filtersOut, filtersOut,
                        b[0], j == 0 ? b[5] : 1, b[4]);
                done++;
            }
        }

        x = new Conv2D(roundFilters(1280), 1, 1, "top_conv").padding("same").useBias(false).on(x);
        x = new BatchNormalization("top_bn").on(x);
        x = new Activation("swish", "top_activation").on(x);
        if (includeTop) {
            x = new GlobalAveragePooling2D("avg_pool").on(x);
            if (dropoutRate > 0) {
                x = new Dropout(dropoutRate, "top_dropout").on(x);
            }
            x = new Dense(classes, classifierActivation, "predictions").on(x);
        } else if ("avg".equals(pooling)) {
            x = new GlobalAveragePooling2D("avg_pool").on(x);
        } else if ("max".equals(pooling)) {
            x = new GlobalMaxPooling2D("max_pool").on(x);
        }
        return Model.of(name, input, x);
    }

    /** Keras's block: expansion, depthwise convolution, squeeze-and-excitation, projection, drop-connect + add. */
    private static Tensor block(Tensor in, double dropRate, String n, int filtersIn, int filtersOut, int kernel,
                                int stride, int expandRatio) {
        int filters = filtersIn * expandRatio;
        Tensor x = in;
        if (expandRatio != 1) {
            x = new Conv2D(filters, 1, 1, n + "expand_conv").padding("same").useBias(false).on(x);
            x = new BatchNormalization(n + "expand_bn").on(x);
            x = new Activation("swish", n + "expand_activation").on(x);
        }
        if (stride == 2) {
            x = pad(x, kernel, n + "dwconv_pad");
        }
        x = new DepthwiseConv2D(kernel, kernel, n + "dwconv").strides(stride, stride)
                .padding(stride == 2 ? "valid" : "same").useBias(false).on(x);
        x = new BatchNormalization(n + "bn").on(x);
        x = new Activation("swish", n + "activation").on(x);

        int filtersSe = Math.max(1, (int) (filtersIn * SE_RATIO));
        Tensor se = new GlobalAveragePooling2D(n + "se_squeeze").on(x);
        se = new Reshape(new long[]{1, 1, filters}, n + "se_reshape").on(se);
        se = new Conv2D(filtersSe, 1, 1, n + "se_reduce").padding("same").activation("swish").on(se);
        se = new Conv2D(filters, 1, 1, n + "se_expand").padding("same").activation("sigmoid").on(se);
        x = new Multiply(n + "se_excite").on(x, se);

        x = new Conv2D(filtersOut, 1, 1, n + "project_conv").padding("same").useBias(false).on(x);
        x = new BatchNormalization(n + "project_bn").on(x);
        if (stride == 1 && filtersIn == filtersOut) {
            if (dropRate > 0) {
                x = new Dropout(dropRate, n + "drop").noiseShape(Shape.NONE, 1, 1, 1).on(x);
            }
            x = new Add(n + "add").on(x, in);
        }
        return x;
    }

    /** ZeroPadding2D with Keras's imagenet_utils.correct_pad, so that a stride-2 "valid" window fits. */
    private static Tensor pad(Tensor x, int kernel, String name) {
        long h = x.shape().get(0);
        long w = x.shape().get(1);
        int adjustH = h == Shape.NONE ? 1 : (int) (1 - h % 2);
        int adjustW = w == Shape.NONE ? 1 : (int) (1 - w % 2);
        int c = kernel / 2;
        return new ZeroPadding2D(c - adjustH, c, c - adjustW, c, name).on(x);
    }

    /**
     * Keras's Normalization (it counts, runs and saves as one, and is shown as one) that takes the published
     * EfficientNet files' layout (tensorflow/tensorflow#49930): a variance equal to the ImageNet standard deviations
     * is stored squared, so that the layer divides by the standard deviation. See {@link EfficientNet}.
     */
    public static final class ImageNetNormalization extends Normalization {
        ImageNetNormalization(String name) {
            super(null, null, name);
        }

        @Override
        public String typeName() {
            return "Normalization";
        }

        /** Whether a variance holds the ImageNet standard deviations (the published files' layout). */
        static boolean holdsStandardDeviations(INDArray variance) {
            if (variance.length() != IMAGENET_STDDEV_RGB.length) {
                return false;
            }
            for (int c = 0; c < IMAGENET_STDDEV_RGB.length; c++) {
                if (Math.abs(variance.getDouble(c) - IMAGENET_STDDEV_RGB[c]) > 1e-5) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public synchronized void setWeights(List<INDArray> values) {
            if (values.size() == 3 && holdsStandardDeviations(values.get(1))) {
                List<INDArray> fixed = new ArrayList<>(values);
                fixed.set(1, values.get(1).mul(values.get(1)));
                System.out.println("NOTE: layer '" + name() + "' got the ImageNet standard deviations as its variance "
                        + "(the layout of Keras's published EfficientNet files, tensorflow/tensorflow#49930): squared "
                        + "them, so inputs become (x / 255 - mean) / std as in the original EfficientNet.");
                super.setWeights(fixed);
            } else {
                super.setWeights(values);
            }
        }
    }
}
