package io.transferlab.applications;

import io.transferlab.models.Model;
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
public final class Vgg16 extends ApplicationBuilder<Vgg16> {
    /** Filters per block and convolutions per block. */
    private static final int[][] BLOCKS = {{64, 2}, {128, 2}, {256, 3}, {512, 3}, {512, 3}};

    private Tensor inputTensor;

    Vgg16() {
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

    @Override
    protected String kerasName() {
        return "vgg16";
    }

    @Override
    protected Model buildArchitecture() {
        Shape shape = shape();
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
        } else if ("avg".equals(pooling)) {
            x = new io.transferlab.layers.GlobalAveragePooling2D(null).on(x);
        } else if ("max".equals(pooling)) {
            x = new io.transferlab.layers.GlobalMaxPooling2D(null).on(x);
        }
        return Model.of("vgg16", input, x);
    }
}
