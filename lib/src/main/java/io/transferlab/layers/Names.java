package io.transferlab.layers;

import java.util.HashMap;
import java.util.Map;

/**
 * Default layer names as Keras makes them: the first Dense is "dense", the next "dense_1", and so on, counted
 * per prefix for the whole session. {@link #reset()} starts again, like {@code keras.backend.clear_session()}.
 */
public final class Names {
    private static final Map<String, Integer> COUNTS = new HashMap<>();

    private Names() {
    }

    public static synchronized String unique(String prefix) {
        int n = COUNTS.merge(prefix, 1, Integer::sum) - 1;
        return n == 0 ? prefix : prefix + "_" + n;
    }

    /** Names numbered from 1 (input_1, input_2, ...), as Keras names its Input layers. */
    public static synchronized String numbered(String prefix) {
        return prefix + "_" + COUNTS.merge("#" + prefix, 1, Integer::sum);
    }

    /** Keras's snake_case of a class name: MaxPooling2D becomes max_pooling2d. */
    public static String snake(String className) {
        String s = className.replaceAll("(.)([A-Z][a-z0-9]+)", "$1_$2");
        return s.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase();
    }

    public static synchronized void reset() {
        COUNTS.clear();
    }
}
