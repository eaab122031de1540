package io.transferlab.onnx;

import io.transferlab.layers.Activation;
import io.transferlab.layers.Add;
import io.transferlab.layers.AveragePooling2D;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Concatenate;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.DepthwiseConv2D;
import io.transferlab.layers.Dropout;
import io.transferlab.layers.Flatten;
import io.transferlab.layers.GlobalAveragePooling2D;
import io.transferlab.layers.GlobalMaxPooling2D;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.Multiply;
import io.transferlab.layers.Normalization;
import io.transferlab.layers.Padding;
import io.transferlab.layers.RandomAugmentation;
import io.transferlab.layers.ReLU;
import io.transferlab.layers.Rescaling;
import io.transferlab.layers.Reshape;
import io.transferlab.layers.SeparableConv2D;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Window;
import io.transferlab.layers.ZeroPadding2D;
import io.transferlab.onnx.OnnxGraph.Value;
import io.transferlab.onnx.proto.OnnxProto.AttributeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.transferlab.onnx.OnnxGraph.attr;

/**
 * How each Keras layer type becomes ONNX operators (opset {@link Onnx#OPSET}): the one place this module says
 * what a layer computes, one entry per layer type, as the engines' lowering tables. A layer type without an entry
 * cannot be exported, and the error names the layer and its type. Nested models are not here: {@link Onnx}
 * expands them into the graph of the model around them.
 *
 * <p>Images flow as NCHW inside the graph (see {@link OnnxGraph}); each entry reads Keras's channels-last
 * semantics and writes the same maths for that layout: the channel axis of an image is 1, of anything else the
 * last axis.
 */
final class OnnxLowering {
    /** Lowers one call of a layer: its input values in, the name of its output value back. */
    @FunctionalInterface
    interface Lowering<L extends Layer> {
        String lower(OnnxGraph g, L layer, List<Value> in, Shape out);
    }

    private static final Map<Class<?>, Lowering<Layer>> TABLE = new LinkedHashMap<>();

    private static <L extends Layer> void lower(Class<L> type, Lowering<L> lowering) {
        TABLE.put(type, (g, l, in, out) -> lowering.lower(g, type.cast(l), in, out));
    }

