package io.transferlab.layers;


/** Keras's GlobalMaxPooling2D: the maximum over height and width of a channels-last image; output (channels). */
public class GlobalMaxPooling2D extends GlobalPooling2D {
    public GlobalMaxPooling2D(String name) {
        super(true, name);
    }
}
