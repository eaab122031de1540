package io.transferlab.applications;

import io.transferlab.data.ImageInput;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.models.Model;
import io.transferlab.layers.Shape;
import io.transferlab.weights.WeightStore;

import java.nio.file.Path;

/**
 * The options every keras.applications builder shares, with Keras's names and defaults: include_top (true),
 * input_shape (the network's default size with the top, any size without), classes (1000), classifier_activation
 * (softmax), pooling (none) and weights (none here; "imagenet" or a file path to load).
 *
 * @param <B> the concrete builder, so that chained calls keep its own options in reach
 */
public abstract class ApplicationBuilder<B extends ApplicationBuilder<B>> {
    protected boolean includeTop = true;
    protected Shape inputShape;
    protected int classes = 1000;
    protected String classifierActivation = "softmax";
    protected String pooling;
    protected String weights;

    /** The Keras name of the network, as in summaries and weight files (vgg16, inception_v3, ...). */
    protected abstract String kerasName();

    /** The input size of the ImageNet classifier: 224, as for most Keras applications (InceptionV3: 299). */
    protected int defaultSize() {
        return 224;
    }

    /** The input size of the network's ImageNet classifier (224 for most; 299 for InceptionV3 and Xception). */
    public final int defaultInputSize() {
        return defaultSize();
    }

    /** The network's Keras name (vgg16, resnet50, inception_v3, ...). */
    public final String name() {
        return kerasName();
    }

    /**
     * The smallest input size inputShape(...) accepts at once (Keras's min_size); 1 leaves the check to build(),
     * which then names the smallest size that works.
     */
    protected int minSize() {
        return 1;
    }

    /**
     * Builds the model: Keras's rules for the ImageNet weights ({@link #checkImagenet}), the architecture, then the
     * weights: none; "imagenet", the published file for the current options ({@link #imagenetWeights}), found on
     * this machine or downloaded once, or else, with one line saying so, the random initial weights (offline, or
     * quick mode, which never downloads); or a file, which must be there. {@link Model#loadedWeights()} tells
     * afterwards whether the model got real weights.
     */
    public Model build() {
        boolean imagenet = "imagenet".equals(weights);
        if (imagenet) {
            checkImagenet();
        }
        Model model = buildArchitecture();
        Preprocessing p = preprocessing();
        if (p != null) { // how Keras's preprocess_input of the family prepares images, for predicting on files
            Shape s = model.inputShape();
            int h = s.rank() == 3 && s.get(0) != Shape.NONE ? (int) s.get(0) : defaultSize();
            int w = s.rank() == 3 && s.get(1) != Shape.NONE ? (int) s.get(1) : defaultSize();
            model.imageInput(new ImageInput(h, w, p, Images.Interpolation.NEAREST));
        }
        if (imagenet && includeTop && classes == 1000) {
            model.classNames(ImageNet.names());
        }
        Path file = imagenet ? WeightStore.locate(imagenetWeights()) : weights == null ? null : Path.of(weights);
        if (file != null) {
            if (imagenet) {
                System.out.println("ImageNet weights: " + file);
            }
            System.out.println(model.loadWeights(file));
        }
        return model;
    }

    /**
     * Keras's preprocess_input of this family (caffe for VGG and ResNet v1, tf for Inception, MobileNets, ResNet v2),
     * or null where the network prepares its inputs itself or the family is not known.
     */
    protected Preprocessing preprocessing() {
        try {
            return Preprocessing.forModel(kerasName());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The published ImageNet weights for the current options (the MobileNets' depend on alpha and size too). */
    protected WeightStore.WeightsFile imagenetWeights() {
        return WeightStore.file(kerasName(), includeTop);
    }

    /** The network's layers for the current options, with random initial weights. */
    protected abstract Model buildArchitecture();

    @SuppressWarnings("unchecked")
    protected final B self() {
        return (B) this;
    }

    /** Keras's include_top: keep the ImageNet classifier on top (default true). */
    public B includeTop(boolean value) {
        this.includeTop = value;
        return self();
    }

    /** Keras's input_shape=(height, width, channels); without it the default size with the top, any size without. */
    public B inputShape(long height, long width, long channels) {
        if (channels != 3) {
            throw new IllegalArgumentException(kerasName() + " takes 3-channel (RGB) images, got input_shape=(" + height
                    + ", " + width + ", " + channels + ")");
        }
        this.inputShape = Applications.imageShape(kerasName(), height, width, channels, minSize());
        return self();
    }

    /** Keras's classes: the size of the top's last layer (default 1000). */
    public B classes(int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("classes must be positive, got " + value);
        }
        this.classes = value;
        return self();
    }

    /** Keras's classifier_activation for the top's last layer (default softmax). */
    public B classifierActivation(String value) {
        this.classifierActivation = value;
        return self();
    }

    /** Keras's pooling for the model without top: "avg" or "max" (a flat output), or null (the feature map). */
    public B pooling(String mode) {
        this.pooling = Applications.checkPooling(mode);
        return self();
    }

    /**
     * Keras's weights: null (random initial values, the default here), "imagenet" (the published ImageNet weights,
     * found locally or downloaded once, see WeightStore; random ones, with a note, when neither works), or the path
     * of a Keras HDF5 weights file.
     */
    public B weights(String value) {
        this.weights = value == null || value.isBlank() || value.equals("none") ? null : value;
        return self();
    }

    /** The input shape to build: the given one, else the default size with the top, else any size. */
    protected Shape shape() {
        return inputShape != null ? inputShape
                : includeTop ? Shape.of(defaultSize(), defaultSize(), 3) : Shape.of(Shape.NONE, Shape.NONE, 3);
    }

    /** Keras's rule for ImageNet weights: the ImageNet classifier only takes its own input size and 1000 classes. */
    protected void checkImagenet() {
        if (includeTop && (classes != 1000 || (inputShape != null
                && (inputShape.get(0) != defaultSize() || inputShape.get(1) != defaultSize())))) {
            throw new IllegalArgumentException("With include_top and ImageNet weights, " + kerasName() + " takes "
                    + defaultSize() + "x" + defaultSize() + "x3 images and has 1000 classes (got input " + inputShape
                    + ", classes " + classes + "). Use includeTop(false) for other sizes or a new classifier.");
        }
    }
}
