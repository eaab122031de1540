package io.transferlab.layers;


import java.util.List;

/**
 * Keras's Activation layer: applies a named activation ("relu", "softmax", "sigmoid", ...) to its input, keeping
 * the shape. Softmax is taken over the last axis, as in Keras; it is supported on flat inputs only.
 */
public class Activation extends Layer {
    private final String activation;

    public Activation(String activation, String name) {
        super(name);
        this.activation = Activations.check(activation);
    }

    /** The Keras name of the activation. */
    public String activation() {
        return activation;
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (activation.equals("softmax") && s.rank() != 1) {
            throw new IllegalArgumentException("Activation '" + name() + "': softmax is supported on flat inputs only, got "
                    + s + "; put a Reshape or Flatten before it");
        }
        return s;
    }
}
