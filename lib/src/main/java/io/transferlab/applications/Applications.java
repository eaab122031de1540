package io.transferlab.applications;

import io.transferlab.models.Model;
import io.transferlab.layers.Shape;
import io.transferlab.layers.ShapeException;

import java.util.function.Function;

/**
 * Keras's keras.applications: builders for the classic ImageNet networks with Keras's layer names, shapes and
 * parameter counts. {@code Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build()}.
 */
public final class Applications {
    private Applications() {
    }

    /** keras.applications.VGG16. */
    public static Vgg vgg16() {
        return Vgg.vgg16();
    }

    /** keras.applications.ResNet50 (v1: caffe preprocessing). */
    public static ResNet resNet50() {
        return ResNet.resNet50();
    }

    /** keras.applications.ResNet101. */
    public static ResNet resNet101() {
        return ResNet.resNet101();
    }

    /** keras.applications.ResNet152. */
    public static ResNet resNet152() {
        return ResNet.resNet152();
    }

    /** keras.applications.ResNet50V2 (pre-activation; "tf" preprocessing). */
    public static ResNet resNet50V2() {
        return ResNet.resNet50V2();
    }

    /** keras.applications.ResNet101V2. */
    public static ResNet resNet101V2() {
        return ResNet.resNet101V2();
    }

    /** keras.applications.ResNet152V2. */
    public static ResNet resNet152V2() {
        return ResNet.resNet152V2();
    }

    /** Keras's VGG19: VGG16 with four convolutions in blocks 3 to 5 (143,667,240 params with top, 20,024,384 without). */
    public static Vgg vgg19() {
        return Vgg.vgg19();
    }

    /** keras.applications.InceptionV3. */
    public static InceptionV3 inceptionV3() {
        return new InceptionV3();
    }

    /** keras.applications.MobileNet (v1): {@code Applications.mobileNet().alpha(0.25).includeTop(false).build()}. */
    public static MobileNet mobileNet() {
        return new MobileNet();
    }

    /** keras.applications.MobileNetV2: {@code Applications.mobileNetV2().includeTop(false).pooling("avg").build()}. */
    public static MobileNetV2 mobileNetV2() {
        return new MobileNetV2();
    }

    /**
     * Keras's decode_predictions(preds, top=5): for each image of a (batch, 1000) array of ImageNet probabilities
     * (the output of a classifier built with includeTop and ImageNet weights), its top classes, most probable
     * first, as (WordNet id, Keras's name, probability): {@code n02123045 tabby 0.8153}.
     */
    public static java.util.List<java.util.List<ImageNet.Prediction>> decodePredictions(
            org.nd4j.linalg.api.ndarray.INDArray predictions, int top) {
        return ImageNet.decode(predictions, top);
    }

    /** {@link #decodePredictions(org.nd4j.linalg.api.ndarray.INDArray, int)} with Keras's default top=5. */
    public static java.util.List<java.util.List<ImageNet.Prediction>> decodePredictions(
            org.nd4j.linalg.api.ndarray.INDArray predictions) {
        return ImageNet.decode(predictions, 5);
    }

    /** Checks an input_shape for an image network; unknown height or width may be {@link Shape#NONE}. */
    static Shape imageShape(String network, long height, long width, long channels, int minSize) {
        if (channels <= 0) {
            throw new IllegalArgumentException(network + " needs a known, positive number of channels, got input_shape=("
                    + height + ", " + width + ", " + channels + ")");
        }
        for (long d : new long[]{height, width}) {
            if (d != Shape.NONE && d < minSize) {
                throw new IllegalArgumentException(network + " needs images of at least " + minSize + "x" + minSize
                        + " (as Keras), got input_shape=(" + height + ", " + width + ", " + channels + ")");
            }
        }
        return Shape.of(height, width, channels);
    }

    /** Keras's pooling argument: null, "avg" or "max". */
    static String checkPooling(String mode) {
        if (mode != null && !mode.equals("avg") && !mode.equals("max")) {
            throw new IllegalArgumentException("pooling must be null, \"avg\" or \"max\", got \"" + mode + "\"");
        }
        return mode;
    }

    /**
     * Builds a network for an input shape; when the input is too small, fails with a message that names the
     * smallest input size that works (found by trying sizes from {@code hint} down and up).
     */
    static Model buildChecked(String network, Shape shape, Function<Shape, Model> graph, int hint) {
        try {
            return graph.apply(shape);
        } catch (ShapeException e) {
            int smallest = smallestSquare(graph, shape.get(2), hint);
            throw new ShapeException("Input " + shape + " is too small for " + network + ": the smallest input that "
                    + "works is " + smallest + "x" + smallest + " (" + e.getMessage() + ")", e);
        }
    }

    private static int smallestSquare(Function<Shape, Model> graph, long channels, int hint) {
        int lo = 1;
        int hi = hint;
        while (!works(graph, hi, channels)) {
            hi *= 2;
        }
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (works(graph, mid, channels)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return hi;
    }

    private static boolean works(Function<Shape, Model> graph, int size, long channels) {
        try {
            graph.apply(Shape.of(size, size, channels));
            return true;
        } catch (ShapeException e) {
            return false;
        }
    }
}
