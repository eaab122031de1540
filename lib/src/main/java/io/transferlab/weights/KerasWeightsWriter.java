package io.transferlab.weights;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import io.jhdf.api.WritableNode;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Layer;
import io.transferlab.layers.WeightSpec;
import io.transferlab.runtime.Backend;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a model's weights as Keras 2's {@code model.save_weights("file.h5")} lays them out, so that Keras's
 * {@code model.load_weights(file, by_name=True)} and this library's {@link KerasWeights#load} read them:
 * <ul>
 *   <li>the root attribute {@code layer_names}: the names of {@code model.layers} (the input layer too, for a
 *   functional model), plus {@code backend} and {@code keras_version};</li>
 *   <li>one group per layer, in name order, with the attribute {@code weight_names} ({@code "dense/kernel:0"}...)
 *   and the datasets at those paths ({@code dense/dense/kernel:0}), in Keras's layouts (Dense kernel (in, out),
 *   Conv2D kernel (kh, kw, in, out)...), float32;</li>
 *   <li>a nested model (a base in a Sequential, or a model called as a layer) is one group named after it, holding
 *   all its layers' weights ({@code vgg16/block1_conv1/kernel:0}), as Keras writes it;</li>
 *   <li>each group lists its weights in Keras's legacy order: the trainable weights first, then the non-trainable
 *   ones (what {@code _legacy_weights} gives and by-name loading expects), with the trainable flags the model has
 *   when it is saved;</li>
 *   <li>attributes longer than HDF5's 64,512-byte object header limit are split into {@code name0, name1, ...},
 *   as Keras splits them; a layer without weights has no {@code weight_names} attribute, which Keras reads as an
 *   empty list.</li>
 * </ul>
 * The file is written next to its destination under a temporary name and renamed when complete, so an
 * interrupted save never leaves a half-written file under the real name.
 */
public final class KerasWeightsWriter {
    /** Keras's HDF5_OBJECT_HEADER_LIMIT: attributes above this size are split. */
    static final int HDF5_OBJECT_HEADER_LIMIT = 64512;
    /** The name of the dataset that keeps jHDF's closing block off a group header (see write). */
    static final String END_MARK = "end_of_file";
    private static final String JHDF_WRITER_LOG = "org.slf4j.simpleLogger.log.io.jhdf.WritableHdfFile";

    static {
        // jHDF warns on every write that its writer is in "alpha"; the files are checked by the tests instead
        if (System.getProperty(JHDF_WRITER_LOG) == null) {
            System.setProperty(JHDF_WRITER_LOG, "error");
        }
        // and, reading the string attributes back, about their padding (which h5py reads as it should)
        String messages = "org.slf4j.simpleLogger.log.io.jhdf.object.message.Message";
        if (System.getProperty(messages) == null) {
            System.setProperty(messages, "error");
        }
    }

    private KerasWeightsWriter() {
    }

    /** What a save wrote: the file, its layer groups (model.layers' names) and the number of values. */
    public record Saved(Path file, List<String> layers, long values) {
        @Override
        public String toString() {
            return String.format("Saved %,d weights of %d layers to %s", values, layers.size(), file.getFileName());
        }
    }

    /** One weight variable of a layer: the layer that owns it and its index in the layer's weights. */
    private record Variable(Layer owner, int index) {
        WeightSpec spec() {
            return owner.weightSpecs().get(index);
        }

        String kerasName() {
            return owner.name() + "/" + spec().name() + ":0";
        }
    }

