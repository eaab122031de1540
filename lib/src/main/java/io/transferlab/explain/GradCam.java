package io.transferlab.explain;

import io.transferlab.engine.Engines;
import io.transferlab.engine.api.LayerGradient;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Activation;
import io.transferlab.layers.Dense;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.RandomAugmentation;
import io.transferlab.layers.Tensor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/**
 * Grad-CAM (Selvaraju et al., 2017): where in an image a classifier finds the evidence for a class. For a
 * convolutional layer's output A (height x width x channels) and a class score y, each channel gets the weight
 * alpha_c = mean over (i, j) of dy / dA_ij^c, and the heatmap is ReLU(sum_c alpha_c A^c), of the layer's height and
 * width (upsample it onto the image with {@code Plots.gradCam}).
 *
 * <pre>{@code
 * var cam = GradCam.of(model);                  // the last layer with a 4-D output, e.g. 'block5_pool'
 * var r = cam.explain(batch);                   // each image's top predicted class
 * INDArray map = r.heatmap(0);                  // (H, W)
 * var one = GradCam.of(model).layer("block5_conv3").heatmap(image, 281);
 * }</pre>
 *
 * <p><b>The layer</b>: by default the last layer (in the running graph, nested models searched) whose output is
 * 4-D, (batch, height, width, channels), and larger than 1x1: the feature map just before the global pooling or
 * flatten that leads to the classifier (1x1 maps after the pooling, as in MobileNet's top, describe no place in the
 * image). For VGG16 that is {@code block5_pool}, for ResNet50 {@code conv5_block3_out}, for MobileNet
 * {@code conv_pw_13_relu}; the Grad-CAM paper used VGG16's last convolution ({@code block5_conv3}, twice the
 * resolution), which {@link #layer(String)} selects.
 *
 * <p><b>The score</b>: as in Keras's Grad-CAM example, which sets the last layer's activation to None, the score of
 * class k is its logit: when the model ends in a Dense (or Activation) layer with a softmax or sigmoid, the gradient
 * is taken before that activation. Softmax probabilities saturate, so their gradients vanish for confident
 * predictions and mix in the other classes; the logit is the class's own evidence. For a one-unit sigmoid (binary)
 * classifier with logit z, class 1's score is z and class 0's is -z (the log-odds of class 0). Any other final layer
 * is differentiated as it is.
 *
 * <p>Gradients come from the engine seam ({@link Engines#layerGradient}); the maths of the heatmap is here, in
 * double precision. Inference behaviour throughout (batch norm's moving statistics, no dropout).
 */
public final class GradCam {
    private final Functional model;
    private final String layerName;
    private final boolean logits;
    private final Layer outputLayer;
    private LayerGradient gradient;

    private GradCam(Functional model, String layerName) {
        this.model = model;
        if (model.outputShape().rank() != 1) {
            throw new IllegalArgumentException("Grad-CAM needs a classifier with outputs (batch, classes); model '"
                    + model.name() + "' outputs " + model.outputShape());
        }
        this.outputLayer = model.outputLayer();
        String act = model.outputActivation();
        this.logits = "softmax".equals(act) || "sigmoid".equals(act);
        this.layerName = layerName != null ? check(model, layerName) : lastFeatureMap(model);
    }

    /** Grad-CAM for this model, on the last layer with a 4-D output (see the class comment). */
    public static GradCam of(Functional model) {
        return new GradCam(model, null);
    }

    /**
     * Grad-CAM on the named layer instead (nested models searched).
     *
     * @throws IllegalArgumentException when there is no such layer or its output is not 4-D, listing the layers
     *                                  whose outputs are
     */
    public GradCam layer(String name) {
        return new GradCam(model, name);
    }

    /** The layer whose output the heatmap is computed on. */
    public String layerName() {
        return layerName;
    }

    /** Whether the score is the logit (the final softmax or sigmoid left out), as in Keras's example. */
    public boolean usesLogits() {
        return logits;
    }

