package io.transferlab.weights;

import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Tensor;
import io.transferlab.layers.WeightSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keras 1 weight files whose layers carry Keras 1's automatic names (convolution2d_1, separableconvolution2d_3,
 * batchnormalization_12, dense_1), such as the published Xception files: the names say nothing about which layer of
 * a model is meant, and Keras itself loads such files by topological order (the layers with weights of the file,
 * in its layer_names order, paired with those of model.layers). This class does the same, and checks more than
 * Keras does: that each pair has the same layer type, that every weight has its role (Keras 1's {@code W}, {@code b},
 * {@code gamma}, {@code beta}, {@code running_mean}, {@code running_std} - which holds the variance -,
 * {@code depthwise_kernel}, {@code pointwise_kernel}, mapped to Keras 2's kernel, bias, ..., moving_variance) and the
 * model's shape; the first pair that does not fit is named. Where the model's order cannot be checked by shapes
 * (two layers with weights of the same type and shapes at the same depth, whose order in model.layers is a mere
 * tie-break), it refuses rather than guess.
 */
final class Keras1 {
    private Keras1() {
    }

    /** Keras 1's automatic names of the layer types the library maps, to the Keras 2 type. */
    private static final Map<String, String> TYPES = Map.of(
            "convolution2d", "Conv2D",
            "separableconvolution2d", "SeparableConv2D",
            "batchnormalization", "BatchNormalization",
            "dense", "Dense");

    /** Keras 1's weight roles and their Keras 2 names. */
    private static final Map<String, String> ROLES = Map.of(
            "W", "kernel", "b", "bias", "gamma", "gamma", "beta", "beta", "running_mean", "moving_mean",
            "running_std", "moving_variance", "depthwise_kernel", "depthwise_kernel",
            "pointwise_kernel", "pointwise_kernel");

    private static final Pattern AUTO_NAME = Pattern.compile("([a-z0-9]+)_(\\d+)");
    private static final Pattern ROLE = Pattern.compile(
            ".*?_(W|b|gamma|beta|running_mean|running_std|depthwise_kernel|pointwise_kernel)(?:_\\d+)?(?::\\d+)?");

    /**
     * Whether the file is loaded by order: written by Keras 1 (no keras_version, or 1.x), every layer with weights
     * named automatically, and the model's layers not all found by name.
     */
    static boolean applies(HdfFile h5, Functional model, Map<String, KerasWeights.FileLayer> fileLayers) {
        String version = kerasVersion(h5);
        if (version != null && !version.startsWith("1")) {
            return false;
        }
        boolean anyWeights = false;
        for (KerasWeights.FileLayer f : fileLayers.values()) {
            if (f.datasets().isEmpty()) {
                continue;
            }
            anyWeights = true;
            Matcher m = AUTO_NAME.matcher(f.name());
            if (!m.matches() || !TYPES.containsKey(m.group(1))) {
                return false;
            }
        }
        if (!anyWeights) {
            return false;
        }
        for (Layer l : KerasWeights.weightedLeaves(model)) {
            KerasWeights.FileLayer f = fileLayers.get(l.name());
            if (f == null || f.datasets().isEmpty()) {
                return true;
            }
        }
        return false;
    }

    private static String kerasVersion(HdfFile h5) {
        List<Group> places = new ArrayList<>();
        places.add(h5);
        if (h5.getChildren().get("model_weights") instanceof Group g) {
            places.add(g);
        }
        for (Group g : places) {
            Map<String, Attribute> attrs = g.getAttributes();
            if (attrs.containsKey("keras_version")) {
                List<String> v = KerasWeights.strings(g, "keras_version");
                return v == null || v.isEmpty() ? "" : v.get(0);
            }
        }
        return null;
    }

    /** Pairs the file's layers with weights with the model's, in order, every type, role and shape checked. */
    static List<KerasWeights.Match> pairByOrder(Path file, Functional model, Map<String, KerasWeights.FileLayer> fileLayers) {
        String where = "Keras weights file '" + file + "' has Keras 1's automatic layer names, so it is loaded by layer "
                + "order, as Keras does";
        for (Layer l : model.layers()) {
            if (l instanceof Functional && !l.weightSpecs().isEmpty()) {
                throw new WeightsFileException(where + ", into a model without nested models: load it into '"
                        + l.name() + "' itself");
            }
        }
        List<Layer> leaves = KerasWeights.weightedLeaves(model);
        List<KerasWeights.FileLayer> theirs = fileLayers.values().stream().filter(f -> !f.datasets().isEmpty()).toList();
        if (leaves.size() != theirs.size()) {
            throw new WeightsFileException(where + ", and it has " + theirs.size() + " layers with weights where model '"
                    + model.name() + "' has " + leaves.size() + ": it was saved from another network (for a model "
                    + "without its top, use the file without the top; load into the base before adding layers)");
        }
        List<KerasWeights.Match> matches = new ArrayList<>();
        for (int i = 0; i < leaves.size(); i++) {
            Layer layer = leaves.get(i);
            KerasWeights.FileLayer f = theirs.get(i);
            String pair = "layer #" + (i + 1) + " with weights: the file's '" + f.name() + "' against model layer '"
                    + layer.name() + "' (" + layer.typeName() + ")";
            Matcher m = AUTO_NAME.matcher(f.name());
            String type = m.matches() ? TYPES.get(m.group(1)) : null;
            if (!layer.typeName().equals(type)) {
                throw new WeightsFileException(where + "; " + pair + ": the file's layer is a " + type + ". The file "
                        + "is for another network, or its layers are in another order.");
            }
            Map<String, Integer> byRole = new LinkedHashMap<>();
            for (int w = 0; w < f.weightNames().size(); w++) {
                String n = f.weightNames().get(w);
                String base = n.substring(n.lastIndexOf('/') + 1);
                Matcher r = ROLE.matcher(base);
                String role = r.matches() ? ROLES.get(r.group(1)) : null;
                if (role == null || byRole.put(role, w) != null) {
                    throw new WeightsFileException(where + "; " + pair + ": weight '" + n + "' is "
                            + (role == null ? "not one of Keras 1's (W, b, gamma, beta, running_mean, running_std, "
                            + "depthwise_kernel, pointwise_kernel)" : "a second " + role));
                }
            }
            List<WeightSpec> specs = layer.weightSpecs();
            List<String> names = new ArrayList<>();
            List<Dataset> datasets = new ArrayList<>();
            for (WeightSpec spec : specs) {
                Integer w = byRole.remove(spec.name());
                if (w == null) {
                    throw new WeightsFileException(where + "; " + pair + ": the file has no " + spec.name()
                            + " (its weights: " + f.weightNames() + ")");
                }
                long[] got = Arrays.stream(f.datasets().get(w).getDimensions()).asLongStream().toArray();
                if (!Arrays.equals(got, spec.shape())) {
                    throw new WeightsFileException(where + "; " + pair + ": weight '" + f.weightNames().get(w)
                            + "' has shape " + KerasWeights.tuple(got) + " but '" + layer.name() + "' " + spec.name()
                            + " needs " + KerasWeights.tuple(spec.shape()) + ". The file is for another network, or "
                            + "its layers are in another order.");
                }
                names.add(f.weightNames().get(w));
                datasets.add(f.datasets().get(w));
            }
            if (!byRole.isEmpty()) {
                throw new WeightsFileException(where + "; " + pair + ": the file also has " + byRole.keySet()
                        + ", which the model's layer lacks (check use_bias / scale / center)");
            }
            matches.add(new KerasWeights.Match(layer, f.name(), names, datasets));
        }
        refuseAmbiguous(where, model, leaves);
        return matches;
    }

    /**
     * Layers with weights at the same depth from the output stand in model.layers in the order of a depth-first
     * walk, a tie-break; when two of them have the same type and weight shapes, the file's order cannot be checked
     * against the model's by shapes, and a file from a program that broke the tie otherwise would load silently
     * into the wrong layers.
     */
    private static void refuseAmbiguous(String where, Functional model, List<Layer> leaves) {
        Map<Layer, Integer> depth = depths(model);
        Map<String, Layer> seen = new HashMap<>();
        for (Layer l : leaves) {
            Integer d = depth.get(l);
            if (d == null) {
                continue;
            }
            String key = d + "|" + l.typeName() + "|" + l.weightSpecs().stream()
                    .map(s -> Arrays.toString(s.shape())).toList();
            Layer other = seen.putIfAbsent(key, l);
            if (other != null) {
                throw new WeightsFileException(where + ", but that order is ambiguous for model '" + model.name()
                        + "': layers '" + other.name() + "' and '" + l.name() + "' (" + l.typeName() + ") are at the "
                        + "same depth with the same weight shapes, so either pairing fits and the shapes cannot tell "
                        + "which of the file's layers is which. Use a file with the model's layer names.");
            }
        }
    }

    /** Keras's depth of each layer: the longest path from its call to the model's output. */
    private static Map<Layer, Integer> depths(Functional model) {
        List<io.transferlab.layers.Node> nodes = model.graphNodes();
        Map<io.transferlab.layers.Node, Integer> depth = new HashMap<>();
        depth.put(model.output().node(), 0);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            io.transferlab.layers.Node n = nodes.get(i);
            int d = depth.getOrDefault(n, 0);
            for (Tensor t : n.inputs()) {
                depth.merge(t.node(), d + 1, Math::max);
            }
        }
        Map<Layer, Integer> byLayer = new HashMap<>();
        depth.forEach((n, d) -> byLayer.merge(n.layer(), d, Math::max));
        return byLayer;
    }
}
