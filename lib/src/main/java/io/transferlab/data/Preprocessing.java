package io.transferlab.data;

/**
 * How pixels (RGB, 0..255) become network inputs, as Keras's preprocess_input per model family.
 * <ul>
 *   <li>{@link #RESCALE}: x / 255, Keras's ImageDataGenerator(rescale=1./255), the tutorials' choice.</li>
 *   <li>{@link #CAFFE}: VGG16/VGG19/ResNet (v1): RGB to BGR, minus the ImageNet channel means, no scaling.</li>
 *   <li>{@link #TF}: Inception, MobileNet, MobileNetV2, ResNet V2: x / 127.5 - 1, to [-1, 1].</li>
 *   <li>{@link #NONE}: pixels as they are.</li>
 *   <li>{@link #TORCH}: DenseNet: x / 255, then minus the ImageNet channel means (0.485, 0.456, 0.406) and divided by
 *   their standard deviations (0.229, 0.224, 0.225), in RGB order (Keras's imagenet_utils mode "torch").</li>
 * </ul>
 */
public enum Preprocessing {
    NONE, RESCALE, CAFFE, TF, TORCH;

    /** The ImageNet means Keras subtracts in "caffe" mode, in BGR order. */
    private static final float[] CAFFE_MEAN_BGR = {103.939f, 116.779f, 123.68f};
    /** The ImageNet means and standard deviations Keras uses in "torch" mode, on 0..1 pixels, in RGB order. */
    private static final float[] TORCH_MEAN_RGB = {0.485f, 0.456f, 0.406f};
    private static final float[] TORCH_STD_RGB = {0.229f, 0.224f, 0.225f};

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
            case TORCH -> {
                for (int i = 0; i < px.length; i++) {
                    int c = i % 3;
                    px[i] = (px[i] / 255f - TORCH_MEAN_RGB[c]) / TORCH_STD_RGB[c];
                }
            }
        }
    }

    /** Keras's preprocess_input for an application model's name (vgg16, inception_v3, mobilenet, ...). */
    public static Preprocessing forModel(String modelName) {
        String n = modelName.toLowerCase();
        if (n.startsWith("densenet")) {
            return TORCH;
        }
        if (n.startsWith("efficientnet")) {
            return NONE; // keras.applications.efficientnet.preprocess_input passes pixels through: the model rescales
        }
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
                + "'; known families: vgg*, resnet* (caffe), inception*, mobilenet*, xception, resnet*v2 (tf), densenet* (torch), efficientnet* (none: 0-255 in)");
    }
}
