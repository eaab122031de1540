package io.transferlab.engine;

import io.transferlab.engine.dl4j.Dl4jStateTransfer;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Dropout;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Layers;
import io.transferlab.layers.Node;
import io.transferlab.layers.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model split for fine-tuning: a frozen prefix (every layer from the input up to one "cut" tensor, none of which
 * learns) and the trainable suffix after it. The cut is the last tensor that every path from the input to a
 * learning layer passes and after which nothing reads an earlier tensor; nested models are looked into. Both parts
 * are new models over the same layers (so the same weights): the prefix runs forward in inference mode, the suffix
 * trains on its output.
 */
final class FrozenPrefix {
    /** The two parts, or why the model has no usable frozen prefix (then {@code prefix} and {@code suffix} are null). */
    record Split(Functional prefix, Functional suffix, String cut, String whyNot) {
    }

    /** A layer call of the model with nested models expanded, on canonical tensors. */
    private record Call(Layer layer, List<Tensor> inputs, Tensor output, boolean trainable) {
    }

    private static final Map<Functional, Split> CACHE = new java.util.WeakHashMap<>();
    private static final Map<Functional, String> CACHED_FOR = new java.util.WeakHashMap<>();

    private FrozenPrefix() {
    }

    /**
     * The model's split, the same parts while its structure (layers, trainable flags) holds: so that the engines'
     * compiled forms of the parts (the suffix's network with its optimizer state) carry over from one fit to the next.
     */
    static synchronized Split of(Functional model) {
        String structure = model.structureSignature();
        Split s = CACHE.get(model);
        if (s == null || !structure.equals(CACHED_FOR.get(model))) {
            s = find(model);
            CACHE.put(model, s);
            CACHED_FOR.put(model, structure);
        }
        return s;
    }

    /** Finds the latest cut. */
    static Split find(Functional model) {
        List<Call> calls = new ArrayList<>();
        Map<Tensor, Tensor> canonical = new HashMap<>();
        flatten(model, true, canonical, calls);
        Tensor input = model.input();
        Tensor output = canonical.getOrDefault(model.output(), model.output());
        int k = calls.size();
        Map<Tensor, Integer> producedAt = new HashMap<>();
        producedAt.put(input, -1);
        for (int i = 0; i < k; i++) {
            producedAt.put(calls.get(i).output(), i);
        }
        // lastUse[j + 1]: the last call reading the tensor produced at j (j = -1: the input); the output is read at k
        int[] lastUse = new int[k + 1];
        java.util.Arrays.fill(lastUse, -1);
        for (int i = 0; i < k; i++) {
            for (Tensor t : calls.get(i).inputs()) {
                Integer j = producedAt.get(t);
                if (j == null) {
                    return new Split(null, null, null, "layer '" + calls.get(i).layer().name() + "' reads a tensor from outside the model");
                }
                lastUse[j + 1] = Math.max(lastUse[j + 1], i);
            }
        }
        Integer outAt = producedAt.get(output);
        if (outAt == null) {
            return new Split(null, null, null, "the model's output is its input");
        }
        lastUse[outAt + 1] = k;
        int cut = -1;
        int readUpTo = lastUse[0];
        String stoppedBy = null;
        for (int i = 0; i < k; i++) {
            Call c = calls.get(i);
            if (learns(c)) {
                break;
            }
            if (c.layer() instanceof Dropout) {
                // it behaves differently in training: it must run in the trained part, never in the frozen prefix
                stoppedBy = "layer '" + c.layer().name() + "' (Dropout) behaves differently in training";
                break;
            }
            // the tensor made here is a cut when nothing made before it is read after it
            if (readUpTo <= i && i < k - 1 && c.output() != output) {
                cut = i;
            }
            readUpTo = Math.max(readUpTo, lastUse[i + 1]);
        }
        if (cut < 0) {
            return new Split(null, null, null, stoppedBy != null ? "no frozen prefix before it: " + stoppedBy
                    : calls.stream().noneMatch(FrozenPrefix::learns) ? "nothing in the model learns"
                    : "no frozen layers that every path to the first learning layer passes");
        }
        List<Call> rest = calls.subList(cut + 1, k);
        if (rest.stream().noneMatch(FrozenPrefix::learns)) {
            return new Split(null, null, null, "nothing after the frozen prefix learns");
        }
        for (Call c : rest) {
            if (c.trainable() != c.layer().isTrainable()) {
                return new Split(null, null, null, "layer '" + c.layer().name() + "' is frozen only through the model "
                        + "around it, which the trained part cannot express");
            }
        }
        Tensor cutTensor = calls.get(cut).output();
        String cutName = calls.get(cut).layer().name();
        if (calls.subList(0, cut + 1).stream().allMatch(c -> c.layer().weightSpecs().isEmpty())) {
            return new Split(null, null, null, "the frozen prefix has no weights (nothing to save there)");
        }
        Functional prefix = rebuild(model.name() + "_frozen_to_" + cutName, calls.subList(0, cut + 1), input, cutTensor);
        Functional suffix = rebuild(model.name() + "_after_" + cutName, rest, cutTensor, output);
        return new Split(prefix, suffix, cutName, null);
    }

    /** Whether the layer changes in training: weights that learn (a trainable batch norm's statistics included). */
    private static boolean learns(Call c) {
        return c.trainable() && !c.layer().weightSpecs().isEmpty() && !Dl4jStateTransfer.bakedWeights(c.layer());
    }

    private static void flatten(Functional m, boolean parentTrainable, Map<Tensor, Tensor> canonical, List<Call> out) {
        boolean trainable = parentTrainable && m.isTrainable();
        for (Node n : m.graphNodes()) {
            Layer l = n.layer();
            if (l instanceof InputLayer) {
                continue;
            }
            List<Tensor> ins = n.inputs().stream().map(t -> canonical.getOrDefault(t, t)).toList();
            if (l instanceof Functional inner) {
                canonical.put(inner.input(), ins.get(0));
                flatten(inner, trainable, canonical, out);
                canonical.put(n.output(), canonical.getOrDefault(inner.output(), inner.output()));
                continue;
            }
            out.add(new Call(l, ins, n.output(), trainable && l.isTrainable()));
        }
    }

    /** A new model calling these layers again, from a new input standing for {@code from} to what stands for {@code to}. */
    private static Functional rebuild(String name, List<Call> calls, Tensor from, Tensor to) {
        Tensor start = Layers.Input(from.shape().dims());
        Map<Tensor, Tensor> mapped = new HashMap<>();
        mapped.put(from, start);
        for (Call c : calls) {
            Tensor[] ins = c.inputs().stream().map(mapped::get).toArray(Tensor[]::new);
            mapped.put(c.output(), c.layer().on(ins));
        }
        return new Part(name, start, mapped.get(to));
    }

    /** A plain model over part of another's layers. */
    private static final class Part extends Functional {
        Part(String name, Tensor input, Tensor output) {
            super(name, input, output);
        }
    }
}
