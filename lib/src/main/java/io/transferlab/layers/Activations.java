package io.transferlab.layers;

import java.util.Set;
import java.util.TreeSet;

/** Keras's activation names (the ones the layers accept); each engine maps them to its own functions. */
public final class Activations {
    /** Every activation name a layer accepts, as Keras spells it. */
    public static final Set<String> NAMES = Set.of("linear", "relu", "relu6", "sigmoid", "softmax", "tanh", "elu",
            "selu", "swish", "softplus", "hard_sigmoid");

    private Activations() {
    }

    /** Checks a Keras activation name; null means "linear", as in Keras. */
    static String check(String name) {
        String n = name == null ? "linear" : name;
        if (!NAMES.contains(n)) {
            throw new IllegalArgumentException("Unknown activation '" + name + "'. Known: " + new TreeSet<>(NAMES));
        }
        return n;
    }
}
