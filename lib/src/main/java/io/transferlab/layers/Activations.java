package io.transferlab.layers;

import org.nd4j.linalg.activations.Activation;

import java.util.Map;

/** Keras activation names and their DL4J counterparts. */
final class Activations {
    private static final Map<String, Activation> KERAS_TO_DL4J = Map.ofEntries(
            Map.entry("linear", Activation.IDENTITY),
            Map.entry("relu", Activation.RELU),
            Map.entry("relu6", Activation.RELU6),
            Map.entry("sigmoid", Activation.SIGMOID),
            Map.entry("softmax", Activation.SOFTMAX),
            Map.entry("tanh", Activation.TANH),
            Map.entry("elu", Activation.ELU),
            Map.entry("selu", Activation.SELU),
            Map.entry("swish", Activation.SWISH),
            Map.entry("softplus", Activation.SOFTPLUS),
            Map.entry("hard_sigmoid", Activation.HARDSIGMOID));

    private Activations() {
    }

    /** Checks a Keras activation name; null means "linear", as in Keras. */
    static String check(String name) {
        String n = name == null ? "linear" : name;
        if (!KERAS_TO_DL4J.containsKey(n)) {
            throw new IllegalArgumentException("Unknown activation '" + name + "'. Known: "
                    + new java.util.TreeSet<>(KERAS_TO_DL4J.keySet()));
        }
        return n;
    }

    static Activation dl4j(String kerasName) {
        return KERAS_TO_DL4J.get(check(kerasName));
    }
}