    /** The names of the layers Grad-CAM can use (outputs of shape (batch, height, width, channels)), in graph order. */
    public static List<String> featureMapLayers(Functional model) {
        return model.leaves().stream().map(Functional.Leaf::layer).filter(GradCam::isFeatureMap).map(Layer::name).toList();
    }

    private static boolean isFeatureMap(Layer l) {
        return !(l instanceof InputLayer) && !(l instanceof RandomAugmentation) && l.isBuilt()
                && l.outputShape().rank() == 3;
    }

    /**
     * The last feature map larger than 1x1 (sizes unknown until run count as larger): the 1x1 maps after a global
     * pooling (MobileNet's reshape_1, dropout and conv_preds) describe no place in the image.
     */
    private static String lastFeatureMap(Functional model) {
        String last = null;
        for (Functional.Leaf leaf : model.leaves()) {
            Layer l = leaf.layer();
            if (isFeatureMap(l) && !(l.outputShape().get(0) == 1 && l.outputShape().get(1) == 1)) {
                last = l.name();
            }
        }
        if (last == null) {
            throw new IllegalArgumentException("Model '" + model.name() + "' has no layer with a 4-D output "
                    + "(batch, height, width, channels) larger than 1x1: Grad-CAM needs a convolutional feature map"
                    + (featureMapLayers(model).isEmpty() ? "" : " (1x1 ones: " + String.join(", ", featureMapLayers(model))
                    + "; choose one with layer(name))"));
        }
        return last;
    }

    private static String check(Functional model, String name) {
        Layer found = null;
        for (Functional.Leaf leaf : model.leaves()) {
            if (leaf.layer().name().equals(name)) {
                found = leaf.layer();
            }
        }
        List<String> maps = featureMapLayers(model);
        String candidates = maps.isEmpty() ? "none" : String.join(", ", maps);
        if (found == null) {
            throw new IllegalArgumentException("No layer named '" + name + "' in model '" + model.name()
                    + "' (nested models included). Layers with 4-D outputs: " + candidates);
        }
        if (!isFeatureMap(found)) {
            String shape = found.isBuilt() ? "(batch" + found.outputShape().toString().substring(5) : "unknown";
            throw new IllegalArgumentException("Layer '" + name + "' (" + found.typeName() + ") outputs " + shape
                    + ", not a 4-D feature map (batch, height, width, channels): Grad-CAM needs a convolutional "
                    + "layer's output. Layers of model '" + model.name() + "' with 4-D outputs: " + candidates);
        }
        return name;
    }

    private synchronized LayerGradient gradient() {
        if (gradient == null) {
            gradient = Engines.layerGradient(model, layerName, logits);
        }
        return gradient;
    }

    /** What is differentiated, and where: for notebooks. */
    public String describe() {
        return "Grad-CAM on layer '" + layerName + "': " + gradient().describe();
    }

    // ---- computing ----

    /** Heatmaps for a batch, each for its top predicted class. */
    public Result explain(INDArray x) {
        return explain(x, (int[]) null);
    }

    /** Heatmaps for a batch, all for this class. */
    public Result explain(INDArray x, int classIndex) {
        int[] c = new int[(int) batch(x).size(0)];
        Arrays.fill(c, classIndex);
        return explain(x, c);
    }

