package io.transferlab.layers;

import org.deeplearning4j.nn.conf.layers.PoolingType;

/** Keras's GlobalAveragePooling2D: the mean over height and width of a channels-last image; output (channels). */
public class GlobalAveragePooling2D extends GlobalPooling2D {
    public GlobalAveragePooling2D(String name) {
        super(PoolingType.AVG, name);
    }
}
