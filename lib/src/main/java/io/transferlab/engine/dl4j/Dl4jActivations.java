package io.transferlab.engine.dl4j;

import org.nd4j.linalg.activations.Activation;

import java.util.Map;

/** Keras activation names as DL4J's activation functions. */
final class Dl4jActivations {
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

    private Dl4jActivations() {
    }

    static Activation of(String kerasName) {
        Activation a = KERAS_TO_DL4J.get(kerasName);
        if (a == null) {
            throw new UnsupportedOperationException("activation '" + kerasName + "' has no DL4J counterpart");
        }
        return a;
    }
}
