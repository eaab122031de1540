package io.transferlab.layers;

/** A layer would produce an empty output: its input is too small (or otherwise wrong) for it. */
public class ShapeException extends IllegalArgumentException {
    public ShapeException(Layer layer, Shape input, Shape output) {
        super("Layer '" + layer.name() + "' (" + layer.typeName() + ") cannot take input " + input
                + ": its output would be " + output + ". The input is too small for this network.");
    }

    public ShapeException(String message, Throwable cause) {
        super(message, cause);
    }
}
