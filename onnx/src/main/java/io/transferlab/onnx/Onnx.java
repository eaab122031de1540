package io.transferlab.onnx;

import io.transferlab.graph.Functional;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Node;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.onnx.OnnxGraph.Value;
import io.transferlab.onnx.proto.OnnxProto.ModelProto;
import io.transferlab.onnx.proto.OnnxProto.OperatorSetIdProto;
import io.transferlab.onnx.proto.OnnxProto.StringStringEntryProto;
import io.transferlab.onnx.proto.OnnxProto.TensorProto;
import io.transferlab.onnx.proto.OnnxProto.TensorShapeProto;
import io.transferlab.onnx.proto.OnnxProto.TypeProto;
import io.transferlab.onnx.proto.OnnxProto.ValueInfoProto;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a model as an ONNX file that ONNX Runtime (or any ONNX 1.8+ reader) runs with the numbers of
 * {@code model.predict}. From a notebook:
 *
 * <pre>{@code
 * import io.transferlab.onnx.Onnx;
 * Onnx.export(model, Path.of("flowers.onnx"));
 * }</pre>
 *
 * <p>The file takes what {@code model.predict} takes and gives what it gives: one input named {@value #INPUT},
 * float32, channels-last as in Keras ((batch, height, width, channels) for images; the batch size is free, and so
 * are the height and width of a size-agnostic model), and one output named {@value #OUTPUT}, after the model's
 * last activation (softmax or sigmoid included). Inside, images are transposed once to NCHW. The weights are the
 * layers' current ones; frozen layers and dropout export as at inference (batch normalization with its moving
 * statistics, dropout and the random augmentation layers as identities); nested models (a pretrained base used as
 * a layer) are expanded in place. Operator set {@value #OPSET}.
 *
 * <p>Each layer type maps to ONNX operators in one entry of {@link OnnxLowering}; a layer with no entry stops the
 * export with an error naming the layer and its type, and no file is written (the file is written to a
 * temporary file next to the target and renamed only when complete).
 */
public final class Onnx {
    /** The ONNX operator set the files use (ONNX 1.8; ONNX Runtime 1.6 and later run it). */
    public static final int OPSET = 13;
    /** The ONNX file format version of opset 13 (IR version 7). */
    public static final int IR_VERSION = 7;
    /** The name of the graph's input. */
    public static final String INPUT = "input";
    /** The name of the graph's output. */
    public static final String OUTPUT = "output";

    private Onnx() {
    }

    /**
     * Writes the model to an ONNX file (replacing one that is there only once the new one is complete).
     *
     * @return the file written
     * @throws UnsupportedOperationException naming the layer and its type, when a layer has no ONNX mapping
     */
    public static Path export(Functional model, Path path) {
        ModelProto proto = toProto(model);
        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        try {
            if (dir != null) {
                Files.createDirectories(dir);
            }
            Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".part");
            try {
                try (OutputStream out = Files.newOutputStream(tmp)) {
                    proto.writeTo(out);
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write ONNX file " + target + ": " + e.getMessage(), e);
        }
        return target;
    }

    /** The model as an ONNX ModelProto (what {@link #export} writes), as bytes. */
    public static byte[] toBytes(Functional model) {
        return toProto(model).toByteArray();
    }

    static ModelProto toProto(Functional model) {
        OnnxGraph g = new OnnxGraph(model.name());
        g.reserve(INPUT);
        g.reserve(OUTPUT);
        Shape inShape = model.inputShape();
        Value in = new Value(INPUT, inShape);
        if (in.isImage()) {
            g.lowering(model.input().layer());
            in = new Value(OnnxLowering.toChannelsFirst(g, INPUT), inShape);
        }
        Value result = expand(g, model, in);
        g.lowering(model.output().layer());
        String last = result.isImage() ? OnnxLowering.toChannelsLast(g, result.name()) : result.name();
        g.nodeInto("Identity", OUTPUT, new String[]{last});
        g.graph.addInput(valueInfo(INPUT, inShape, ""));
        g.graph.addOutput(valueInfo(OUTPUT, result.shape(), "output_"));
        g.graph.setDocString("Exported from the transferlab model '" + model.name() + "': input " + inShape
                + " channels-last, output " + result.shape());
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName("transferlab-onnx")
                .setProducerVersion("0.1.0")
                .setGraph(g.graph)
                .addMetadataProps(entry("keras_model", model.name()))
                .addMetadataProps(entry("keras_input_layer", model.input().layer().name()))
                .addMetadataProps(entry("keras_output_layer", model.output().layer().name()))
                .addMetadataProps(entry("input_layout", inShape.rank() == 3 ? "NHWC" : "batch first"))
                .build();
    }

    /**
     * Adds the calls of a model, its input bound to the given value, and returns its output's value. Shapes are
     * worked out again from the concrete input (a size-agnostic base inside a model of fixed size gets known
     * sizes, so Keras's "same" padding becomes explicit pads).
     */
    private static Value expand(OnnxGraph g, Functional model, Value input) {
        Map<Tensor, Value> values = new IdentityHashMap<>();
        values.put(model.input(), input);
        for (Node node : model.graphNodes()) {
            Layer layer = node.layer();
            if (layer instanceof InputLayer) {
                continue;
            }
            List<Value> args = new ArrayList<>();
            for (Tensor t : node.inputs()) {
                Value v = values.get(t);
                if (v == null) {
                    throw new IllegalStateException("Layer '" + layer.name() + "' reads a tensor of model '"
                            + model.name() + "' that was not computed: " + t);
                }
                args.add(v);
            }
            Value out;
            if (layer instanceof Functional inner) {
                out = expand(g, inner, args.get(0));
            } else {
                OnnxLowering.Lowering<Layer> lowering = OnnxLowering.of(layer);
                if (lowering == null) {
                    throw OnnxLowering.unsupported(layer, null);
                }
                Shape shape = layer.computeOutputShape(args.stream().map(Value::shape).toList());
                g.lowering(layer);
                out = new Value(lowering.lower(g, layer, args, shape), shape);
            }
            values.put(node.output(), out);
        }
        Value result = values.get(model.output());
        if (result == null) {
            throw new IllegalStateException("The output of model '" + model.name() + "' was not reached");
        }
        return result;
    }

    private static ValueInfoProto valueInfo(String name, Shape shape, String prefix) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"));
        String[] free = {"height", "width", "channels"};
        for (int i = 0; i < shape.rank(); i++) {
            long d = shape.get(i);
            s.addDim(d == Shape.NONE
                    ? TensorShapeProto.Dimension.newBuilder().setDimParam(prefix + (shape.rank() == 3 ? free[i] : "d" + (i + 1)))
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(s))).build();
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
}
