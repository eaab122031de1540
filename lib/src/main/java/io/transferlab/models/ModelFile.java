package io.transferlab.models;

import io.transferlab.data.ImageInput;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.graph.Functional;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.LayerConfig;
import io.transferlab.layers.Layers;
import io.transferlab.layers.Node;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.weights.KerasWeights;
import io.transferlab.weights.KerasWeightsWriter;
import io.transferlab.weights.WeightsFileException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * A whole model in one file (what {@link Model#save} writes and {@link Model#load} reads): a zip archive holding
 * <ul>
 *   <li>{@code model.json}: the format name and version, the architecture as Keras describes it (every layer's
 *   class name, name, trainable flag and Keras config, the wiring as Keras's {@code inbound_nodes}, nested models
 *   with their own layers), how images are prepared for it (size, preprocessing, interpolation) and its class
 *   names;</li>
 *   <li>{@code model.weights.h5}: the weights in Keras's save_weights HDF5 layout ({@link KerasWeightsWriter}).</li>
 * </ul>
 * The archive is written under a temporary name beside the destination and renamed when complete.
 */
public final class ModelFile {
    /** The format this library writes; it reads this version and older ones. */
    public static final int FORMAT_VERSION = 1;

    /**
     * Where the notebooks keep the models they save (notebook 07 saves, notebook 08 loads): the environment
     * variable TL_MODELS, else data/models in the project (not in git), else ~/.cache/transferlab/models.
     */
    public static java.nio.file.Path folder() {
        String env = System.getenv("TL_MODELS");
        if (env != null && !env.isBlank()) {
            return java.nio.file.Path.of(env);
        }
        for (java.nio.file.Path p = java.nio.file.Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (java.nio.file.Files.isDirectory(p.resolve("notebooks")) && java.nio.file.Files.isDirectory(p.resolve("lib"))) {
                return p.resolve("data").resolve("models");
            }
        }
        return java.nio.file.Path.of(System.getProperty("user.home"), ".cache", "transferlab", "models");
    }
    static final String FORMAT = "transferlab.model";
    static final String JSON_ENTRY = "model.json";
    static final String WEIGHTS_ENTRY = "model.weights.h5";

    private ModelFile() {
    }

    // ---- writing ----

    static void save(Model model, Path file) {
        Map<String, Layer> leaves = new HashMap<>();
        for (Functional.Leaf leaf : model.leaves()) {
            Layer before = leaves.put(leaf.layer().name(), leaf.layer());
            if (before != null && before != leaf.layer()) {
                throw new IllegalArgumentException("Model '" + model.name() + "' cannot be saved: it has two different "
                        + "layers named '" + leaf.layer().name() + "' (weights are stored and found by layer name, as "
                        + "in Keras's files); build one of the parts with other layer names");
            }
        }
        Path target = file.toAbsolutePath();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("format", FORMAT);
        doc.put("format_version", FORMAT_VERSION);
        doc.put("model", modelConfig(model));
        ImageInput in = model.imageInput();
        doc.put("image_input", in == null ? null : imageInputConfig(in));
        doc.put("class_names", model.classNames());
        doc.put("weights", WEIGHTS_ENTRY);
        byte[] json = Json.write(doc).getBytes(StandardCharsets.UTF_8);
        Path tmpDir = null;
        Path tmpZip = null;
        try {
            Files.createDirectories(target.getParent());
            tmpDir = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".");
            Path h5 = tmpDir.resolve(WEIGHTS_ENTRY);
            KerasWeightsWriter.save(h5, model);
            tmpZip = tmpDir.resolve("model.zip");
            try (OutputStream os = Files.newOutputStream(tmpZip); ZipOutputStream zip = new ZipOutputStream(os)) {
                zip.putNextEntry(new ZipEntry(JSON_ENTRY));
                zip.write(json);
                zip.closeEntry();
                zip.putNextEntry(new ZipEntry(WEIGHTS_ENTRY));
                Files.copy(h5, zip);
                zip.closeEntry();
            }
            try {
                Files.move(tmpZip, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmpZip, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot save model '" + model.name() + "' to '" + file + "': " + e.getMessage(), e);
        } finally {
            deleteTree(tmpDir);
        }
    }

    private static Map<String, Object> imageInputConfig(ImageInput in) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("height", in.height());
        m.put("width", in.width());
        m.put("preprocessing", in.preprocessing().name().toLowerCase(Locale.ROOT));
        m.put("interpolation", in.interpolation().name().toLowerCase(Locale.ROOT));
        return m;
    }

    /** A model's architecture as Keras's get_config of a Functional or Sequential model. */
    static Map<String, Object> modelConfig(Functional model) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("class_name", model.isStack() ? "Sequential" : "Functional");
        m.put("name", model.name());
        m.put("trainable", model.isTrainable());
        if (model.isStack()) {
            m.put("input_shape", dims(model.inputShape()));
            List<Object> layers = new ArrayList<>();
            for (Layer l : model.layers()) {
                layers.add(layerEntry(l, null));
            }
            m.put("layers", layers);
            return m;
        }
        // each layer's calls within this model, numbered in call order (Keras's node_index)
        Map<Node, Integer> nodeIndex = new HashMap<>();
        Map<Layer, List<Node>> calls = new LinkedHashMap<>();
        for (Node n : model.graphNodes()) {
            List<Node> of = calls.computeIfAbsent(n.layer(), k -> new ArrayList<>());
            nodeIndex.put(n, of.size());
            of.add(n);
        }
        List<Object> layers = new ArrayList<>();
        for (Layer l : model.layers()) {
            List<Object> inbound = new ArrayList<>();
            for (Node n : calls.getOrDefault(l, List.of())) {
                if (n.inputs().isEmpty()) {
                    continue;
                }
                List<Object> args = new ArrayList<>();
                for (Tensor t : n.inputs()) {
                    args.add(List.of(t.layer().name(), nodeIndex.get(t.node()), 0));
                }
                inbound.add(args);
            }
            layers.add(layerEntry(l, inbound));
        }
        m.put("layers", layers);
        m.put("input_layers", List.of(List.of(model.input().layer().name(), nodeIndex.get(model.input().node()), 0)));
        m.put("output_layers", List.of(List.of(model.output().layer().name(), nodeIndex.get(model.output().node()), 0)));
        return m;
    }

    private static Map<String, Object> layerEntry(Layer l, List<Object> inbound) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("class_name", l instanceof Functional f ? (f.isStack() ? "Sequential" : "Functional") : l.typeName());
        e.put("name", l.name());
        e.put("trainable", l.isTrainable());
        if (l instanceof Functional f) {
            e.put("config", modelConfig(f));
        } else if (l instanceof InputLayer in) {
            List<Object> shape = new ArrayList<>();
            shape.add(null);
            shape.addAll(dims(in.outputShape()));
            e.put("config", Map.of("batch_input_shape", shape));
        } else {
            e.put("config", LayerConfig.of(l));
        }
        if (inbound != null) {
            e.put("inbound_nodes", inbound);
        }
        return e;
    }

    private static List<Object> dims(Shape s) {
        List<Object> out = new ArrayList<>();
        for (long d : s.dims()) {
            out.add(d == Shape.NONE ? null : d);
        }
        return out;
    }

    // ---- reading ----

    static Model load(Path file) {
        String json;
        Path tmpDir = null;
        try {
            if (!Files.exists(file)) {
                throw new NoSuchFileException(file.toString());
            }
            if (Files.isDirectory(file)) {
                throw new ModelFileException("'" + file + "' is a folder, not a model file (Model.load reads the file "
                        + "model.save(path) wrote)");
            }
            long size = Files.size(file);
            byte[] head = new byte[8];
            try (InputStream in = Files.newInputStream(file)) {
                int n = in.readNBytes(head, 0, 8);
                if (n >= 4 && (head[0] & 0xff) == 0x89 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F') {
                    throw new ModelFileException("'" + file + "' is an HDF5 file (Keras weights), not a transferlab "
                            + "model file: load it into a model of its architecture with model.loadWeights(path)");
                }
                if (n < 4 || head[0] != 'P' || head[1] != 'K') {
                    throw new ModelFileException("'" + file + "' is not a transferlab model file (" + String.format("%,d", size)
                            + " bytes; expected a zip archive written by model.save(path))");
                }
            }
            try (ZipFile zip = new ZipFile(file.toFile())) {
                ZipEntry je = zip.getEntry(JSON_ENTRY);
                ZipEntry we = zip.getEntry(WEIGHTS_ENTRY);
                if (je == null) {
                    throw new ModelFileException("Model file '" + file + "' has no " + JSON_ENTRY + ": it is a zip "
                            + "archive but not one written by model.save(path)");
                }
                try (InputStream in = zip.getInputStream(je)) {
                    json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                Map<String, Object> doc = document(file, json);
                if (we == null) {
                    throw new ModelFileException("Model file '" + file + "' has no " + WEIGHTS_ENTRY + " (its weights): "
                            + "the file is incomplete");
                }
                tmpDir = Files.createTempDirectory("transferlab-model-");
                Path h5 = tmpDir.resolve(WEIGHTS_ENTRY);
                try (InputStream in = zip.getInputStream(we)) {
                    Files.copy(in, h5);
                }
                return build(file, doc, h5);
            }
        } catch (NoSuchFileException e) {
            throw new ModelFileException("Model file '" + file + "' does not exist", e);
        } catch (ZipException | java.io.EOFException e) {
            throw new ModelFileException("Model file '" + file + "' is truncated or corrupt (" + e.getMessage()
                    + "): save the model again", e);
        } catch (IOException e) {
            throw new ModelFileException("Cannot read model file '" + file + "': " + e, e);
        } finally {
            deleteTree(tmpDir);
        }
    }

    private static Map<String, Object> document(Path file, String json) {
        Object parsed;
        try {
            parsed = Json.parse(json);
        } catch (Json.ParseException e) {
            throw new ModelFileException("Model file '" + file + "': " + JSON_ENTRY + " is corrupt (" + e.getMessage() + ")");
        }
        if (!(parsed instanceof Map<?, ?> m) || !FORMAT.equals(m.get("format"))) {
            throw new ModelFileException("Model file '" + file + "': " + JSON_ENTRY + " does not describe a "
                    + "transferlab model (no \"format\": \"" + FORMAT + "\")");
        }
        Object v = m.get("format_version");
        if (!(v instanceof Number n) || n.longValue() < 1) {
            throw new ModelFileException("Model file '" + file + "' has no valid format_version (" + v + ")");
        }
        if (n.longValue() > FORMAT_VERSION) {
            throw new ModelFileException("Model file '" + file + "' has format version " + n.longValue()
                    + ", written by a newer transferlab; this library reads model format version " + FORMAT_VERSION
                    + " (and older): update the library to load it");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> doc = (Map<String, Object>) m;
        return doc;
    }

    @SuppressWarnings("unchecked")
    private static Model build(Path file, Map<String, Object> doc, Path h5) {
        Model model;
        try {
            Map<String, Object> cfg = (Map<String, Object>) doc.get("model");
            if (cfg == null) {
                throw new IllegalArgumentException("no \"model\" entry");
            }
            model = (Model) fromConfig(cfg);
            applyTrainable(cfg, model);
            Object in = doc.get("image_input");
            if (in != null) {
                Map<String, Object> m = (Map<String, Object>) in;
                model.imageInput(new ImageInput(((Number) m.get("height")).intValue(), ((Number) m.get("width")).intValue(),
                        Preprocessing.valueOf(((String) m.get("preprocessing")).toUpperCase(Locale.ROOT)),
                        Images.Interpolation.valueOf(((String) m.get("interpolation")).toUpperCase(Locale.ROOT))));
            }
            Object names = doc.get("class_names");
            if (names != null) {
                model.classNames(((List<Object>) names).stream().map(String::valueOf).toList());
            }
        } catch (ModelFileException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelFileException("Model file '" + file + "': cannot rebuild the model from " + JSON_ENTRY + " ("
                    + e.getMessage() + ")", e);
        }
        try {
            KerasWeights.load(h5, model);
        } catch (WeightsFileException e) {
            throw new ModelFileException("Model file '" + file + "': its weights do not load (" + e.getMessage()
                    .replace(h5.toString(), file + "!/" + WEIGHTS_ENTRY) + ")", e);
        }
        return model;
    }

    @SuppressWarnings("unchecked")
    private static Functional fromConfig(Map<String, Object> cfg) {
        String className = (String) cfg.get("class_name");
        String name = (String) cfg.get("name");
        List<Map<String, Object>> layers = (List<Map<String, Object>>) cfg.get("layers");
        if (layers == null) {
            throw new IllegalArgumentException("model '" + name + "' has no layers");
        }
        if ("Sequential".equals(className)) {
            long[] shape = shape((List<Object>) cfg.get("input_shape"));
            Sequential s = Sequential.withInput(shape);
            s.named(name);
            for (Map<String, Object> e : layers) {
                s.add(layer(e));
            }
            return s;
        }
        if (!"Functional".equals(className)) {
            throw new IllegalArgumentException("unknown model class '" + className + "'");
        }
        // Keras's from_config: make the layers, then call them in order as their inputs become available
        Map<String, List<Tensor>> outputs = new HashMap<>();
        List<Layer> objects = new ArrayList<>();
        List<List<List<Object>>> inbound = new ArrayList<>();
        for (Map<String, Object> e : layers) {
            Layer l;
            if ("InputLayer".equals(e.get("class_name"))) {
                Map<String, Object> c = (Map<String, Object>) e.get("config");
                List<Object> bs = (List<Object>) c.get("batch_input_shape");
                Tensor t = Layers.Input((String) e.get("name"), shape(bs.subList(1, bs.size())));
                outputs.computeIfAbsent(t.layer().name(), k -> new ArrayList<>()).add(t);
                l = t.layer();
            } else {
                l = layer(e);
            }
            objects.add(l);
            List<List<Object>> in = (List<List<Object>>) e.getOrDefault("inbound_nodes", List.of());
            inbound.add(in);
        }
        int[] done = new int[objects.size()];
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < objects.size(); i++) {
                List<List<Object>> nodes = inbound.get(i);
                while (done[i] < nodes.size()) {
                    List<Object> args = nodes.get(done[i]);
                    Tensor[] inputs = new Tensor[args.size()];
                    boolean ready = true;
                    for (int a = 0; a < args.size() && ready; a++) {
                        List<Object> ref = (List<Object>) args.get(a);
                        List<Tensor> outs = outputs.get((String) ref.get(0));
                        int idx = ((Number) ref.get(1)).intValue();
                        ready = outs != null && idx < outs.size();
                        if (ready) {
                            inputs[a] = outs.get(idx);
                        }
                    }
                    if (!ready) {
                        break;
                    }
                    Tensor out = objects.get(i).on(inputs);
                    outputs.computeIfAbsent(objects.get(i).name(), k -> new ArrayList<>()).add(out);
                    done[i]++;
                    progress = true;
                }
            }
        }
        for (int i = 0; i < objects.size(); i++) {
            if (done[i] < inbound.get(i).size()) {
                throw new IllegalArgumentException("layer '" + objects.get(i).name() + "' of model '" + name
                        + "' takes inputs that no layer produces: the wiring is corrupt");
            }
        }
        Tensor input = tensor(outputs, (List<Object>) ((List<Object>) cfg.get("input_layers")).get(0));
        Tensor output = tensor(outputs, (List<Object>) ((List<Object>) cfg.get("output_layers")).get(0));
        return Model.of(name, input, output);
    }

    private static Tensor tensor(Map<String, List<Tensor>> outputs, List<Object> ref) {
        List<Tensor> outs = outputs.get((String) ref.get(0));
        int idx = ((Number) ref.get(1)).intValue();
        if (outs == null || idx >= outs.size()) {
            throw new IllegalArgumentException("no tensor " + ref);
        }
        return outs.get(idx);
    }

    @SuppressWarnings("unchecked")
    private static Layer layer(Map<String, Object> e) {
        String className = (String) e.get("class_name");
        String name = (String) e.get("name");
        Map<String, Object> config = (Map<String, Object>) e.get("config");
        return "Functional".equals(className) || "Sequential".equals(className)
                ? fromConfig(config)
                : LayerConfig.create(className, name, config);
    }

    /** Sets every trainable flag as saved: a model's own first (which Keras spreads to its layers), then its layers'. */
    @SuppressWarnings("unchecked")
    private static void applyTrainable(Map<String, Object> cfg, Functional model) {
        model.setTrainable(Boolean.TRUE.equals(cfg.get("trainable")));
        List<Map<String, Object>> entries = (List<Map<String, Object>>) cfg.get("layers");
        List<Layer> layers = model.layers();
        Map<String, Layer> byName = new HashMap<>();
        for (Layer l : layers) {
            byName.put(l.name(), l);
        }
        for (Map<String, Object> e : entries) {
            Layer l = byName.get((String) e.get("name"));
            if (l == null) {
                continue;
            }
            if (l instanceof Functional inner) {
                applyTrainable((Map<String, Object>) e.get("config"), inner); // its own flag, then its layers'
            } else {
                l.setTrainable(Boolean.TRUE.equals(e.get("trainable")));
            }
        }
    }

    private static long[] shape(List<Object> dims) {
        long[] out = new long[dims.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = dims.get(i) == null ? Shape.NONE : ((Number) dims.get(i)).longValue();
        }
        return out;
    }

    private static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // temporary files: best effort
        }
    }
}
