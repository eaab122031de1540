package io.transferlab.applications;

import io.transferlab.graph.Model;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.Flatten;
import io.transferlab.layers.Layers;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;

/**
 * VGG16 exactly as keras.applications.VGG16 builds it: five blocks of 3x3 "same" convolutions with ReLU
 * (block1_conv1 ... block5_conv3), each closed by a 2x2 max pooling (block1_pool ... block5_pool), and, with the
 * top, flatten, fc1 (4096), fc2 (4096) and predictions (softmax over the classes).
 */
public final class Vgg16 {
    /** Filters per block and convolutions per block. */
    private static final int[][] BLOCKS = {{64, 2}, {128, 2}, {256, 3}, {512, 3}, {512, 3}};

    private boolean includeTop = true;
    private Shape inputShape;
    private int classes = 1000;
    private String weights;
    private Tensor inputTensor;
    private String classifierActivation = "softmax";

    Vgg16() {
    }

    /** Keras's include_top: keep the three dense layers that classify ImageNet's 1000 classes (default true). */
    public Vgg16 includeTop(boolean value) {
        this.includeTop = value;
        return this;
    }

    /** Keras's input_shape=(height, width, channels); without it: 224x224 with the top, any size without. */
    public Vgg16 inputShape(long height, long width, long channels) {
        if (channels != 3) {
            throw new IllegalArgumentException("VGG16 takes 3-channel (RGB) images, got input_shape=(" + height + ", "
                    + width + ", " + channels + ")");
        }
        this.inputShape = Shape.of(height, width, channels);
        return this;
    }

    /**
     * Keras's input_tensor: build VGG16 on an existing tensor (the output of augmentation layers, say). Its layers
     * then continue that graph, and the model's input is the Input the tensor comes from.
     */
    public Vgg16 inputTensor(Tensor tensor) {
        this.inputTensor = tensor;
        this.inputShape = tensor.shape();
        return this;
    }

    /** Keras's classes: the size of the predictions layer when the top is included (default 1000). */
    public Vgg16 classes(int value) {
        this.classes = value;
        return this;
    }

    /** Keras's classifier_activation for the predictions layer (default softmax). */
    public Vgg16 classifierActivation(String value) {
        this.classifierActivation = value;
        return this;
    }

    /** Builds the model (random initial weights). */
    /**
     * Keras's weights: null (random initial values, the default here), "imagenet" (the published ImageNet weights,
     * found locally or downloaded once, see WeightStore), or the path of a Keras HDF5 weights file.
     */
    public Vgg16 weights(String value) {
        this.weights = value;
        return this;
    }

    public Model build() {
        if ("imagenet".equals(weights) && includeTop && (classes != 1000
                || (inputShape != null && (inputShape.get(0) != 224 || inputShape.get(1) != 224)))) {
            throw new IllegalArgumentException("With include_top and ImageNet weights, vgg16 takes 224x224x3 images and has "
                    + "1000 classes (got input " + inputShape + ", classes " + classes + "). Use includeTop(false) for "
                    + "other sizes or a new classifier.");
        }
        Model model = buildArchitecture();
        Applications.loadWeights(model, weights, "vgg16", includeTop);
        return model;
    }

    private Model buildArchitecture() {
        Shape shape = inputShape != null ? inputShape
                : includeTop ? Shape.of(224, 224, 3) : Shape.of(Shape.NONE, Shape.NONE, 3);
        return inputTensor != null ? graph(shape) : Applications.buildChecked("vgg16", shape, this::graph, 32);
    }

    /** The Input a tensor is computed from (following first inputs back). */
    private static Tensor sourceInput(Tensor t) {
        while (!t.node().inputs().isEmpty()) {
            t = t.node().inputs().get(0);
        }
        return t;
    }

    private Model graph(Shape shape) {
        Tensor input = inputTensor != null ? sourceInput(inputTensor) : Layers.Input(shape.dims());
        Tensor x = inputTensor != null ? inputTensor : input;
        for (int b = 0; b < BLOCKS.length; b++) {
            for (int c = 1; c <= BLOCKS[b][1]; c++) {
                x = new Conv2D(BLOCKS[b][0], 3, 3, "block" + (b + 1) + "_conv" + c)
                        .padding("same").activation("relu").on(x);
            }
            x = new MaxPooling2D(2, 2, "block" + (b + 1) + "_pool").on(x);
        }
        if (includeTop) {
            x = new Flatten("flatten").on(x);
            x = new Dense(4096, "relu", "fc1").on(x);
            x = new Dense(4096, "relu", "fc2").on(x);
            x = new Dense(classes, classifierActivation, "predictions").on(x);
        }
        return Model.of("vgg16", input, x);
    }
}