    static {
        lower(InputLayer.class, (g, l, in, out) -> in.get(0).name());
        // inference form: dropout (with or without noise_shape) and the random augmentations pass their input on
        lower(Dropout.class, (g, l, in, out) -> in.get(0).name());
        lower(RandomAugmentation.class, (g, l, in, out) -> in.get(0).name());
        lower(Conv2D.class, (g, c, in, out) -> {
            List<INDArray> w = c.getWeights();
            // Keras's kernel (kh, kw, in, out) is ONNX's (out, in, kh, kw)
            String kernel = g.floats("kernel", w.get(0).permute(3, 2, 0, 1));
            String y = conv(g, in.get(0), c.window(), kernel, c.hasBias() ? g.floats("bias", w.get(1)) : null, 1);
            return activation(g, c.activation(), y);
        });
        lower(DepthwiseConv2D.class, (g, c, in, out) -> {
            List<INDArray> w = c.getWeights();
            long[] k = w.get(0).shape(); // (kh, kw, channels, multiplier)
            // output channel ch * multiplier + m is filter m of input channel ch: ONNX's grouped convolution with
            // one group per input channel and a kernel (channels * multiplier, 1, kh, kw) in that order
            INDArray kernel = w.get(0).permute(2, 3, 0, 1).dup('c').reshape(k[2] * k[3], 1, k[0], k[1]);
            String y = conv(g, in.get(0), c.window(), g.floats("depthwise_kernel", kernel),
                    c.hasBias() ? g.floats("bias", w.get(1)) : null, k[2]);
            return activation(g, c.activation(), y);
        });
        lower(SeparableConv2D.class, (g, c, in, out) -> {
            List<INDArray> w = c.getWeights();
            long[] k = w.get(0).shape(); // (kh, kw, channels, multiplier)
            // Keras: the depthwise step (strides and padding, no bias), then a 1x1 convolution with the bias
            INDArray depthwise = w.get(0).permute(2, 3, 0, 1).dup('c').reshape(k[2] * k[3], 1, k[0], k[1]);
            String d = conv(g, in.get(0), c.window(), g.floats("depthwise_kernel", depthwise), null, k[2]);
            String y = g.node("Conv", "pointwise", c.hasBias()
                    ? new String[]{d, g.floats("pointwise_kernel", w.get(1).permute(3, 2, 0, 1)), g.floats("bias", w.get(2))}
                    : new String[]{d, g.floats("pointwise_kernel", w.get(1).permute(3, 2, 0, 1))},
                    attr("kernel_shape", 1L, 1L));
            return activation(g, c.activation(), y);
        });
        lower(BatchNormalization.class, (g, b, in, out) -> {
            // inference form: the moving statistics, whatever the layer's trainable flag
            List<INDArray> w = b.getWeights();
            long c = b.weightSpecs().get(0).shape()[0];
            int i = 0;
            INDArray gamma = b.scale() ? w.get(i++) : Nd4j.ones(c);
            INDArray beta = b.center() ? w.get(i++) : Nd4j.zeros(c);
            INDArray mean = w.get(i++);
            INDArray variance = w.get(i);
            Value x = in.get(0);
            if (x.isImage() || x.shape().rank() == 1) { // (N, C, H, W) or (N, C): ONNX's channel axis 1
                return g.node("BatchNormalization", "batchnorm", new String[]{x.name(), g.floats("gamma", gamma),
                        g.floats("beta", beta), g.floats("moving_mean", mean), g.floats("moving_variance", variance)},
                        attr("epsilon", (float) b.epsilon()));
            }
            throw unsupported(b, "an input of shape " + x.shape());
        });
        lower(Activation.class, (g, a, in, out) -> activation(g, a.activation(), in.get(0).name()));
        lower(ReLU.class, (g, r, in, out) -> relu(g, r, in.get(0).name()));
        lower(MaxPooling2D.class, (g, m, in, out) -> pool(g, "MaxPool", in.get(0), m.window()));
        lower(AveragePooling2D.class, (g, a, in, out) -> pool(g, "AveragePool", in.get(0), a.window()));
        lower(GlobalAveragePooling2D.class, (g, p, in, out) -> g.node("Flatten", "flatten",
                new String[]{g.node("GlobalAveragePool", "pool", new String[]{in.get(0).name()})}, attr("axis", 1L)));
        lower(GlobalMaxPooling2D.class, (g, p, in, out) -> g.node("Flatten", "flatten",
                new String[]{g.node("GlobalMaxPool", "pool", new String[]{in.get(0).name()})}, attr("axis", 1L)));
        lower(ZeroPadding2D.class, (g, z, in, out) -> {
            int[] p = z.padding(); // top, bottom, left, right
            return pad(g, in.get(0).name(), p[0], p[1], p[2], p[3]);
        });
        lower(Concatenate.class, (g, c, in, out) -> g.node("Concat", "concat",
                in.stream().map(Value::name).toArray(String[]::new), attr("axis", in.get(0).isImage() ? 1L : -1L)));
        // Keras's broadcasting of axes of size 1 between inputs of one rank: an image and its (1, 1, C) weights are
        // both NCHW here, (C, H, W) and (C, 1, 1), which ONNX broadcasts the same way
        lower(Multiply.class, (g, m, in, out) -> {
            String y = in.get(0).name();
            for (int i = 1; i < in.size(); i++) {
                y = g.node("Mul", "multiply", new String[]{y, in.get(i).name()});
            }
            return y;
        });
        lower(Add.class, (g, a, in, out) -> g.node("Sum", "add", in.stream().map(Value::name).toArray(String[]::new)));
        lower(Flatten.class, (g, f, in, out) -> {
            Value x = in.get(0);
            if (x.shape().rank() == 1) {
                return x.name();
            }
            // Keras flattens channels-last: back to (N, H, W, C) first, so a Dense trained in Keras reads its
            // weights in the same order
            String y = x.isImage() ? toChannelsLast(g, x.name()) : x.name();
            return g.node("Flatten", "flatten", new String[]{y}, attr("axis", 1L));
        });
        lower(Reshape.class, (g, r, in, out) -> {
            Value x = in.get(0);
            String y = x.isImage() ? toChannelsLast(g, x.name()) : x.name();
            long[] target = new long[out.rank() + 1]; // 0: keep the batch size
            System.arraycopy(out.dims(), 0, target, 1, out.rank());
            y = g.node("Reshape", "reshape", new String[]{y, g.int64s(target)});
            return out.rank() == 3 ? toChannelsFirst(g, y) : y;
        });
        lower(Dense.class, (g, d, in, out) -> {
            List<INDArray> w = d.getWeights();
            List<String> args = new ArrayList<>(List.of(in.get(0).name(), g.floats("kernel", w.get(0))));
            if (d.hasBias()) {
                args.add(g.floats("bias", w.get(1)));
            }
            String y = g.node("Gemm", "dense", args.toArray(String[]::new)); // x (N, in) times kernel (in, units)
            return activation(g, d.activation(), y);
        });
        lower(Rescaling.class, (g, r, in, out) -> {
            String y = g.node("Mul", "scale", new String[]{in.get(0).name(), g.scalar((float) r.scale())});
            return r.offset() == 0 ? y : g.node("Add", "offset", new String[]{y, g.scalar((float) r.offset())});
        });
        lower(Normalization.class, (g, n, in, out) -> {
            Value x = in.get(0);
            long c = x.shape().get(-1);
            double[][] ss = n.scaleAndShift(c);
            // per channel: (C, 1, 1) broadcasts over an NCHW image, (C) over the last axis of anything else
            long[] dims = x.isImage() ? new long[]{c, 1, 1} : new long[]{c};
            String y = g.node("Mul", "scale", new String[]{x.name(), g.floats("scale", dims, floats(ss[0]))});
            return g.node("Add", "shift", new String[]{y, g.floats("shift", dims, floats(ss[1]))});
        });
    }

