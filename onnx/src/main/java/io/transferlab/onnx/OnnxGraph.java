package io.transferlab.onnx;

import com.google.protobuf.ByteString;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Shape;
import io.transferlab.onnx.proto.OnnxProto.AttributeProto;
import io.transferlab.onnx.proto.OnnxProto.GraphProto;
import io.transferlab.onnx.proto.OnnxProto.NodeProto;
import io.transferlab.onnx.proto.OnnxProto.TensorProto;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The ONNX graph being written: nodes in order, constant tensors (initializers) and unique value names. The
 * lowerings ({@link OnnxLowering}) add to it through these helpers; nothing here knows a Keras layer's maths.
 *
 * <p>Layout rule of the whole graph: a value whose Keras shape is an image (height, width, channels) is held as
 * NCHW (ONNX's convolution layout); every other value is held in Keras's own layout, batch first.
 */
public final class OnnxGraph {
    /** A value of the graph: its ONNX name and its Keras shape (batch excluded; an image is held as NCHW). */
    public record Value(String name, Shape shape) {
        /** Whether the value is an image, held as (batch, channels, height, width). */
        public boolean isImage() {
            return shape.rank() == 3;
        }
    }

    final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> constants = new HashMap<>();
    private Layer current;

    OnnxGraph(String name) {
        graph.setName(name);
    }

    /** Reserves a name exactly as given (graph input and output); fails if it is taken. */
    void reserve(String name) {
        if (!names.add(name)) {
            throw new IllegalStateException("ONNX value name '" + name + "' is already used");
        }
    }

    /** A new value name made from a base (a layer name), with a numeric suffix when the base is taken. */
    public String fresh(String base) {
        String b = base.replaceAll("[^A-Za-z0-9_./:-]", "_");
        String n = b;
        for (int i = 1; names.contains(n); i++) {
            n = b + "__" + i;
        }
        names.add(n);
        return n;
    }

    /** The layer being lowered, so that nodes and constants get its name. */
    void lowering(Layer layer) {
        this.current = layer;
    }

    private String base(String suffix) {
        return (current == null ? "graph" : current.name()) + "/" + suffix;
    }

    /**
     * Adds a node of the standard domain reading the given values and writing one new value, whose name is made
     * from the current layer's name and the suffix; returns that name.
     */
    public String node(String opType, String suffix, String[] inputs, AttributeProto... attributes) {
        String out = fresh(base(suffix));
        nodeInto(opType, out, inputs, attributes);
        return out;
    }

    /** Adds a node writing the value of the given (already reserved or fresh) name. */
    public void nodeInto(String opType, String output, String[] inputs, AttributeProto... attributes) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(output).addOutput(output);
        for (String in : inputs) {
            n.addInput(in);
        }
        for (AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        graph.addNode(n);
    }

    /** A float constant of the given shape (row-major values), named after the current layer and the suffix. */
    public String floats(String suffix, long[] dims, float[] values) {
        long size = 1;
        for (long d : dims) {
            size *= d;
        }
        if (size != values.length) {
            throw new IllegalArgumentException("constant " + base(suffix) + ": " + values.length + " values for shape "
                    + java.util.Arrays.toString(dims));
        }
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return initializer(suffix, dims, TensorProto.DataType.FLOAT, buf.array());
    }

    /** A float constant from an array (any layout; read in its logical row-major order). */
    public String floats(String suffix, INDArray array) {
        INDArray f = array.castTo(DataType.FLOAT).dup('c');
        return floats(suffix, f.shape(), f.data().asFloat());
    }

    /** A float scalar constant (rank 0), shared by every node that needs the same value. */
    public String scalar(float value) {
        String key = "f:" + Float.floatToIntBits(value);
        String name = constants.get(key);
        if (name == null) {
            name = initializer0("const/" + value, new long[0], TensorProto.DataType.FLOAT,
                    ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array());
            constants.put(key, name);
        }
        return name;
    }

    /** An int64 constant vector (shapes, pads, axes), shared by every node that needs the same values. */
    public String int64s(long... values) {
        String key = "i:" + java.util.Arrays.toString(values);
        String name = constants.get(key);
        if (name == null) {
            ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            buf.asLongBuffer().put(values);
            name = initializer0("const/" + java.util.Arrays.toString(values).replaceAll("[\\[\\] ]", ""),
                    new long[]{values.length}, TensorProto.DataType.INT64, buf.array());
            constants.put(key, name);
        }
        return name;
    }

    private String initializer(String suffix, long[] dims, TensorProto.DataType type, byte[] raw) {
        return initializer0(base(suffix), dims, type, raw);
    }

    private String initializer0(String base, long[] dims, TensorProto.DataType type, byte[] raw) {
        String name = fresh(base);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
                .setRawData(ByteString.copyFrom(raw));
        for (long d : dims) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    // ---- attributes ----

    public static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    public static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    public static AttributeProto attr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    public static AttributeProto attr(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }
}