    /**
     * Writes the model's weights to a Keras HDF5 file (replacing it atomically).
     *
     * @throws IllegalArgumentException when two of the model's layers share a name (Keras refuses such models)
     * @throws UncheckedIOException     when the file cannot be written; the destination is then left as it was
     */
    public static Saved save(Path file, Functional model) {
        Backend.init();
        List<Layer> layers = model.layers();
        Map<String, Layer> byName = new LinkedHashMap<>();
        for (Layer l : layers) {
            Layer before = byName.put(l.name(), l);
            if (before != null && before != l) {
                throw new IllegalArgumentException("Model '" + model.name() + "' has two layers named '" + l.name()
                        + "': Keras's weight files find layers by name, so names must be unique");
            }
        }
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            long values = write(tmp, model, layers);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            return new Saved(file, layers.stream().map(Layer::name).toList(), values);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write Keras weights file '" + file + "': " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw e;
            }
            throw new UncheckedIOException("Cannot write Keras weights file '" + file + "': " + e,
                    new IOException(e));
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the temporary file is hidden and next to the target
                }
            }
        }
    }

    private static long write(Path tmp, Functional model, List<Layer> layers) {
        long values = 0;
        try (WritableHdfFile h5 = HdfFile.write(tmp)) {
            putStrings(h5, "layer_names", layers.stream().map(Layer::name).toList());
            h5.putAttribute("backend", "tensorflow");
            h5.putAttribute("keras_version", "2");
            List<Layer> sorted = new ArrayList<>(layers);
            sorted.sort(Comparator.comparing(Layer::name)); // Keras creates the groups in name order
            Map<String, WritableGroup> groups = new HashMap<>();
            List<WritableGroup> empty = new ArrayList<>();
            for (Layer layer : sorted) {
                // a name with '/' (DenseNet's "conv1/conv") is a path of nested groups in HDF5, as h5py makes it
                WritableGroup g = group(h5, "", layer.name(), groups);
                List<Variable> vars = legacyWeights(layer);
                if (vars.isEmpty()) {
                    empty.add(g);
                    continue;
                }
                putStrings(g, "weight_names", vars.stream().map(Variable::kerasName).toList());
                for (Variable v : vars) {
                    WritableGroup og = group(g, layer.name() + "/", v.owner.name(), groups);
                    INDArray value = v.owner.getWeights().get(v.index);
                    og.putDataset(v.spec().name() + ":0", nested(value));
                    values += value.length();
                }
            }
            // jHDF 0.13 writes its closing info block where the last dataset it wrote ends; when the group it writes
            // last (its own order) is that of a layer without weights, the block would overwrite that group's header.
            // Every group of a layer without weights therefore gets one small dataset, which no loader reads (Keras
            // reads only the paths weight_names lists, and such a layer lists none).
            for (WritableGroup g : empty) {
                g.putDataset(END_MARK, new byte[]{0});
            }
        }
        return values;
    }

    /**
     * Keras's _legacy_weights(layer): trainable weights, then non-trainable ones, for a plain layer or a nested
     * model (whose weights are gathered from its layers in order, without repeats).
     */
    static List<Variable> legacyWeights(Layer layer) {
        List<Variable> out = new ArrayList<>();
        out.addAll(trainable(layer));
        out.addAll(nonTrainable(layer));
        Set<Variable> seen = new HashSet<>();
        out.removeIf(v -> !seen.add(v));
        return out;
    }

    /** The group at a '/'-separated path under parent (created once; {@code made} remembers them by full path). */
    private static WritableGroup group(WritableGroup parent, String prefix, String path, Map<String, WritableGroup> made) {
        WritableGroup g = parent;
        String sofar = prefix;
        for (String part : path.split("/")) {
            sofar = sofar + part + "/";
            WritableGroup p = g;
            g = made.computeIfAbsent(sofar, k -> p.putGroup(part));
        }
        return g;
    }

    private static List<Variable> trainable(Layer layer) {
        List<Variable> out = new ArrayList<>();
        if (!layer.isTrainable()) {
            return out;
        }
        if (layer instanceof Functional m) {
            for (Layer sub : m.layers()) {
                out.addAll(trainable(sub));
            }
            return out;
        }
        for (int i = 0; i < layer.weightSpecs().size(); i++) {
            if (layer.weightSpecs().get(i).trainable()) {
                out.add(new Variable(layer, i));
            }
        }
        return out;
    }

    private static List<Variable> nonTrainable(Layer layer) {
        List<Variable> out = new ArrayList<>();
        if (layer instanceof Functional m) {
            for (Layer sub : m.layers()) {
                if (layer.isTrainable()) {
                    out.addAll(nonTrainable(sub));
                } else {
                    out.addAll(trainable(sub)); // a frozen model: every variable of its layers, layer by layer
                    out.addAll(nonTrainable(sub));
                }
            }
            return out;
        }
        for (int i = 0; i < layer.weightSpecs().size(); i++) {
            if (!layer.isTrainable() || !layer.weightSpecs().get(i).trainable()) {
                out.add(new Variable(layer, i));
            }
        }
        return out;
    }

    /** Writes a string-list attribute, split into name0, name1, ... when Keras would split it. */
    private static void putStrings(WritableNode node, String name, List<String> data) {
        int longest = data.stream().mapToInt(s -> s.getBytes(StandardCharsets.UTF_8).length).max().orElse(0);
        if ((long) longest * data.size() <= HDF5_OBJECT_HEADER_LIMIT) {
            node.putAttribute(name, data.toArray(String[]::new));
            return;
        }
        if (longest > HDF5_OBJECT_HEADER_LIMIT) {
            throw new IllegalArgumentException("A name of " + longest + " bytes cannot be stored in a Keras weights file");
        }
        int chunks = 2;
        while ((long) longest * ((data.size() + chunks - 1) / chunks) > HDF5_OBJECT_HEADER_LIMIT) {
            chunks++;
        }
        // numpy's array_split: the first (n % chunks) parts get one more element
        int base = data.size() / chunks;
        int extra = data.size() % chunks;
        int from = 0;
        for (int c = 0; c < chunks; c++) {
            int to = from + base + (c < extra ? 1 : 0);
            node.putAttribute(name + c, data.subList(from, to).toArray(String[]::new));
            from = to;
        }
    }

    /** An array's values as nested Java float arrays of its shape (a Float for a scalar), row-major. */
    static Object nested(INDArray a) {
        float[] flat = Nd4j.toFlattened('c', a).toFloatVector();
        long[] shape = a.shape();
        if (shape.length == 0) {
            return flat[0];
        }
        int[] dims = new int[shape.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = Math.toIntExact(shape[i]);
        }
        Object out = Array.newInstance(float.class, dims);
        fill(out, dims, 0, flat, new int[]{0});
        return out;
    }

    private static void fill(Object array, int[] dims, int depth, float[] flat, int[] at) {
        if (depth == dims.length - 1) {
            float[] row = (float[]) array;
            System.arraycopy(flat, at[0], row, 0, row.length);
            at[0] += row.length;
            return;
        }
        for (int i = 0; i < dims[depth]; i++) {
            fill(Array.get(array, i), dims, depth + 1, flat, at);
        }
    }
}
