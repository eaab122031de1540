package io.transferlab.weights;

/**
 * A Keras weights file that cannot be used: missing, truncated or corrupt, not a Keras weights file, or made for
 * another model. The message names the file and, where it applies, the first layer and weight that do not fit.
 */
public class WeightsFileException extends IllegalArgumentException {
    public WeightsFileException(String message) {
        super(message);
    }

    public WeightsFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