    private OnnxLowering() {
    }

    /** The lowering of this layer's type (or of its nearest superclass that has one), or null. */
    static Lowering<Layer> of(Layer layer) {
        for (Class<?> c = layer.getClass(); c != null; c = c.getSuperclass()) {
            Lowering<Layer> l = TABLE.get(c);
            if (l != null) {
                return l;
            }
        }
        return null;
    }

    /** The layer types that have an entry, in the table's order. */
    static List<Class<?>> types() {
        return List.copyOf(TABLE.keySet());
    }

    static UnsupportedOperationException unsupported(Layer layer, String what) {
        return new UnsupportedOperationException("Layer '" + layer.name() + "' (" + layer.typeName()
                + ") cannot be exported to ONNX" + (what == null ? ": no mapping for this layer type (onnx/"
                + "src/main/java/io/transferlab/onnx/OnnxLowering.java)" : " with " + what));
    }

    // ---- shared pieces ----

    /** A convolution with Keras's padding: explicit pads when the image size is known, else TensorFlow's SAME_UPPER. */
    private static String conv(OnnxGraph g, Value x, Window w, String kernel, String bias, long group) {
        List<AttributeProto> a = new ArrayList<>(List.of(attr("kernel_shape", (long) w.kernelH(), w.kernelW()),
                attr("strides", (long) w.strideH(), w.strideW()), attr("group", group)));
        a.addAll(padding(x, w, false));
        String[] args = bias == null ? new String[]{x.name(), kernel} : new String[]{x.name(), kernel, bias};
        return g.node("Conv", "conv", args, a.toArray(AttributeProto[]::new));
    }

    /** Max or average pooling; Keras's average pooling with "same" leaves the padding out of the divisor. */
    private static String pool(OnnxGraph g, String op, Value x, Window w) {
        List<AttributeProto> a = new ArrayList<>(List.of(attr("kernel_shape", (long) w.kernelH(), w.kernelW()),
                attr("strides", (long) w.strideH(), w.strideW())));
        a.addAll(padding(x, w, true));
        if (op.equals("AveragePool")) {
            a.add(attr("count_include_pad", 0L));
        }
        return g.node(op, "pool", new String[]{x.name()}, a.toArray(AttributeProto[]::new));
    }

