package io.transferlab.layers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Keras's get_config / from_config for the layers of this package: a layer's settings as a map with Keras's keys
 * ({@code units}, {@code kernel_size}, {@code strides}, {@code padding}, {@code activation}, {@code use_bias}...),
 * and a new, unbuilt layer of the same type, name and settings from such a map. Model files store these maps
 * (the values are numbers, strings, booleans, lists and null, as JSON holds them).
 *
 * <p>A new layer type needs one {@link #register} entry (in this class's table, next to the others); saving a
 * model with a type that has none fails with a message that says so. Names and trainable flags are not part of
 * the map: the model file keeps them beside it, as Keras does.
 */
public final class LayerConfig {
    private record Codec(Class<? extends Layer> type, Function<Layer, Map<String, Object>> write,
                         BiFunction<String, Map<String, Object>, Layer> read) {
    }

    private static final Map<String, Codec> CODECS = new LinkedHashMap<>();

    private LayerConfig() {
    }

    /**
     * Adds a layer type under its Keras class name (what {@link Layer#typeName()} returns): how to write its
     * settings and how to make a layer (name, settings) from them.
     */
    @SuppressWarnings("unchecked")
    public static synchronized <L extends Layer> void register(String className, Class<L> type,
                                                               Function<L, Map<String, Object>> write,
                                                               BiFunction<String, Map<String, Object>, L> read) {
        CODECS.put(className, new Codec(type, l -> write.apply((L) l), (n, c) -> read.apply(n, c)));
    }

    /** Whether layers of this Keras class name can be written and read. */
    public static synchronized boolean supports(String className) {
        return CODECS.containsKey(className);
    }

    /** The layer's settings with Keras's keys (its name and trainable flag excluded). */
    public static Map<String, Object> of(Layer layer) {
        Codec c;
        synchronized (LayerConfig.class) {
            c = CODECS.get(layer.typeName());
        }
        if (c == null || !c.type.isInstance(layer)) {
            throw new IllegalArgumentException("Layer '" + layer.name() + "' (" + layer.typeName() + ") cannot be "
                    + "saved: there is no entry for " + layer.typeName() + " in io.transferlab.layers.LayerConfig "
                    + "(types that can: " + String.join(", ", CODECS.keySet()) + ")");
        }
        return c.write.apply(layer);
    }

    /**
     * A new, unbuilt layer of a Keras class name with this name and settings (what {@link #of} wrote).
     *
     * @throws IllegalArgumentException for an unknown class name or a missing or malformed setting, naming the
     *                                  layer and the setting
     */
    public static Layer create(String className, String name, Map<String, Object> config) {
        Codec c;
        synchronized (LayerConfig.class) {
            c = CODECS.get(className);
        }
        if (c == null) {
            throw new IllegalArgumentException("Layer '" + name + "' has type " + className + ", which this version "
                    + "of the library does not know (it knows " + String.join(", ", CODECS.keySet()) + ")");
        }
        try {
            return c.read.apply(name, config);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Layer '" + name + "' (" + className + "): bad settings " + config
                    + ": " + e.getMessage(), e);
        }
    }

    // ---- reading settings ----

    private static Object get(Map<String, Object> c, String key) {
        if (!c.containsKey(key)) {
            throw new IllegalArgumentException("missing setting '" + key + "'");
        }
        return c.get(key);
    }

    private static int integer(Map<String, Object> c, String key) {
        Object v = get(c, key);
        if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new IllegalArgumentException("setting '" + key + "' must be an integer, got " + v);
        }
        return n.intValue();
    }

    private static double number(Map<String, Object> c, String key) {
        Object v = get(c, key);
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException("setting '" + key + "' must be a number, got " + v);
        }
        return n.doubleValue();
    }

    private static boolean bool(Map<String, Object> c, String key) {
        Object v = get(c, key);
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException("setting '" + key + "' must be true or false, got " + v);
        }
        return b;
    }

    private static String text(Map<String, Object> c, String key) {
        Object v = get(c, key);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("setting '" + key + "' must be a string, got " + v);
        }
        return s;
    }

    private static int[] pair(Map<String, Object> c, String key) {
        Object v = get(c, key);
        if (!(v instanceof List<?> l) || l.size() != 2 || !(l.get(0) instanceof Number a) || !(l.get(1) instanceof Number b)) {
            throw new IllegalArgumentException("setting '" + key + "' must be a pair of integers, got " + v);
        }
        return new int[]{a.intValue(), b.intValue()};
    }

    private static double[] numbers(Map<String, Object> c, String key) {
        Object v = get(c, key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof List<?> l)) {
            throw new IllegalArgumentException("setting '" + key + "' must be a list of numbers, got " + v);
        }
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) l.get(i)).doubleValue();
        }
        return out;
    }

    private static List<Object> list(double[] v) {
        if (v == null) {
            return null;
        }
        List<Object> out = new ArrayList<>();
        for (double d : v) {
            out.add(d);
        }
        return out;
    }

    private static Map<String, Object> map(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    private static String padding(Window w) {
        return w.padding().name().toLowerCase(Locale.ROOT);
    }

    // ---- the table: one entry per layer type ----

    static {
        register("Dense", Dense.class,
                l -> map("units", l.units(), "activation", l.activation(), "use_bias", l.hasBias()),
                (n, c) -> new Dense(integer(c, "units"), text(c, "activation"), n).useBias(bool(c, "use_bias")));
        register("Conv2D", Conv2D.class, l -> {
            Window w = l.window();
            return map("filters", l.filters(), "kernel_size", List.of(w.kernelH(), w.kernelW()),
                    "strides", List.of(w.strideH(), w.strideW()), "padding", padding(w), "activation", l.activation(),
                    "use_bias", l.hasBias());
        }, (n, c) -> {
            int[] k = pair(c, "kernel_size");
            int[] s = pair(c, "strides");
            return new Conv2D(integer(c, "filters"), k[0], k[1], n).strides(s[0], s[1]).padding(text(c, "padding"))
                    .activation(text(c, "activation")).useBias(bool(c, "use_bias"));
        });
        register("DepthwiseConv2D", DepthwiseConv2D.class, l -> {
            Window w = l.window();
            return map("kernel_size", List.of(w.kernelH(), w.kernelW()), "strides", List.of(w.strideH(), w.strideW()),
                    "padding", padding(w), "depth_multiplier", l.depthMultiplier(), "activation", l.activation(),
                    "use_bias", l.hasBias());
        }, (n, c) -> {
            int[] k = pair(c, "kernel_size");
            int[] s = pair(c, "strides");
            return new DepthwiseConv2D(k[0], k[1], n).strides(s[0], s[1]).padding(text(c, "padding"))
                    .depthMultiplier(integer(c, "depth_multiplier")).activation(text(c, "activation"))
                    .useBias(bool(c, "use_bias"));
        });
        register("BatchNormalization", BatchNormalization.class,
                l -> map("axis", -1, "momentum", l.momentum(), "epsilon", l.epsilon(), "center", l.center(),
                        "scale", l.scale()),
                (n, c) -> new BatchNormalization(n).momentum(number(c, "momentum")).epsilon(number(c, "epsilon"))
                        .center(bool(c, "center")).scale(bool(c, "scale")));
        register("Dropout", Dropout.class, l -> {
            long[] ns = l.noiseShape();
            List<Object> shape = null;
            if (ns != null) {
                shape = new ArrayList<>();
                for (long d : ns) {
                    shape.add(d == Shape.NONE ? null : d); // Keras writes None for "the input's size"
                }
            }
            return map("rate", l.rate(), "noise_shape", shape);
        }, (n, c) -> {
            Dropout d = new Dropout(number(c, "rate"), n);
            if (c.get("noise_shape") instanceof List<?> shape) {
                d.noiseShape(shape.stream().mapToLong(x -> x == null ? Shape.NONE : ((Number) x).longValue()).toArray());
            }
            return d;
        });
        register("SeparableConv2D", SeparableConv2D.class, l -> {
            Window w = l.window();
            return map("filters", l.filters(), "kernel_size", List.of(w.kernelH(), w.kernelW()),
                    "strides", List.of(w.strideH(), w.strideW()), "padding", padding(w),
                    "depth_multiplier", l.depthMultiplier(), "activation", l.activation(), "use_bias", l.hasBias());
        }, (n, c) -> {
            int[] k = pair(c, "kernel_size");
            int[] s = pair(c, "strides");
            return new SeparableConv2D(integer(c, "filters"), k[0], k[1], n).strides(s[0], s[1])
                    .padding(text(c, "padding")).depthMultiplier(integer(c, "depth_multiplier"))
                    .activation(text(c, "activation")).useBias(bool(c, "use_bias"));
        });
        register("Multiply", Multiply.class, l -> map(), (n, c) -> new Multiply(n));
        register("Flatten", Flatten.class, l -> map(), (n, c) -> new Flatten(n));
        register("Activation", Activation.class, l -> map("activation", l.activation()),
                (n, c) -> new Activation(text(c, "activation"), n));
        register("ReLU", ReLU.class,
                l -> map("max_value", l.maxValue(), "negative_slope", l.negativeSlope(), "threshold", l.threshold()),
                (n, c) -> new ReLU(c.get("max_value") == null ? null : number(c, "max_value"), n)
                        .negativeSlope(number(c, "negative_slope")).threshold(number(c, "threshold")));
        register("ZeroPadding2D", ZeroPadding2D.class, l -> {
            int[] p = l.padding();
            return map("padding", List.of(List.of(p[0], p[1]), List.of(p[2], p[3])));
        }, (n, c) -> {
            List<?> p = (List<?>) get(c, "padding");
            List<?> h = (List<?>) p.get(0);
            List<?> w = (List<?>) p.get(1);
            return new ZeroPadding2D(((Number) h.get(0)).intValue(), ((Number) h.get(1)).intValue(),
                    ((Number) w.get(0)).intValue(), ((Number) w.get(1)).intValue(), n);
        });
        register("MaxPooling2D", MaxPooling2D.class, l -> {
            Window w = l.window();
            return map("pool_size", List.of(w.kernelH(), w.kernelW()), "strides", List.of(w.strideH(), w.strideW()),
                    "padding", padding(w));
        }, (n, c) -> {
            int[] p = pair(c, "pool_size");
            int[] s = pair(c, "strides");
            return new MaxPooling2D(p[0], p[1], n).strides(s[0], s[1]).padding(text(c, "padding"));
        });
        register("AveragePooling2D", AveragePooling2D.class, l -> {
            Window w = l.window();
            return map("pool_size", List.of(w.kernelH(), w.kernelW()), "strides", List.of(w.strideH(), w.strideW()),
                    "padding", padding(w));
        }, (n, c) -> {
            int[] p = pair(c, "pool_size");
            int[] s = pair(c, "strides");
            return new AveragePooling2D(p[0], p[1], n).strides(s[0], s[1]).padding(text(c, "padding"));
        });
        register("GlobalAveragePooling2D", GlobalAveragePooling2D.class, l -> map(),
                (n, c) -> new GlobalAveragePooling2D(n));
        register("GlobalMaxPooling2D", GlobalMaxPooling2D.class, l -> map(), (n, c) -> new GlobalMaxPooling2D(n));
        register("Concatenate", Concatenate.class, l -> map("axis", -1), (n, c) -> new Concatenate(n));
        register("Add", Add.class, l -> map(), (n, c) -> new Add(n));
        register("Reshape", Reshape.class, l -> {
            List<Object> t = new ArrayList<>();
            for (long d : l.targetShape()) {
                t.add(d);
            }
            return map("target_shape", t);
        }, (n, c) -> {
            List<?> t = (List<?>) get(c, "target_shape");
            return new Reshape(t.stream().mapToLong(x -> ((Number) x).longValue()).toArray(), n);
        });
        register("Rescaling", Rescaling.class, l -> map("scale", l.scale(), "offset", l.offset()),
                (n, c) -> new Rescaling(number(c, "scale"), number(c, "offset"), n));
        register("Normalization", Normalization.class,
                l -> map("axis", -1, "mean", list(l.mean()), "variance", list(l.variance())),
                (n, c) -> new Normalization(numbers(c, "mean"), numbers(c, "variance"), n));
        register("RandomFlip", RandomAugmentation.RandomFlip.class, l -> map("mode", "horizontal"),
                (n, c) -> new RandomAugmentation.RandomFlip(text(c, "mode"), n));
        register("RandomRotation", RandomAugmentation.RandomRotation.class, l -> map("factor", l.factor()),
                (n, c) -> new RandomAugmentation.RandomRotation(number(c, "factor"), n));
        register("RandomZoom", RandomAugmentation.RandomZoom.class, l -> map("height_factor", l.factor()),
                (n, c) -> new RandomAugmentation.RandomZoom(number(c, "height_factor"), n));
    }
}
