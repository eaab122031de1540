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
     * The builders by Keras's function name ("VGG16", "ResNet50", "MobileNetV2", ...), in the order of Keras's
     * applications table; {@link #names()} lists them and {@link #byName} gives a fresh builder.
     */
    private static final java.util.Map<String, java.util.function.Supplier<ApplicationBuilder<?>>> REGISTRY = registry();

    private static java.util.Map<String, java.util.function.Supplier<ApplicationBuilder<?>>> registry() {
        java.util.Map<String, java.util.function.Supplier<ApplicationBuilder<?>>> r = new java.util.LinkedHashMap<>();
        r.put("VGG16", Applications::vgg16);
        r.put("VGG19", Applications::vgg19);
        r.put("ResNet50", Applications::resNet50);
        r.put("ResNet50V2", Applications::resNet50V2);
        r.put("ResNet101", Applications::resNet101);
        r.put("ResNet101V2", Applications::resNet101V2);
        r.put("ResNet152", Applications::resNet152);
        r.put("ResNet152V2", Applications::resNet152V2);
        r.put("InceptionV3", Applications::inceptionV3);
        r.put("MobileNet", Applications::mobileNet);
        r.put("MobileNetV2", Applications::mobileNetV2);
        r.put("DenseNet121", Applications::denseNet121);
        r.put("DenseNet169", Applications::denseNet169);
        r.put("DenseNet201", Applications::denseNet201);
        r.put("Xception", Applications::xception);
        r.put("EfficientNetB0", Applications::efficientNetB0);
        r.put("EfficientNetB1", Applications::efficientNetB1);
        r.put("EfficientNetB2", Applications::efficientNetB2);
        r.put("EfficientNetB3", Applications::efficientNetB3);
        r.put("EfficientNetB4", Applications::efficientNetB4);
        r.put("EfficientNetB5", Applications::efficientNetB5);
        r.put("EfficientNetB6", Applications::efficientNetB6);
        r.put("EfficientNetB7", Applications::efficientNetB7);
        return java.util.Collections.unmodifiableMap(r);
    }

    /** Keras's names of every network this library builds, in the order of Keras's applications table. */
    public static java.util.List<String> names() {
        return java.util.List.copyOf(REGISTRY.keySet());
    }

    /** A fresh builder for a network named as Keras names its function ("ResNet50"; case and "_" are ignored). */
    public static ApplicationBuilder<?> byName(String name) {
        String key = name == null ? "" : name.replace("_", "").toLowerCase(java.util.Locale.ROOT);
        for (var e : REGISTRY.entrySet()) {
            if (e.getKey().toLowerCase(java.util.Locale.ROOT).equals(key)) {
                return e.getValue().get();
            }
        }
        throw new IllegalArgumentException("No application named '" + name + "'; known: " + String.join(", ", REGISTRY.keySet()));
    }

    /** keras.applications.EfficientNetB0 (224x224; the model takes raw 0-255 pixels: its own Rescaling and Normalization). */
    public static EfficientNet efficientNetB0() {
        return EfficientNet.b0();
    }

    /** keras.applications.EfficientNetB1 (240x240). */
    public static EfficientNet efficientNetB1() {
        return EfficientNet.b1();
    }

    /** keras.applications.EfficientNetB2 (260x260). */
    public static EfficientNet efficientNetB2() {
        return EfficientNet.b2();
    }

    /** keras.applications.EfficientNetB3 (300x300). */
    public static EfficientNet efficientNetB3() {
        return EfficientNet.b3();
    }

    /** keras.applications.EfficientNetB4 (380x380). */
    public static EfficientNet efficientNetB4() {
        return EfficientNet.b4();
    }

    /** keras.applications.EfficientNetB5 (456x456). */
    public static EfficientNet efficientNetB5() {
        return EfficientNet.b5();
    }

    /** keras.applications.EfficientNetB6 (528x528). */
    public static EfficientNet efficientNetB6() {
        return EfficientNet.b6();
    }

    /** keras.applications.EfficientNetB7 (600x600). */
    public static EfficientNet efficientNetB7() {
        return EfficientNet.b7();
    }

    /** keras.applications.Xception (299x299 by default, at least 71x71; "tf" preprocessing). */
    public static Xception xception() {
        return new Xception();
    }

    /** keras.applications.DenseNet121 ("torch" preprocessing): 8,062,504 params with top, 7,037,504 without. */
    public static DenseNet denseNet121() {
        return DenseNet.denseNet121();
    }

    /** keras.applications.DenseNet169: 14,307,880 params with top, 12,642,880 without. */
    public static DenseNet denseNet169() {
        return DenseNet.denseNet169();
    }

    /** keras.applications.DenseNet201: 20,242,984 params with top, 18,321,984 without. */
    public static DenseNet denseNet201() {
        return DenseNet.denseNet201();
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
