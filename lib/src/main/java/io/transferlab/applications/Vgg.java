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
 * VGG16 and VGG19 exactly as keras.applications.VGG16 and VGG19 build them: five blocks of 3x3 "same" convolutions
 * with ReLU (block1_conv1 ... block5_conv3, or block5_conv4 for VGG19), each closed by a 2x2 max pooling
 * (block1_pool ... block5_pool), and, with the top, flatten, fc1 (4096), fc2 (4096) and predictions (softmax over
 * the classes). The two differ only in the number of convolutions of blocks 3 to 5 (3 or 4).
 */
public final class Vgg extends ApplicationBuilder<Vgg> {
    /** Filters per block and convolutions per block. */
    private static final int[][] BLOCKS_16 = {{64, 2}, {128, 2}, {256, 3}, {512, 3}, {512, 3}};
    private static final int[][] BLOCKS_19 = {{64, 2}, {128, 2}, {256, 4}, {512, 4}, {512, 4}};

    private final String name;
    private final int[][] blocks;
    private Tensor inputTensor;

    private Vgg(String name, int[][] blocks) {
        this.name = name;
        this.blocks = blocks;
    }

    static Vgg vgg16() {
        return new Vgg("vgg16", BLOCKS_16);
    }

    static Vgg vgg19() {
        return new Vgg("vgg19", BLOCKS_19);
    }

    /**
     * Keras's input_tensor: build VGG16 on an existing tensor (the output of augmentation layers, say). Its layers
     * then continue that graph, and the model's input is the Input the tensor comes from.
     */
    public Vgg inputTensor(Tensor tensor) {
        this.inputTensor = tensor;
        this.inputShape = tensor.shape();
        return this;
    }

    @Override
    protected String kerasName() {
        return name;
    }

    @Override
    protected Model buildArchitecture() {
        Shape shape = shape();
        return inputTensor != null ? graph(shape) : Applications.buildChecked(name, shape, this::graph, 32);
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
        for (int b = 0; b < blocks.length; b++) {
            for (int c = 1; c <= blocks[b][1]; c++) {
                x = new Conv2D(blocks[b][0], 3, 3, "block" + (b + 1) + "_conv" + c)
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
        return Model.of(name, input, x);
    }
}
