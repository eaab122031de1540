package io.transferlab.layers;


/** Keras's GlobalAveragePooling2D: the mean over height and width of a channels-last image; output (channels). */
public class GlobalAveragePooling2D extends GlobalPooling2D {
    public GlobalAveragePooling2D(String name) {
        super(false, name);
    }
}