    /**
     * Heatmaps for a batch, example n for class {@code classIndices[n]} (null: each example's top predicted class).
     *
     * @param x a batch (N, ...input shape), preprocessed as the model expects; a single image without the batch
     *          axis is taken as a batch of one
     */
    public Result explain(INDArray x, int[] classIndices) {
        INDArray in = batch(x);
        int n = (int) in.size(0);
        long units = model.outputShape().get(0);
        int classes = units == 1 ? 2 : (int) units;
        if (classIndices != null) {
            if (classIndices.length != n) {
                throw new IllegalArgumentException(classIndices.length + " class indices for a batch of " + n);
            }
            for (int c : classIndices) {
                if (c < 0 || c >= classes) {
                    throw new IllegalArgumentException("Class index " + c + " is out of range: model '" + model.name()
                            + "' has " + classes + " classes (0.." + (classes - 1) + ")"
                            + (units == 1 ? "; a one-unit sigmoid output has classes 0 and 1" : ""));
                }
            }
        }
        LayerGradient g = gradient();
        int[] chosen = classIndices;
        INDArray weights;
        LayerGradient.Result r;
        if (chosen == null) {
            chosen = topClasses(g.outputs(in), logits); // a forward pass first, for the top classes

        }
        weights = Nd4j.zeros(DataType.DOUBLE, n, units);
        for (int i = 0; i < n; i++) {
            if (units == 1) {
                weights.putScalar(i, 0, chosen[i] == 1 ? 1.0 : -1.0);
            } else {
                weights.putScalar(i, chosen[i], 1.0);
            }
        }
        r = g.compute(in, weights);
        return heatmaps(r, chosen, classIndices == null);
    }

    /** The heatmap (H, W) of one image (with or without the batch axis of 1) for its top predicted class. */
    public INDArray heatmap(INDArray image) {
        return single(image).explain(image).heatmap(0);
    }

    /** The heatmap (H, W) of one image (with or without the batch axis of 1) for a class. */
    public INDArray heatmap(INDArray image, int classIndex) {
        return single(image).explain(image, classIndex).heatmap(0);
    }

    private GradCam single(INDArray image) {
        if (batch(image).size(0) != 1) {
            throw new IllegalArgumentException("heatmap(image) takes one image, got a batch of " + image.size(0)
                    + ": use explain(batch)");
        }
        return this;
    }

    private INDArray batch(INDArray x) {
        int rank = model.inputShape().rank();
        if (x.rank() == rank) {
            return x.reshape(prepend(x.shape()));
        }
        if (x.rank() != rank + 1) {
            throw new IllegalArgumentException("Model '" + model.name() + "' takes inputs (batch"
                    + model.inputShape().toString().substring(5) + ", got an array of shape " + Arrays.toString(x.shape()));
        }
        return x;
    }

    private static long[] prepend(long[] s) {
        long[] out = new long[s.length + 1];
        out[0] = 1;
        System.arraycopy(s, 0, out, 1, s.length);
        return out;
    }

    private static int[] topClasses(INDArray outs, boolean logits) {
        int n = (int) outs.size(0);
        int units = (int) outs.size(1);
        int[] c = new int[n];
        for (int i = 0; i < n; i++) {
            if (units == 1) {
                // a logit above 0, or a probability above 0.5 where the output is not a logit
                c[i] = outs.getDouble(i, 0) > (logits ? 0 : 0.5) ? 1 : 0;
            } else {
                int best = 0;
                for (int k = 1; k < units; k++) {
                    if (outs.getDouble(i, k) > outs.getDouble(i, best)) {
                        best = k;
                    }
                }
                c[i] = best;
            }
        }
        return c;
    }

