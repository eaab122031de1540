package io.transferlab.data;

/**
 * How pixels (RGB, 0..255) become network inputs, as Keras's preprocess_input per model family.
 * <ul>
 *   <li>{@link #RESCALE}: x / 255, Keras's ImageDataGenerator(rescale=1./255), the tutorials' choice.</li>
 *   <li>{@link #CAFFE}: VGG16/VGG19/ResNet (v1): RGB to BGR, minus the ImageNet channel means, no scaling.</li>
 *   <li>{@link #TF}: Inception, MobileNet, MobileNetV2, ResNet V2: x / 127.5 - 1, to [-1, 1].</li>
 *   <li>{@link #NONE}: pixels as they are.</li>
 * </ul>
 */
public enum Preprocessing {
    NONE, RESCALE, CAFFE, TF;

    /** The ImageNet means Keras subtracts in "caffe" mode, in BGR order. */
    private static final float[] CAFFE_MEAN_BGR = {103.939f, 116.779f, 123.68f};

    /** Applies this preprocessing in place to (h, w, 3) RGB pixels. */
    public void apply(float[] px) {
        switch (this) {
            case NONE -> {
            }
            case RESCALE -> {
                for (int i = 0; i < px.length; i++) {
                    px[i] /= 255f;
                }
            }
            case TF -> {
                for (int i = 0; i < px.length; i++) {
                    px[i] = px[i] / 127.5f - 1f;
                }
            }
            case CAFFE -> {
                for (int i = 0; i < px.length; i += 3) {
                    float r = px[i];
                    px[i] = px[i + 2] - CAFFE_MEAN_BGR[0];
                    px[i + 1] = px[i + 1] - CAFFE_MEAN_BGR[1];
                    px[i + 2] = r - CAFFE_MEAN_BGR[2];
                }
            }
        }
    }

    /** Keras's preprocess_input for an application model's name (vgg16, inception_v3, mobilenet, ...). */
    public static Preprocessing forModel(String modelName) {
        String n = modelName.toLowerCase();
        if (n.startsWith("resnet") && n.endsWith("v2")) {
            return TF; // keras.applications.resnet_v2.preprocess_input: mode "tf"
        }
        if (n.startsWith("vgg") || n.startsWith("resnet")) {
            return CAFFE;
        }
        if (n.startsWith("inception") || n.startsWith("mobilenet") || n.startsWith("xception")) {
            return TF;
        }
        throw new IllegalArgumentException("No Keras preprocessing known for model '" + modelName
                + "'; known families: vgg*, resnet* (caffe), inception*, mobilenet*, xception (tf)");
    }
}
