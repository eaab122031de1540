package io.transferlab.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How an image file becomes one network input: decoded to RGB, resized to {@code height x width} with the
 * interpolation, then preprocessed. {@link ImageFolder} reads its images through this (augmentation, for training
 * data, goes between the resize and the preprocessing), and a model predicting on image files uses the same one it
 * was trained with, so that a file gives the same pixels in both.
 *
 * @param height        target height in pixels
 * @param width         target width in pixels
 * @param preprocessing what is done to the 0..255 RGB pixels ({@link Preprocessing})
 * @param interpolation how images are resized (Keras's load_img and flow_from_directory default: nearest)
 */
public record ImageInput(int height, int width, Preprocessing preprocessing, Images.Interpolation interpolation) {
    public ImageInput {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + height + "x" + width);
        }
        if (preprocessing == null || interpolation == null) {
            throw new IllegalArgumentException("preprocessing and interpolation must be given");
        }
    }

    /** Square images, nearest-neighbour resizing (Keras's default). */
    public static ImageInput of(int size, Preprocessing preprocessing) {
        return new ImageInput(size, size, preprocessing, Images.Interpolation.NEAREST);
    }

    /** Decodes and resizes: (height, width, 3) RGB floats 0..255, before preprocessing. */
    public float[] decode(Path file) throws IOException {
        return DecodedImages.load(file, height, width, interpolation);
    }

    /** Applies the preprocessing in place and returns the pixels. */
    public float[] preprocess(float[] pixels) {
        preprocessing.apply(pixels);
        return pixels;
    }

    /** Decodes, resizes and preprocesses one file: one network input, (height, width, 3) channels-last. */
    public float[] load(Path file) throws IOException {
        return preprocess(decode(file));
    }

    /** The same with another size (a model that takes any size keeps its preprocessing). */
    public ImageInput withSize(int newHeight, int newWidth) {
        return new ImageInput(newHeight, newWidth, preprocessing, interpolation);
    }

    @Override
    public String toString() {
        return height + "x" + width + ", preprocessing " + preprocessing.name().toLowerCase(Locale.ROOT)
                + ", " + interpolation.name().toLowerCase(Locale.ROOT) + " resizing";
    }
}