    private Result heatmaps(LayerGradient.Result r, int[] classes, boolean top) {
        INDArray a = r.activations().castTo(DataType.DOUBLE);
        INDArray g = r.gradients().castTo(DataType.DOUBLE);
        int n = (int) a.size(0), h = (int) a.size(1), w = (int) a.size(2), c = (int) a.size(3);
        double[] av = a.dup('c').data().asDouble();
        double[] gv = g.dup('c').data().asDouble();
        double[] maps = new double[n * h * w];
        double[] alphas = new double[n * c];
        for (int i = 0; i < n; i++) {
            int base = i * h * w * c;
            for (int p = 0; p < h * w; p++) {
                for (int k = 0; k < c; k++) {
                    alphas[i * c + k] += gv[base + p * c + k];
                }
            }
            for (int k = 0; k < c; k++) {
                alphas[i * c + k] /= (double) h * w;
            }
            for (int p = 0; p < h * w; p++) {
                double s = 0;
                for (int k = 0; k < c; k++) {
                    s += alphas[i * c + k] * av[base + p * c + k];
                }
                maps[i * h * w + p] = Math.max(0, s);
            }
        }
        INDArray outs = r.outputs().castTo(DataType.DOUBLE);
        double[] scores = new double[n];
        double[] probs = new double[n];
        int units = (int) outs.size(1);
        for (int i = 0; i < n; i++) {
            if (units == 1) {
                double z = outs.getDouble(i, 0);
                scores[i] = classes[i] == 1 ? z : -z;
                double p1 = logits ? 1 / (1 + Math.exp(-z)) : z;
                probs[i] = classes[i] == 1 ? p1 : 1 - p1;
            } else {
                scores[i] = outs.getDouble(i, classes[i]);
                probs[i] = logits && isSoftmax() ? softmax(outs, i, classes[i])
                        : logits ? 1 / (1 + Math.exp(-scores[i])) : scores[i];
            }
        }
        return new Result(layerName, Nd4j.create(maps, new long[]{n, h, w}, DataType.DOUBLE),
                Nd4j.create(alphas, new long[]{n, c}, DataType.DOUBLE), classes, top, scores, probs);
    }

    private boolean isSoftmax() {
        return outputLayer instanceof Dense d ? "softmax".equals(d.activation())
                : outputLayer instanceof Activation a && "softmax".equals(a.activation());
    }

    private static double softmax(INDArray z, int row, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < z.size(1); j++) {
            max = Math.max(max, z.getDouble(row, j));
        }
        double sum = 0;
        for (int j = 0; j < z.size(1); j++) {
            sum += Math.exp(z.getDouble(row, j) - max);
        }
        return Math.exp(z.getDouble(row, k) - max) / sum;
    }

    /**
     * Grad-CAM's results for a batch.
     */
    public static final class Result {
        private final String layerName;
        private final INDArray heatmaps;
        private final INDArray channelWeights;
        private final int[] classes;
        private final boolean topClasses;
        private final double[] scores;
        private final double[] probabilities;

        Result(String layerName, INDArray heatmaps, INDArray channelWeights, int[] classes, boolean topClasses,
               double[] scores, double[] probabilities) {
            this.topClasses = topClasses;
            this.layerName = layerName;
            this.heatmaps = heatmaps;
            this.channelWeights = channelWeights;
            this.classes = classes;
            this.scores = scores;
            this.probabilities = probabilities;
        }

        /** The layer the heatmaps were computed on. */
        public String layerName() {
            return layerName;
        }

        /** Every heatmap, (N, H, W), double precision, not normalised (0 where the evidence is not positive). */
        public INDArray heatmaps() {
            return heatmaps;
        }

        /** Example i's heatmap, (H, W). */
        public INDArray heatmap(int i) {
            return heatmaps.slice(i).dup();
        }

        /** Example i's heatmap divided by its maximum, as Keras's example shows it (all zeros stay zeros). */
        public INDArray normalizedHeatmap(int i) {
            INDArray m = heatmap(i);
            double max = m.maxNumber().doubleValue();
            return max > 0 ? m.divi(max) : m;
        }

        /** The channel weights alpha, (N, C): the spatial means of the score's gradient. */
        public INDArray channelWeights() {
            return channelWeights;
        }

        /** The class each heatmap is for. */
        public int[] classes() {
            return classes.clone();
        }

        /** Whether the classes are the model's top predictions (no class was asked for). */
        public boolean topClasses() {
            return topClasses;
        }

        /** The differentiated score of each example's class (its logit where the output activation was left out). */
        public double[] scores() {
            return scores.clone();
        }

        /** The model's probability (its output) for each example's class. */
        public double[] probabilities() {
            return probabilities.clone();
        }

        public int size() {
            return classes.length;
        }

        @Override
        public String toString() {
            return "Grad-CAM on '" + layerName + "': " + size() + " heatmaps of " + heatmaps.size(1) + "x"
                    + heatmaps.size(2) + ", classes " + Arrays.toString(classes);
        }
    }
}
