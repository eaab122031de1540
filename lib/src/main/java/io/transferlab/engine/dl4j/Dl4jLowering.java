package io.transferlab.engine.dl4j;

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
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The DL4J engine's lowering of each Keras layer: the one place that says which DL4J layer configuration or graph
 * vertex runs a layer, and how its Keras-layout weights map to DL4J's parameter table and back. Adding a layer to
 * this engine is one {@link #lower} entry (and a weights entry when it has weights). A layer type without an entry
 * cannot run on DL4J, and the error says so.
 */
public final class Dl4jLowering {
    /** How a layer type becomes a DL4J part: a layer configuration, a graph vertex, or null to pass its input on. */
    private static final Map<Class<?>, BiFunction<Layer, List<Shape>, Object>> PARTS = new LinkedHashMap<>();
    /** Keras weights (in Keras's order) to DL4J's parameter table, for layer types that have weights. */
    private static final Map<Class<?>, BiFunction<Layer, List<INDArray>, Map<String, INDArray>>> TO_PARAMS = new HashMap<>();
    /** DL4J's parameter table back to Keras's weights, in Keras's order. */
    private static final Map<Class<?>, BiFunction<Layer, Map<String, INDArray>, List<INDArray>>> FROM_PARAMS = new HashMap<>();

    /** Layer types whose weights are built into their DL4J part as constants (not DL4J parameters). */
    private static final java.util.Set<Class<?>> BAKED = new java.util.HashSet<>();

    private static <L extends Layer> void lower(Class<L> type, BiFunction<L, List<Shape>, Object> part) {
        PARTS.put(type, (l, in) -> part.apply(type.cast(l), in));
    }

    private static <L extends Layer> void weights(Class<L> type, BiFunction<L, List<INDArray>, Map<String, INDArray>> to,
                                                  BiFunction<L, Map<String, INDArray>, List<INDArray>> from) {
        TO_PARAMS.put(type, (l, w) -> to.apply(type.cast(l), w));
        FROM_PARAMS.put(type, (l, p) -> from.apply(type.cast(l), p));
    }

    static {
        lower(InputLayer.class, (l, in) -> null);
        lower(RandomAugmentation.class, (l, in) -> null); // applied to the input batch by the trainer
        lower(Dense.class, (d, in) -> new DenseLayer.Builder().nIn(in.get(0).get(0)).nOut(d.units())
                .activation(Dl4jActivations.of(d.activation())).hasBias(d.hasBias())
                .weightInit(WeightInit.XAVIER_UNIFORM).build());
        weights(Dense.class,
                (d, k) -> d.hasBias() ? Map.of("W", k.get(0), "b", k.get(1).reshape(1, d.units())) : Map.of("W", k.get(0)),
                (d, p) -> d.hasBias() ? List.of(p.get("W").dup(), p.get("b").reshape(d.units()).dup())
                        : List.of(p.get("W").dup()));
        lower(Conv2D.class, (c, in) -> {
            Window w = c.window();
            return ContiguousGradientConvolution.of(new ConvolutionLayer.Builder(w.kernelH(), w.kernelW())
                    .stride(w.strideH(), w.strideW())
                    .nIn(in.get(0).get(2)).nOut(c.filters())
                    .convolutionMode(mode(w.padding()))
                    .dataFormat(CNN2DFormat.NHWC)
                    .activation(Dl4jActivations.of(c.activation()))
                    .hasBias(c.hasBias())
                    .weightInit(WeightInit.XAVIER_UNIFORM));
        });
        // Keras kernel (kh, kw, in, out) is DL4J's (out, in, kh, kw)
        weights(Conv2D.class, (c, k) -> {
            INDArray w = k.get(0).permute(3, 2, 0, 1).dup('c');
            return c.hasBias() ? Map.of("W", w, "b", k.get(1).reshape(1, c.filters())) : Map.of("W", w);
        }, (c, p) -> {
            INDArray kernel = p.get("W").permute(2, 3, 1, 0).dup('c');
            return c.hasBias() ? List.of(kernel, p.get("b").reshape(c.filters()).dup()) : List.of(kernel);
        });
        lower(DepthwiseConv2D.class, (c, in) -> {
            Window w = c.window();
            return ContiguousDepthwiseConvolution.of(new DepthwiseConvolution2D.Builder(w.kernelH(), w.kernelW())
                    .stride(w.strideH(), w.strideW())
                    .nIn(in.get(0).get(2))
                    .depthMultiplier(c.depthMultiplier())
                    .convolutionMode(mode(w.padding()))
                    .dataFormat(CNN2DFormat.NHWC)
                    .activation(Dl4jActivations.of(c.activation()))
                    .hasBias(c.hasBias())
                    .weightInit(WeightInit.XAVIER_UNIFORM));
        });
        // the same kernel layout in both: (kh, kw, in, multiplier)
        weights(DepthwiseConv2D.class,
                (c, k) -> c.hasBias() ? Map.of("W", k.get(0), "b", k.get(1)) : Map.of("W", k.get(0)),
                (c, p) -> {
                    long n = c.weightSpecs().get(0).shape()[2] * c.depthMultiplier();
                    INDArray kernel = p.get("W").dup('c');
                    return c.hasBias() ? List.of(kernel, p.get("b").reshape(n).dup()) : List.of(kernel);
                });
        lower(SeparableConv2D.class, (c, in) -> {
            Window w = c.window();
            return ContiguousSeparableConvolution.of(new SeparableConvolution2D.Builder(w.kernelH(), w.kernelW())
                    .stride(w.strideH(), w.strideW())
                    .nIn(in.get(0).get(2)).nOut(c.filters())
                    .depthMultiplier(c.depthMultiplier())
                    .convolutionMode(mode(w.padding()))
                    .dataFormat(CNN2DFormat.NHWC)
                    .activation(Dl4jActivations.of(c.activation()))
                    .hasBias(c.hasBias())
                    .weightInit(WeightInit.XAVIER_UNIFORM));
        });
        // Keras depthwise (kh, kw, in, m) is DL4J's W (m, in, kh, kw); pointwise (1, 1, in*m, out) is pW (out, in*m, 1, 1)
        weights(SeparableConv2D.class, (c, k) -> {
            Map<String, INDArray> p = new HashMap<>();
            p.put("W", k.get(0).permute(3, 2, 0, 1).dup('c'));
            p.put("pW", k.get(1).permute(3, 2, 0, 1).dup('c'));
            if (c.hasBias()) {
                p.put("b", k.get(2).reshape(1, c.filters()));
            }
            return p;
        }, (c, p) -> {
            List<INDArray> w = new ArrayList<>();
            w.add(p.get("W").permute(2, 3, 1, 0).dup('c'));
            w.add(p.get("pW").permute(2, 3, 1, 0).dup('c'));
            if (c.hasBias()) {
                w.add(p.get("b").reshape(c.filters()).dup());
            }
            return w;
        });
        lower(BatchNormalization.class, (b, in) -> {
            Shape s = in.get(0);
            return KerasBatchNormalization.create(s.get(-1), b.epsilon(), b.momentum(), b.scale(), b.center(), s.rank() == 3);
        });
        // DL4J always has gamma and beta: absent Keras weights become the constants 1 and 0
        weights(BatchNormalization.class, (b, k) -> {
            long c = b.weightSpecs().get(0).shape()[0];
            int i = 0;
            Map<String, INDArray> p = new HashMap<>();
            p.put("gamma", b.scale() ? k.get(i++) : Nd4j.ones(k.get(0).dataType(), c));
            p.put("beta", b.center() ? k.get(i++) : Nd4j.zeros(k.get(0).dataType(), c));
            p.put("mean", k.get(i++));
            p.put("var", k.get(i));
            return p;
        }, (b, p) -> {
            long c = b.weightSpecs().get(0).shape()[0];
            List<INDArray> w = new ArrayList<>();
            if (b.scale()) {
                w.add(p.get("gamma").reshape(c).dup());
            }
            if (b.center()) {
                w.add(p.get("beta").reshape(c).dup());
            }
            w.add(p.get("mean").reshape(c).dup());
            w.add(p.get("var").reshape(c).dup());
            return w;
        });
        lower(Activation.class, (a, in) -> new CopyingActivationLayer(Dl4jActivations.of(a.activation()).getActivationFunction()));
        lower(ReLU.class, (r, in) -> new CopyingActivationLayer(new ActivationReLU(r.maxValue(),
                r.threshold() == 0 ? null : r.threshold(), r.negativeSlope() == 0 ? null : r.negativeSlope())));
        lower(Rescaling.class, (r, in) -> new CopyingActivationLayer(new ChannelAffine(
                new float[]{(float) r.scale()}, new float[]{(float) r.offset()})));
        lower(Normalization.class, (n, in) -> {
            double[][] ss = n.scaleAndShift(in.get(0).get(-1));
            return new CopyingActivationLayer(new ChannelAffine(floats(ss[0]), floats(ss[1])));
        });
        // Normalization's mean, variance and count are constants of the network: no DL4J parameters, and a change
        // of their values rebuilds the network (see bakedWeights)
        BAKED.add(Normalization.class);
        lower(Dropout.class, (d, in) -> d.noiseShape() == null
                ? new DropoutLayer.Builder(1.0 - d.rate()).build() // DL4J takes the keep probability
                : new DropoutLayer.Builder().dropOut(new NoiseShapeDropout(d.rate(), d.noiseShape())).build());
        lower(MaxPooling2D.class, (m, in) -> pooling(PoolingType.MAX, m.window()));
        lower(AveragePooling2D.class, (a, in) -> pooling(PoolingType.AVG, a.window()));
        // pools axes 1 and 2 of (batch, h, w, c)
        lower(GlobalAveragePooling2D.class, (g, in) -> new GlobalPoolingLayer.Builder(PoolingType.AVG)
                .poolingDimensions(1, 2).collapseDimensions(true).build());
        lower(GlobalMaxPooling2D.class, (g, in) -> new GlobalPoolingLayer.Builder(PoolingType.MAX)
                .poolingDimensions(1, 2).collapseDimensions(true).build());
        lower(ZeroPadding2D.class, (z, in) -> {
            int[] p = z.padding();
            return new ZeroPaddingLayer.Builder(p[0], p[1], p[2], p[3]).dataFormat(CNN2DFormat.NHWC).build();
        });
        lower(Flatten.class, (f, in) -> {
            Shape s = in.get(0);
            return s.rank() != 3 ? null
                    : new PreprocessorVertex(new CnnToFeedForwardPreProcessor(s.get(0), s.get(1), s.get(2), CNN2DFormat.NHWC));
        });
        lower(Reshape.class, (r, in) -> new KerasReshapeVertex(r.computeOutputShape(in).dims()));
        lower(Add.class, (a, in) -> new ElementWiseVertex(ElementWiseVertex.Op.Add));
        lower(Multiply.class, (m, in) -> new BroadcastMultiplyVertex());
        lower(Concatenate.class, (c, in) -> {
            MergeVertex merge = new MergeVertex();
            merge.setMergeAxis(in.get(0).rank()); // the last axis of (batch, ...)
            return merge;
        });
    }

    private Dl4jLowering() {
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    /** Whether the layer's weights are constants inside its DL4J part (a change of them needs a new network). */
    static boolean bakedWeights(Layer layer) {
        return find(BAKED, layer) != null;
    }

    private static OneDnnPooling pooling(PoolingType type, Window w) {
        var b = new SubsamplingLayer.Builder(type)
                .kernelSize(w.kernelH(), w.kernelW())
                .stride(w.strideH(), w.strideW())
                .convolutionMode(mode(w.padding()))
                .dataFormat(CNN2DFormat.NHWC);
        if (type == PoolingType.AVG) {
            b.avgPoolIncludePadInDivisor(false); // Keras divides by the number of values inside the image
        }
        return OneDnnPooling.of(b);
    }

    static ConvolutionMode mode(Padding p) {
        return p == Padding.SAME ? ConvolutionMode.Same : ConvolutionMode.Truncate;
    }

    private static Class<?> find(java.util.Set<Class<?>> types, Layer layer) {
        for (Class<?> c = layer.getClass(); c != null; c = c.getSuperclass()) {
            if (types.contains(c)) {
                return c;
            }
        }
        return null;
    }

    private static <T> T find(Map<Class<?>, T> table, Layer layer) {
        for (Class<?> c = layer.getClass(); c != null; c = c.getSuperclass()) {
            T t = table.get(c);
            if (t != null) {
                return t;
            }
        }
        return null;
    }

    /** The DL4J part for a layer called on inputs of these shapes, or null when it passes its input on. */
    public static Object part(Layer layer, List<Shape> inputShapes) {
        var p = find(PARTS, layer);
        if (p == null) {
            throw new UnsupportedOperationException("Layer '" + layer.name() + "' (" + layer.typeName()
                    + ") has no lowering for the DL4J engine (engine/dl4j/Dl4jLowering)");
        }
        return p.apply(layer, inputShapes);
    }

    /** A final Dense as DL4J's output layer that also computes the training loss (same parameters). */
    static org.deeplearning4j.nn.conf.layers.Layer outputLayer(Dense d, List<Shape> in, ILossFunction loss) {
        return new OutputLayer.Builder(loss).nIn(in.get(0).get(0)).nOut(d.units())
                .activation(Dl4jActivations.of(d.activation())).hasBias(d.hasBias())
                .weightInit(WeightInit.XAVIER_UNIFORM).build();
    }

    /** The layer's Keras weights as DL4J's parameter table. */
    static Map<String, INDArray> toParams(Layer layer, List<INDArray> keras) {
        var f = find(TO_PARAMS, layer);
        if (f == null) {
            throw new UnsupportedOperationException("Layer '" + layer.name() + "' (" + layer.typeName()
                    + ") has weights but no weight mapping for the DL4J engine");
        }
        return f.apply(layer, keras);
    }

    /** DL4J's parameter table as the layer's Keras weights. */
    static List<INDArray> fromParams(Layer layer, Map<String, INDArray> params) {
        return find(FROM_PARAMS, layer).apply(layer, params);
    }
}