    /**
     * Keras's "same": TensorFlow's rule, the odd pixel of padding at the bottom and right, as explicit pads for a
     * known image size; for an unknown size, ONNX's SAME_UPPER, the same rule worked out when the model runs.
     */
    private static List<AttributeProto> padding(Value x, Window w, boolean pooling) {
        if (w.padding() == Padding.VALID) {
            return List.of();
        }
        long h = x.shape().get(0);
        long wd = x.shape().get(1);
        if (h == Shape.NONE || wd == Shape.NONE) {
            return List.of(attr("auto_pad", "SAME_UPPER"));
        }
        long[] p = w.pads(h, wd); // top, bottom, left, right
        return List.of(attr("pads", p[0], p[2], p[1], p[3]));
    }

    private static String pad(OnnxGraph g, String x, long top, long bottom, long left, long right) {
        // opset 13's Pad: pads as an input, begins of every axis then ends, zeros by default
        return g.node("Pad", "pad", new String[]{x, g.int64s(0, 0, top, left, 0, 0, bottom, right)},
                attr("mode", "constant"));
    }

    static String toChannelsLast(OnnxGraph g, String x) {
        return g.node("Transpose", "to_nhwc", new String[]{x}, attr("perm", 0L, 2, 3, 1));
    }

    static String toChannelsFirst(OnnxGraph g, String x) {
        return g.node("Transpose", "to_nchw", new String[]{x}, attr("perm", 0L, 3, 1, 2));
    }

    /** Keras's named activations, on any layout (they are elementwise, softmax on flat inputs only). */
    static String activation(OnnxGraph g, String name, String x) {
        return switch (name) {
            case "linear" -> x;
            case "relu" -> g.node("Relu", "relu", new String[]{x});
            case "relu6" -> g.node("Clip", "relu6", new String[]{x, g.scalar(0f), g.scalar(6f)});
            case "sigmoid" -> g.node("Sigmoid", "sigmoid", new String[]{x});
            case "softmax" -> g.node("Softmax", "softmax", new String[]{x}, attr("axis", -1L));
            case "tanh" -> g.node("Tanh", "tanh", new String[]{x});
            case "elu" -> g.node("Elu", "elu", new String[]{x}, attr("alpha", 1f));
            // Keras's constants; ONNX's defaults are the same numbers in float
            case "selu" -> g.node("Selu", "selu", new String[]{x}, attr("alpha", 1.6732632423543772f),
                    attr("gamma", 1.0507009873554805f));
            case "swish" -> g.node("Mul", "swish", new String[]{x, g.node("Sigmoid", "swish_gate", new String[]{x})});
            case "softplus" -> g.node("Softplus", "softplus", new String[]{x});
            // Keras 2's hard_sigmoid: clip(0.2 x + 0.5, 0, 1)
            case "hard_sigmoid" -> g.node("HardSigmoid", "hard_sigmoid", new String[]{x}, attr("alpha", 0.2f),
                    attr("beta", 0.5f));
            default -> throw new UnsupportedOperationException("activation '" + name + "' has no ONNX mapping");
        };
    }

    /**
     * Keras's ReLU layer: max_value for x >= max_value, x for threshold <= x < max_value, negative_slope *
     * (x - threshold) below the threshold. The usual forms get one operator (Relu, LeakyRelu, Clip: relu6).
     */
    private static String relu(OnnxGraph g, ReLU r, String x) {
        Double max = r.maxValue();
        double slope = r.negativeSlope();
        double t = r.threshold();
        if (t == 0 && slope == 0) {
            return max == null ? g.node("Relu", "relu", new String[]{x})
                    : g.node("Clip", "relu", new String[]{x, g.scalar(0f), g.scalar(max.floatValue())});
        }
        if (t == 0 && max == null) {
            return g.node("LeakyRelu", "relu", new String[]{x}, attr("alpha", (float) slope));
        }
        String thr = g.scalar((float) t);
        String below = g.node("Mul", "relu_slope", new String[]{g.node("Sub", "relu_shift", new String[]{x, thr}),
                g.scalar((float) slope)});
        String y = g.node("Where", "relu", new String[]{g.node("Less", "relu_below", new String[]{x, thr}), below, x});
        if (max == null) {
            return y;
        }
        String m = g.scalar(max.floatValue());
        return g.node("Where", "relu_max", new String[]{g.node("Less", "relu_under_max", new String[]{x, m}), y, m});
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
