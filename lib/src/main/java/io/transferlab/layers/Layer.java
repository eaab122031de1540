package io.transferlab.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A layer with Keras's name, semantics and weight layout. A layer is wired by calling it on tensors
 * ({@link #on(Tensor...)}), is built (its weights get shapes) on its first call, and carries Keras's
 * {@code trainable} flag. The layer owns its weights: one copy, in Keras's layout, created by Keras's
 * initializers ({@link WeightSpec#initializer()}), so that the same layer placed in a new model keeps its numbers.
 * Nothing here knows an engine: engines (the engine package) read these weights and write trained
 * values back with {@link #setWeights}.
 */
public abstract class Layer {
    private static final long INITIAL_SEED = 42;
    private String name;
    private boolean trainable = true;
    private final List<Node> nodes = new ArrayList<>();
    private List<Shape> builtInputShapes;
    private List<WeightSpec> weightSpecs = List.of();
    private List<INDArray> weightValues;
    private volatile long weightsVersion;

    protected Layer(String name) {
        this.name = name;
    }

    /** The layer's name; a layer given none gets Keras's default (dense, dense_1, ...) when first asked. */
    public String name() {
        if (name == null) {
            name = Names.unique(defaultNamePrefix());
        }
        return name;
    }

    /** The prefix of default names: Keras's snake_case of the class name. */
    protected String defaultNamePrefix() {
        return Names.snake(getClass().getSimpleName());
    }

    /** Gives this layer a name (Keras's name= argument); only before it is wired into a model. */
    public Layer named(String newName) {
        if (!nodes.isEmpty()) {
            throw new IllegalStateException("Layer '" + name() + "' is already wired into a model; name it before");
        }
        this.name = newName;
        return this;
    }

    /** The type Keras shows in summaries, such as Conv2D or Functional. */
    public String typeName() {
        return getClass().getSimpleName();
    }

    /** Keras's layer.trainable. */
    public boolean isTrainable() {
        return trainable;
    }

    /** Keras's layer.trainable = value. Returns this layer. */
    public Layer setTrainable(boolean value) {
        this.trainable = value;
        return this;
    }

    /** Calls this layer on the given tensors, as Keras's layer(x); builds the layer on its first call. */
    public Tensor on(Tensor... inputs) {
        name();
        List<Shape> shapes = Arrays.stream(inputs).map(Tensor::shape).toList();
        checkInputCount(shapes.size());
        if (builtInputShapes == null) {
            Shape out = computeOutputShape(shapes);
            checkOutputShape(shapes, out);
            builtInputShapes = shapes;
            weightSpecs = List.copyOf(buildWeights(shapes));
        } else {
            checkCompatible(shapes);
        }
        Node node = new Node(this, Arrays.asList(inputs), computeOutputShape(shapes));
        nodes.add(node);
        return node.output();
    }

    /** Makes the node of a layer that has no inputs (InputLayer). */
    Tensor createSourceNode(Shape shape) {
        builtInputShapes = List.of();
        Node node = new Node(this, List.of(), shape);
        nodes.add(node);
        return node.output();
    }

    /** Throws if this layer cannot take this many inputs. */
    protected void checkInputCount(int n) {
        if (n != 1) {
            throw new IllegalArgumentException("Layer '" + name() + "' (" + typeName() + ") takes one input, got " + n);
        }
    }

    private void checkOutputShape(List<Shape> in, Shape out) {
        for (long d : out.dims()) {
            if (d == 0 || d < Shape.NONE) {
                throw new ShapeException(this, in.get(0), out);
            }
        }
    }

    /** A layer built for one input shape can be called again only on the same shape (shared weights). */
    protected void checkCompatible(List<Shape> shapes) {
        for (int i = 0; i < shapes.size(); i++) {
            Shape built = builtInputShapes.get(i);
            Shape now = shapes.get(i);
            boolean ok = built.rank() == now.rank();
            for (int d = 0; ok && d < built.rank(); d++) {
                ok = built.get(d) == Shape.NONE || now.get(d) == Shape.NONE || built.get(d) == now.get(d);
            }
            if (!ok) {
                throw new IllegalArgumentException("Layer '" + name() + "' was built for input " + built
                        + " and cannot be called on " + now + " (its weights have fixed shapes)");
            }
        }
    }

    /** The output shape for these input shapes (batch excluded). */
    public abstract Shape computeOutputShape(List<Shape> inputShapes);

    /** The weight variables this layer creates for these input shapes, in Keras's order. */
    protected List<WeightSpec> buildWeights(List<Shape> inputShapes) {
        return List.of();
    }

    /** The calls of this layer, in order. */
    public List<Node> nodes() {
        return Collections.unmodifiableList(nodes);
    }

    public boolean isBuilt() {
        return builtInputShapes != null;
    }

    /** Input shapes of the first call (batch excluded). */
    public List<Shape> inputShapes() {
        requireBuilt();
        return builtInputShapes;
    }

    /** Keras's layer.output: the tensor of this layer's first call, to build on (cut a model here). */
    public Tensor output() {
        requireBuilt();
        return nodes.get(0).output();
    }

    /** Output shape of the first call (batch excluded). */
    public Shape outputShape() {
        requireBuilt();
        return nodes.get(0).output().shape();
    }

    private void requireBuilt() {
        if (builtInputShapes == null) {
            throw new IllegalStateException("Layer '" + name() + "' has not been called on an input yet");
        }
    }

    /** Keras's weight variables of this layer (empty for layers without weights). */
    public List<WeightSpec> weightSpecs() {
        return weightSpecs;
    }

    /** Number of weights, as Keras's count_params(). */
    public long countParams() {
        return weightSpecs.stream().mapToLong(WeightSpec::size).sum();
    }

    /** Weights that training may change: all trainable variables of a trainable layer. */
    public long trainableParams() {
        return trainable ? weightSpecs.stream().filter(WeightSpec::trainable).mapToLong(WeightSpec::size).sum() : 0;
    }

    public long nonTrainableParams() {
        return countParams() - trainableParams();
    }

    /**
     * The weight values in Keras's layout and order (Keras's get_weights()). A built layer whose weights were never
     * set gets them from its variables' Keras initializers on first access, drawn with a seed made from the layer's
     * name (a layer of the same name and shape always starts from the same values); an unbuilt layer has none (null).
     */
    public synchronized List<INDArray> getWeights() {
        if (weightValues == null && isBuilt() && !weightSpecs.isEmpty()) {
            List<INDArray> initial = new ArrayList<>();
            for (int i = 0; i < weightSpecs.size(); i++) {
                WeightSpec w = weightSpecs.get(i);
                initial.add(w.initializer().create(w.shape(), INITIAL_SEED * 31 + name().hashCode() * 17L + i));
            }
            weightValues = initial;
        }
        return weightValues;
    }


    /**
     * Sets the weight values, in Keras's layout and order (as get_weights() returns them). Shapes are checked
     * against the layer's variables; the error names the layer and the variable.
     */
    public synchronized void setWeights(List<INDArray> values) {
        requireBuilt();
        if (values.size() != weightSpecs.size()) {
            throw new IllegalArgumentException("Layer '" + name() + "' (" + typeName() + ") has " + weightSpecs.size()
                    + " weight variables " + weightSpecs + ", got " + values.size() + " arrays");
        }
        for (int i = 0; i < values.size(); i++) {
            long[] want = weightSpecs.get(i).shape();
            long[] got = values.get(i).shape();
            if (!Arrays.equals(want, got)) {
                throw new IllegalArgumentException("Layer '" + name() + "' weight '" + weightSpecs.get(i).name()
                        + "' has shape " + Arrays.toString(want) + ", got " + Arrays.toString(got));
            }
        }
        weightValues = new ArrayList<>(values);
        weightsVersion++;
    }

    /** Counts {@link #setWeights} calls: models use it to notice weights set through another model. */
    public long weightsVersion() {
        return weightsVersion;
    }

    /**
     * The layer's settings as text, like Keras's get_config(): every setting field of the layer's class (units,
     * activation, strides, rate, scale...), name=value, in declaration order. Caches of results computed by a
     * layer (feature caches) include it, so that a change of any setting is never served stale.
     */
    public String config() {
        StringBuilder sb = new StringBuilder(typeName());
        java.util.List<Class<?>> classes = new ArrayList<>();
        for (Class<?> c = getClass(); c != null && c != Layer.class; c = c.getSuperclass()) {
            classes.add(0, c);
        }
        for (Class<?> c : classes) {
            for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                Class<?> t = f.getType();
                if (java.lang.reflect.Modifier.isStatic(f.getModifiers()) || !(t.isPrimitive() || t.isEnum()
                        || t == String.class || Number.class.isAssignableFrom(t) || t == Boolean.class
                        || (t.isArray() && t.getComponentType().isPrimitive()))) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    Object v = f.get(this);
                    String text = v == null ? "None" : v instanceof double[] d ? Arrays.toString(d)
                            : v instanceof int[] i ? Arrays.toString(i) : v instanceof long[] l ? Arrays.toString(l)
                            : v instanceof float[] fl ? Arrays.toString(fl) : String.valueOf(v);
                    sb.append(' ').append(f.getName()).append('=').append(text);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    sb.append(' ').append(f.getName()).append("=?");
                }
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return name() + " (" + typeName() + ")";
    }
}
