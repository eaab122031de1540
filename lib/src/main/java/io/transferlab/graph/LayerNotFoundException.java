package io.transferlab.graph;

import io.transferlab.layers.Layer;

import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/** An unknown layer name: the message lists the nearest existing names first, then all of them. */
public class LayerNotFoundException extends IllegalArgumentException {
    public LayerNotFoundException(Functional model, String wanted) {
        super(message(model, wanted));
    }

    private static String message(Functional model, String wanted) {
        List<String> names = model.layers().stream().map(Layer::name).toList();
        List<String> nearest = names.stream()
                .sorted(Comparator.comparingInt((String n) -> distance(n, wanted)).thenComparing(names::indexOf))
                .limit(3).toList();
        return "No layer named '" + wanted + "' in model '" + model.name() + "'. Nearest: "
                + String.join(", ", nearest) + ". All layers: " + names.stream().collect(Collectors.joining(", "));
    }

    /** Levenshtein edit distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
