package io.transferlab.spark;

import io.transferlab.applications.ApplicationBuilder;
import io.transferlab.applications.Applications;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.models.Model;

import java.io.Serializable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What an executor needs to build the feature extractor itself: a Keras application name
 * ({@link Applications#byName}), its builder options by Keras's names (alpha, includeTop, pooling, inputShape...),
 * the path of a Keras HDF5 weights file, and how images become inputs (size, interpolation, preprocessing, batch).
 * Small and serialisable, so it travels in the task closure instead of the model; each executor JVM builds the
 * model once ({@link #model()}) and every task on that JVM shares it.
 *
 * <pre>
 * ModelSpec.of("MobileNet").option("alpha", "0.25").option("includeTop", "false").option("pooling", "avg")
 *         .weights("/data/weights/mobilenet_2_5_224_tf_no_top.h5").targetSize(224, 224)
 * </pre>
 *
 * The weights path is read on each executor: a path every node has (a shared mount), or the bare file name of a
 * file shipped with {@code spark-submit --files} (looked up with SparkFiles). A missing file fails the task at
 * once, naming the path and the host.
 */
public final class ModelSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One model per JVM and spec: built by the first task that needs it, shared by the others. */
    private static final Map<String, Model> MODELS = new ConcurrentHashMap<>();

    private final String application;
    private final LinkedHashMap<String, String> options = new LinkedHashMap<>();
    private String weights;
    private int height;
    private int width;
    private Preprocessing preprocessing;
    private Images.Interpolation interpolation = Images.Interpolation.NEAREST;
    private int batchSize = 32;

    private ModelSpec(String application) {
        this.application = application;
    }

    /** A spec for a network by Keras's function name: "MobileNet", "VGG16", "ResNet50"... (checked now). */
    public static ModelSpec of(String application) {
        ApplicationBuilder<?> b = Applications.byName(application);
        ModelSpec s = new ModelSpec(application);
        s.height = b.defaultInputSize();
        s.width = b.defaultInputSize();
        s.preprocessing = Preprocessing.forModel(b.name());
        return s;
    }

    /**
     * A builder option by its method name (Keras's argument in camel case): alpha=0.25, includeTop=false,
     * pooling=avg, inputShape=224,224,3, classes=10. Checked against the builder now, so that a typo fails on the
     * driver and not in every task. An inputShape also sets the target size.
     */
    public ModelSpec option(String name, String value) {
        options.put(name, value);
        try {
            apply(Applications.byName(application), name, value);
        } catch (RuntimeException e) {
            options.remove(name);
            throw e;
        }
        if (name.equals("inputShape")) {
            long[] s = dims(value);
            targetSize((int) s[0], (int) s[1]);
        }
        return this;
    }

    /** The Keras HDF5 weights file (the network without its top, for features). */
    public ModelSpec weights(String path) {
        this.weights = path;
        return this;
    }

    /** The size images are resized to (default: the network's own input size, 224 for most). */
    public ModelSpec targetSize(int h, int w) {
        if (h <= 0 || w <= 0) {
            throw new IllegalArgumentException("targetSize must be positive, got " + h + "x" + w);
        }
        this.height = h;
        this.width = w;
        return this;
    }

    /** Keras's preprocess_input of the family by default (tf for MobileNet, caffe for VGG and ResNet). */
    public ModelSpec preprocessing(Preprocessing p) {
        this.preprocessing = Objects.requireNonNull(p, "preprocessing");
        return this;
    }

    /** Resizing: NEAREST (flow_from_directory's default) or BILINEAR. */
    public ModelSpec interpolation(Images.Interpolation mode) {
        this.interpolation = Objects.requireNonNull(mode, "interpolation");
        return this;
    }

    /** Images per Model.predict call within a task (default 32). */
    public ModelSpec batchSize(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + n);
        }
        this.batchSize = n;
        return this;
    }

    public String application() {
        return application;
    }

    public Map<String, String> options() {
        return java.util.Collections.unmodifiableMap(options);
    }

    public String weights() {
        return weights;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    public Images.Interpolation interpolation() {
        return interpolation;
    }

    public int batchSize() {
        return batchSize;
    }

    /** This JVM's model for this spec, built (and its weights loaded) on first use. */
    public Model model() {
        String key = application + options + "|" + weights + "|" + height + "x" + width;
        Model m = MODELS.get(key);
        if (m != null) {
            return m;
        }
        synchronized (MODELS) {
            return MODELS.computeIfAbsent(key, k -> build());
        }
    }

    /** Builds a fresh model: the builder with the options and the weights file (which must exist here). */
    public Model build() {
        io.transferlab.runtime.Backend.init();
        ApplicationBuilder<?> b = Applications.byName(application);
        options.forEach((k, v) -> apply(b, k, v));
        if (!options.containsKey("inputShape")) {
            b.inputShape(height, width, 3);
        }
        if (weights != null) {
            b.weights(resolveWeights(weights).toString());
        }
        return b.build();
    }

    /** The weights file on this machine: the path itself, else a file shipped with --files; else a clear failure. */
    static Path resolveWeights(String path) {
        Path p = Path.of(path);
        if (Files.isRegularFile(p)) {
            return p;
        }
        if (p.getNameCount() == 1) {
            try {
                Path shipped = Path.of(org.apache.spark.SparkFiles.get(path));
                if (Files.isRegularFile(shipped)) {
                    return shipped;
                }
            } catch (RuntimeException | LinkageError e) {
                // no SparkEnv here: only the plain path counts
            }
        }
        throw new IllegalStateException("Weights file " + path + " not found on " + host() + " (absolute: "
                + p.toAbsolutePath() + "). Every executor reads it: put it at the same path on every node (a shared "
                + "mount), or ship it with spark-submit --files " + path + " and pass its bare file name");
    }

    private static String host() {
        try {
            return "host " + java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "this host";
        }
    }

    private static void apply(ApplicationBuilder<?> b, String name, String value) {
        if (name.equals("weights")) {
            throw new IllegalArgumentException("Give the weights file with ModelSpec.weights(path), not as an option");
        }
        if (name.equals("inputShape")) {
            long[] s = dims(value);
            b.inputShape(s[0], s[1], s[2]);
            return;
        }
        Method m = Arrays.stream(b.getClass().getMethods())
                .filter(x -> x.getName().equals(name) && x.getParameterCount() == 1
                        && ApplicationBuilder.class.isAssignableFrom(x.getReturnType()))
                .findFirst().orElse(null);
        if (m == null) {
            var known = new TreeSet<String>();
            Arrays.stream(b.getClass().getMethods())
                    .filter(x -> x.getParameterCount() == 1 && ApplicationBuilder.class.isAssignableFrom(x.getReturnType()))
                    .forEach(x -> known.add(x.getName()));
            known.remove("weights");
            known.add("inputShape");
            throw new IllegalArgumentException("No option '" + name + "' for " + b.name() + "; options: " + known);
        }
        Class<?> t = m.getParameterTypes()[0];
        Object arg;
        try {
            String v = value.trim();
            arg = t == double.class ? Double.parseDouble(v) : t == int.class ? Integer.parseInt(v)
                    : t == long.class ? Long.parseLong(v) : t == boolean.class ? parseBoolean(name, v)
                    : t == String.class ? (v.equalsIgnoreCase("none") || v.equalsIgnoreCase("null") ? null : v) : null;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Option " + name + "=" + value + " for " + b.name() + ": not a "
                    + t.getSimpleName(), e);
        }
        if (arg == null && t != String.class) {
            throw new IllegalArgumentException("Option " + name + " of " + b.name() + " takes a " + t.getSimpleName()
                    + ", which cannot be given as text");
        }
        try {
            m.invoke(b, arg);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalArgumentException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean parseBoolean(String name, String v) {
        String l = v.toLowerCase(Locale.ROOT);
        if (!l.equals("true") && !l.equals("false")) {
            throw new IllegalArgumentException("Option " + name + " takes true or false, got '" + v + "'");
        }
        return l.equals("true");
    }

    private static long[] dims(String value) {
        String[] parts = value.replace("(", "").replace(")", "").split("[,x ]+");
        if (parts.length != 3) {
            throw new IllegalArgumentException("inputShape takes height,width,channels, got '" + value + "'");
        }
        return Arrays.stream(parts).mapToLong(s -> Long.parseLong(s.trim())).toArray();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec s && application.equals(s.application) && options.equals(s.options)
                && Objects.equals(weights, s.weights) && height == s.height && width == s.width
                && preprocessing == s.preprocessing && interpolation == s.interpolation && batchSize == s.batchSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(application, options, weights, height, width, preprocessing, interpolation, batchSize);
    }

    @Override
    public String toString() {
        return application + options + " weights=" + weights + " " + height + "x" + width + " " + preprocessing + " "
                + interpolation + " batch " + batchSize;
    }
}
