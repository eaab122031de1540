package io.transferlab.models;

/**
 * A model file that cannot be loaded: missing, truncated or corrupt, written by a newer version of the library, or
 * not a model file at all. The message names the file and says what is wrong.
 */
public class ModelFileException extends RuntimeException {
    public ModelFileException(String message) {
        super(message);
    }

    public ModelFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
