package io.transferlab.weights;

import io.jhdf.HdfFile;
import io.jhdf.Superblock;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.transferlab.graph.Functional;
import io.transferlab.runtime.Backend;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.WeightSpec;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads Keras HDF5 weight files (the {@code .h5} files of keras.applications, and files written by Keras 2's
 * {@code model.save_weights} or {@code model.save}) into a model (a {@link Functional}), matching layers by name.
 *
 * <p>Every layer of the model that has weights (nested models included) must find a layer of the same name in
 * the file, with the same number of weights and the same shapes, in Keras's order; layers of the file that the
 * model lacks are ignored (a file with the top loads into a model without it). Nothing is changed unless all
 * layers fit. Errors name the file and the first layer and weight that do not fit.
 *
 * <p>A Keras 1 file whose layers carry Keras 1's automatic names (convolution2d_1, batchnormalization_4, such as
 * the published Xception files), loaded into a model whose names it lacks, is paired by layer order instead, as
 * Keras loads it; see {@link Keras1} for what is checked.
 *
 * <pre>{@code
 * var base = Applications.mobileNet().alpha(0.25).includeTop(false).build();
 * base.loadWeights(Path.of("mobilenet_2_5_224_tf_no_top.h5"));
 * }</pre>
 *
 * <p>{@code model.loadWeights(path)} is the usual entry point. Loading only sets the layers' weights; engines
 * notice the change ({@link Functional#weightsDigest()}) and run on the new weights from the next call.
 */
public final class KerasWeights {
    private static final String JHDF_LOG_LEVEL = "org.slf4j.simpleLogger.log.io.jhdf";

    static {
        // jHDF logs every group it opens at INFO; keep notebooks quiet unless asked otherwise
        if (System.getProperty(JHDF_LOG_LEVEL) == null) {
            System.setProperty(JHDF_LOG_LEVEL, "warn");
        }
        // jHDF warns about the padding of string attributes, which h5py reads as it should
        if (System.getProperty(JHDF_LOG_LEVEL + ".object.message.Message") == null) {
            System.setProperty(JHDF_LOG_LEVEL + ".object.message.Message", "error");
        }
    }

    private KerasWeights() {
    }

    /**
     * What a load did: the model layers that received weights (in the model's order), the number of values read,
     * and the file's layers with weights that the model does not have (such as the top of a full network).
     */
    public record Loaded(Path file, List<String> layers, long values, List<String> unusedFileLayers, boolean byOrder) {
        public Loaded(Path file, List<String> layers, long values, List<String> unusedFileLayers) {
            this(file, layers, values, unusedFileLayers, false);
        }

        @Override
        public String toString() {
            return String.format("Loaded %,d weights into %d layers from %s%s%s", values, layers.size(), file.getFileName(),
                    byOrder ? " by layer order (a Keras 1 file with automatic layer names; every shape checked)" : "",
                    unusedFileLayers.isEmpty() ? "" : " (file layers not in the model: " + unusedFileLayers + ")");
        }
    }

    /** One layer group of the file: its name and its weights, as (name in the file, dataset). */
    record FileLayer(String name, List<String> weightNames, List<Dataset> datasets) {
    }

    /** The weights the file holds for one model layer. */
    record Match(Layer layer, String fileLayer, List<String> weightNames, List<Dataset> datasets) {
    }

    /**
     * Loads the weights of a Keras HDF5 file into the model, by layer name.
     *
     * @throws WeightsFileException if the file is missing, truncated or corrupt, is not a Keras weights file, or
     *                              does not fit the model (the message names the first layer and weight)
     */
    public static Loaded load(Path file, Functional model) {
        Backend.init();
        checkReadable(file);
        try (HdfFile h5 = new HdfFile(file)) {
            Map<String, FileLayer> fileLayers = readLayers(file, h5);
            boolean byOrder = Keras1.applies(h5, model, fileLayers);
            List<Match> matches = byOrder ? Keras1.pairByOrder(file, model, fileLayers) : match(file, model, fileLayers);
            long values = 0;
            List<List<INDArray>> arrays = new ArrayList<>();
            for (Match m : matches) {
                List<INDArray> w = new ArrayList<>();
                for (int i = 0; i < m.datasets.size(); i++) {
                    w.add(read(file, m, i));
                    values += w.get(i).length();
                }
                arrays.add(w);
            }
            for (int i = 0; i < matches.size(); i++) {
                matches.get(i).layer.setWeights(arrays.get(i));
            }
            List<String> used = matches.stream().map(Match::fileLayer).toList();
            List<String> unused = fileLayers.values().stream()
                    .filter(f -> !f.datasets.isEmpty() && !used.contains(f.name)).map(FileLayer::name).toList();
            return new Loaded(file, matches.stream().map(m -> m.layer.name()).toList(), values, unused, byOrder);
        } catch (WeightsFileException e) {
            throw e;
        } catch (RuntimeException e) {
            throw corrupt(file, e);
        }
    }

    /** The names of the layers in a Keras HDF5 weights file, in the file's order (layers without weights too). */
    public static List<String> layerNames(Path file) {
        checkReadable(file);
        try (HdfFile h5 = new HdfFile(file)) {
            return List.copyOf(readLayers(file, h5).keySet());
        } catch (WeightsFileException e) {
            throw e;
        } catch (RuntimeException e) {
            throw corrupt(file, e);
        }
    }

    // ---- reading the file ----

    private static void checkReadable(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new WeightsFileException("Keras weights file '" + file + "' does not exist");
        } catch (IOException e) {
            throw new WeightsFileException("Cannot read Keras weights file '" + file + "': " + e, e);
        }
        // HDF5 records the file's length in its superblock: a shorter file was cut short (an interrupted download)
        try (FileChannel fc = FileChannel.open(file, StandardOpenOption.READ)) {
            if (size >= 8 && hdf5SignatureAt(fc, 0)) {
                long end = Superblock.readSuperblock(fc, 0).getEndOfFileAddress();
                if (end > size) {
                    throw new WeightsFileException(String.format("Keras weights file '%s' is truncated: it has %,d bytes "
                            + "but its HDF5 header says %,d. Delete it and download it again.", file, size, end));
                }
            } else if (size < 8 || !looksLikeHdf5Later(fc, size)) {
                throw new WeightsFileException("'" + file + "' is not an HDF5 file (Keras .h5 weights); it has "
                        + String.format("%,d", size) + " bytes" + (size == 0 ? " (empty: an interrupted download?)" : ""));
            }
        } catch (WeightsFileException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw corrupt(file, e);
        }
    }

    /** HDF5 allows a user block before the superblock, at 512, 1024, 2048, ... bytes. */
    private static boolean looksLikeHdf5Later(FileChannel fc, long size) throws IOException {
        for (long offset = 512; offset + 8 <= size; offset *= 2) {
            if (hdf5SignatureAt(fc, offset)) {
                return true;
            }
        }
        return false;
    }

    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    private static boolean hdf5SignatureAt(FileChannel fc, long offset) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8);
        while (b.hasRemaining()) {
            if (fc.read(b, offset + b.position()) < 0) {
                return false;
            }
        }
        return Arrays.equals(b.array(), HDF5_SIGNATURE);
    }

    private static WeightsFileException corrupt(Path file, Exception e) {
        return new WeightsFileException("Cannot read Keras weights file '" + file + "': it is truncated or corrupt ("
                + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
                + "). Delete it and download it again.", e);
    }

    private static Map<String, FileLayer> readLayers(Path file, HdfFile h5) {
        Group root = h5;
        Node mw = h5.getChildren().get("model_weights");
        if (mw instanceof Group g) {
            root = g; // a whole model saved with model.save(): the weights are under model_weights
        }
        List<String> names = strings(root, "layer_names");
        if (names == null) {
            throw new WeightsFileException("'" + file + "' is an HDF5 file but not Keras weights: it has no "
                    + "'layer_names' attribute (Keras 3 '.weights.h5' files are not supported)");
        }
        Map<String, FileLayer> layers = new LinkedHashMap<>();
        for (String name : names) {
            Node n = root.getChildren().get(name);
            if (n == null && name.contains("/")) {
                // Keras 2 names such as DenseNet's "conv1/conv" became nested groups conv1 -> conv in HDF5
                try {
                    n = root.getByPath(name);
                } catch (RuntimeException e) {
                    n = null;
                }
            }
            if (!(n instanceof Group g)) {
                throw new WeightsFileException("Keras weights file '" + file + "' lists layer '" + name
                        + "' but has no group for it: the file is corrupt");
            }
            List<String> weightNames = strings(g, "weight_names");
            if (weightNames == null) {
                weightNames = List.of();
            }
            List<Dataset> datasets = new ArrayList<>();
            for (String w : weightNames) {
                Node d;
                try {
                    d = g.getByPath(w);
                } catch (RuntimeException e) {
                    d = null;
                }
                if (!(d instanceof Dataset ds)) {
                    throw new WeightsFileException("Keras weights file '" + file + "': layer '" + name + "' lists weight '"
                            + w + "' but has no such dataset: the file is corrupt");
                }
                datasets.add(ds);
            }
            layers.put(name, new FileLayer(name, weightNames, datasets));
        }
        return layers;
    }

    /** A string-array attribute, also when Keras split a long one into name0, name1, ... */
    static List<String> strings(Node node, String attribute) {
        Map<String, Attribute> attrs = node.getAttributes();
        if (attrs.containsKey(attribute)) {
            return toStrings(attrs.get(attribute).getData());
        }
        if (!attrs.containsKey(attribute + "0")) {
            return null;
        }
        List<String> all = new ArrayList<>();
        for (int i = 0; attrs.containsKey(attribute + i); i++) {
            all.addAll(toStrings(attrs.get(attribute + i).getData()));
        }
        return all;
    }

    private static List<String> toStrings(Object data) {
        if (data == null) {
            return List.of();
        }
        if (data instanceof String s) {
            return List.of(s);
        }
        if (data instanceof Object[] arr) {
            List<String> out = new ArrayList<>();
            for (Object o : arr) {
                out.add(o instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.UTF_8).trim() : String.valueOf(o));
            }
            return out;
        }
        throw new IllegalStateException("Unexpected attribute data " + data.getClass());
    }

    // ---- matching layers ----

    /** Every layer with weights of the model, nested models expanded, in order. */
    static List<Layer> weightedLeaves(Functional model) {
        List<Layer> out = new ArrayList<>();
        for (Layer l : model.layers()) {
            if (l instanceof Functional inner) {
                for (Layer x : weightedLeaves(inner)) {
                    if (!out.contains(x)) {
                        out.add(x);
                    }
                }
            } else if (!(l instanceof InputLayer) && !l.weightSpecs().isEmpty() && !out.contains(l)) {
                out.add(l);
            }
        }
        return out;
    }

    private static final java.util.regex.Pattern NUMBERED = java.util.regex.Pattern.compile("(.*?)(?:_(\\d+))?");

    /**
     * Keras numbers unnamed layers per type in creation order (conv2d, conv2d_1, ... in a fresh session; files
     * saved by older Keras start at conv2d_1). When the model's default-named layers are missing from the file but
     * the file has the same number of layers of that type, they are paired in numbering order, which is creation
     * order on both sides (shapes are still checked one by one).
     */
    private static Map<String, String> numberedNameMap(List<Layer> leaves, Map<String, FileLayer> fileLayers) {
        Map<String, List<String>> modelByPrefix = new java.util.LinkedHashMap<>();
        for (Layer l : leaves) {
            if (!fileLayers.containsKey(l.name()) || fileLayers.get(l.name()).datasets.isEmpty()) {
                modelByPrefix.computeIfAbsent(prefixOf(l.name()), k -> new ArrayList<>()).add(l.name());
            }
        }
        Map<String, String> map = new java.util.HashMap<>();
        for (var e : modelByPrefix.entrySet()) {
            List<String> mine = new ArrayList<>();
            for (Layer l : leaves) {
                if (prefixOf(l.name()).equals(e.getKey())) {
                    mine.add(l.name());
                }
            }
            List<String> theirs = fileLayers.values().stream().filter(f -> !f.datasets.isEmpty())
                    .map(FileLayer::name).filter(n -> prefixOf(n).equals(e.getKey())).toList();
            if (mine.size() != theirs.size() || mine.isEmpty()) {
                continue;
            }
            mine.sort(java.util.Comparator.comparingLong(KerasWeights::numberOf));
            List<String> sortedTheirs = new ArrayList<>(theirs);
            sortedTheirs.sort(java.util.Comparator.comparingLong(KerasWeights::numberOf));
            for (int i = 0; i < mine.size(); i++) {
                map.put(mine.get(i), sortedTheirs.get(i));
            }
        }
        return map;
    }

    private static String prefixOf(String name) {
        var m = NUMBERED.matcher(name);
        return m.matches() ? m.group(1) : name;
    }

    private static long numberOf(String name) {
        var m = NUMBERED.matcher(name);
        return m.matches() && m.group(2) != null ? Long.parseLong(m.group(2)) : 0;
    }

    private static List<Match> match(Path file, Functional model, Map<String, FileLayer> fileLayers) {
        List<Layer> leaves = weightedLeaves(model);
        Map<String, String> renamed = numberedNameMap(leaves, fileLayers);
        List<Match> matches = new ArrayList<>();
        List<Layer> missing = new ArrayList<>();
        for (Layer l : leaves) {
            FileLayer f = fileLayers.get(renamed.getOrDefault(l.name(), l.name()));
            if (f != null && !f.datasets.isEmpty()) {
                matches.add(new Match(l, f.name, f.weightNames, f.datasets));
                continue;
            }
            // a nested model saved as one group: its weights are named "<layer>/<weight>:0"
            Match nested = null;
            for (FileLayer g : fileLayers.values()) {
                List<String> names = new ArrayList<>();
                List<Dataset> ds = new ArrayList<>();
                for (int i = 0; i < g.weightNames.size(); i++) {
                    if (g.weightNames.get(i).startsWith(l.name() + "/")) {
                        names.add(g.weightNames.get(i));
                        ds.add(g.datasets.get(i));
                    }
                }
                if (!ds.isEmpty()) {
                    nested = new Match(l, g.name, names, ds);
                    break;
                }
            }
            if (nested != null) {
                matches.add(nested);
            } else {
                missing.add(l);
            }
        }
        if (!leaves.isEmpty() && matches.isEmpty()) {
            throw new WeightsFileException("Keras weights file '" + file + "' has no layer in common with model '"
                    + model.name() + "': " + guess(fileLayers) + ". The model's layers with weights are "
                    + preview(leaves.stream().map(Layer::name).toList()) + "; the file's are "
                    + preview(withWeights(fileLayers)) + ".");
        }
        if (!missing.isEmpty()) {
            Layer first = missing.get(0);
            throw new WeightsFileException("Keras weights file '" + file + "' has no weights for layer '" + first.name()
                    + "' (" + first.typeName() + ") of model '" + model.name() + "'"
                    + (missing.size() > 1 ? " nor for " + (missing.size() - 1) + " more: "
                    + preview(missing.stream().skip(1).map(Layer::name).toList()) : "")
                    + ". The file's layers with weights: " + preview(withWeights(fileLayers)) + " (" + guess(fileLayers) + ")");
        }
        for (Match m : matches) {
            List<WeightSpec> specs = m.layer.weightSpecs();
            if (specs.size() != m.datasets.size()) {
                throw new WeightsFileException("Keras weights file '" + file + "': layer '" + m.fileLayer + "' has "
                        + m.datasets.size() + " weights " + m.weightNames + " but layer '" + m.layer.name() + "' ("
                        + m.layer.typeName() + ") of model '" + model.name() + "' has " + specs.size() + " "
                        + specs.stream().map(WeightSpec::name).toList()
                        + (m.layer.typeName().equals("BatchNormalization")
                        ? " (check BatchNormalization's scale/center settings)" : ""));
            }
            for (int i = 0; i < specs.size(); i++) {
                long[] want = specs.get(i).shape();
                long[] got = Arrays.stream(m.datasets.get(i).getDimensions()).asLongStream().toArray();
                if (!Arrays.equals(want, got)) {
                    throw new WeightsFileException("Keras weights file '" + file + "': weight '" + m.weightNames.get(i)
                            + "' of layer '" + m.fileLayer + "' has shape " + tuple(got) + " but layer '"
                            + m.layer.name() + "' weight '" + specs.get(i).name() + "' of model '" + model.name()
                            + "' needs " + tuple(want) + ". The file was made for a model of another size "
                            + "(width/alpha, input channels or number of classes)" + sizeHint(fileLayers) + ".");
                }
            }
        }
        return matches;
    }

    private static INDArray read(Path file, Match m, int i) {
        Dataset d = m.datasets.get(i);
        long[] shape = Arrays.stream(d.getDimensions()).asLongStream().toArray();
        Object flat = d.getDataFlat();
        float[] values;
        if (flat instanceof float[] f) {
            values = f;
        } else if (flat instanceof double[] dd) {
            values = new float[dd.length];
            for (int j = 0; j < dd.length; j++) {
                values[j] = (float) dd[j];
            }
        } else if (flat instanceof long[] ll) {
            // integer counters, such as the int64 count of TF 2.3's Normalization in the EfficientNet files
            values = new float[ll.length];
            for (int j = 0; j < ll.length; j++) {
                values[j] = ll[j];
            }
        } else if (flat instanceof int[] ii) {
            values = new float[ii.length];
            for (int j = 0; j < ii.length; j++) {
                values[j] = ii[j];
            }
        } else if (flat instanceof Number n) {
            values = new float[]{n.floatValue()};
        } else {
            throw new WeightsFileException("Keras weights file '" + file + "': weight '" + m.weightNames.get(i)
                    + "' of layer '" + m.fileLayer + "' holds " + flat.getClass().getSimpleName()
                    + " values, not floating point numbers");
        }
        if (shape.length == 0) {
            return Nd4j.scalar(DataType.FLOAT, values[0]);
        }
        return Nd4j.create(values, shape, 'c'); // HDF5 stores row-major, as numpy
    }

    // ---- messages ----

    private static List<String> withWeights(Map<String, FileLayer> fileLayers) {
        return fileLayers.values().stream().filter(f -> !f.datasets.isEmpty()).map(FileLayer::name).toList();
    }

    private static String preview(List<String> names) {
        return names.size() <= 6 ? String.join(", ", names)
                : names.stream().limit(5).collect(Collectors.joining(", ")) + ", ... (" + names.size() + " in all)";
    }

    static String tuple(long[] shape) {
        return Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", ", "(", shape.length == 1 ? ",)" : ")"));
    }

    /** Which keras.applications network a file's layer names suggest. */
    static String guess(Map<String, FileLayer> fileLayers) {
        var names = fileLayers.keySet();
        String model;
        if (names.contains("block5_conv4")) {
            model = "VGG19";
        } else if (names.contains("block1_conv1") && names.contains("block5_conv3")) {
            model = "VGG16";
        } else if (names.contains("conv_dw_1")) {
            model = "MobileNet (v1)" + mobileNetAlpha(fileLayers);
        } else if (names.contains("expanded_conv_depthwise") || names.contains("bn_Conv1")) {
            model = "MobileNetV2";
        } else if (names.contains("mixed10")) {
            model = "InceptionV3";
        } else if (names.contains("conv2_block1_concat") || names.contains("pool2_conv")) {
            model = "DenseNet";
        } else if (names.contains("conv2_block1_1_conv") || names.contains("res2a_branch2a")) {
            model = "ResNet";
        } else if (names.contains("block14_sepconv1")) {
            model = "Xception";
        } else if (names.contains("stem_conv")) {
            model = "EfficientNet";
        } else {
            return "its layers are " + preview(List.copyOf(names));
        }
        return "this looks like weights for " + model;
    }

    private static String mobileNetAlpha(Map<String, FileLayer> fileLayers) {
        FileLayer conv1 = fileLayers.get("conv1");
        if (conv1 == null || conv1.datasets.isEmpty()) {
            return "";
        }
        int[] dims = conv1.datasets.get(0).getDimensions();
        return dims.length == 4 ? String.format(java.util.Locale.ROOT, " with alpha %.2f", dims[3] / 32.0) : "";
    }

    private static String sizeHint(Map<String, FileLayer> fileLayers) {
        String g = guess(fileLayers);
        return g.startsWith("this looks like") ? "; " + g : "";
    }
}
