package io.transferlab.layers;

import io.transferlab.engine.Engines;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.engine.dl4j.Dl4jLowering;
import io.transferlab.inference.Inference;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.train.History;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keras's Rescaling and Normalization: one description each, one lowering per engine. Checked against plain loops
 * in double precision on both engines, parameter counts as Keras counts them, gradients through them against
 * finite differences, and a new weight value reaching both engines.
 */
class PreprocessingLayersTest {
    private static final double[] MEAN = {0.485, 0.456, 0.406};
    private static final double[] VAR = {0.229 * 0.229, 0.224 * 0.224, 0.225 * 0.225};

    @AfterEach
    void backToFloat() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    /** Raw pixels -> x / 255 -> (x - mean) / sqrt(variance), per channel, as EfficientNet's input does. */
    private static Model pixelsToNormalized(boolean constants) {
        Tensor in = Input(6, 5, 3);
        Tensor x = Rescaling(1 / 255.0, 0, "rescale").on(in);
        Normalization norm = constants ? Normalization(MEAN, VAR, "norm") : Normalization("norm");
        x = norm.on(x);
        Model m = Model.of(in, x);
        if (!constants) {
            norm.setWeights(List.of(Nd4j.createFromArray(MEAN).castTo(DataType.FLOAT),
                    Nd4j.createFromArray(VAR).castTo(DataType.FLOAT), Nd4j.scalar(DataType.FLOAT, 1000)));
        }
        return m;
    }

    private static double[] reference(INDArray x) {
        double[] v = x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            int c = i % 3;
            out[i] = (v[i] / 255.0 - MEAN[c]) / Math.max(Math.sqrt(VAR[c]), 1e-7);
        }
        return out;
    }

    private static double maxAbsDiff(double[] want, INDArray got) {
        double[] g = got.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        assertEquals(want.length, g.length);
        double worst = 0;
        for (int i = 0; i < g.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - g[i]));
        }
        return worst;
    }

    @Test
    void bothEnginesComputeKerasArithmetic() {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 6, 5, 3).muli(255);
        double[] want = reference(x);
        for (boolean constants : new boolean[]{false, true}) {
            Model m = pixelsToNormalized(constants);
            assertTrue(Engines.describe(m).startsWith("oneDNN plan"), "the fast plan should cover them: " + Engines.describe(m));
            assertTrue(maxAbsDiff(want, Inference.predict(m, x)) < 1e-5, "oneDNN plan");
            assertTrue(maxAbsDiff(want, Dl4jEngine.get().newNetwork(m).outputSingle(false, x.dup())) < 1e-5, "DL4J");
        }
        // flat features (no plan for Normalization of vectors: the DL4J engine runs it)
        Tensor in = Input(3);
        Model flat = Model.of(in, Normalization(MEAN, VAR).on(Rescaling(1 / 255.0).on(in)));
        INDArray xf = Nd4j.rand(DataType.FLOAT, 4, 3).muli(255);
        assertTrue(maxAbsDiff(reference(xf), flat.predict(xf)) < 1e-5, "flat features");
    }

    @Test
    void parametersAreCountedAsKerasCountsThem() {
        Model weights = pixelsToNormalized(false);
        assertEquals(7, weights.countParams());          // mean (3), variance (3), count ()
        assertEquals(0, weights.trainableParams());
        assertEquals(7, weights.nonTrainableParams());
        assertEquals(List.of("mean[3]", "variance[3]", "count[]"),
                weights.getLayer("norm").weightSpecs().stream().map(WeightSpec::toString).toList());
        assertEquals(0, pixelsToNormalized(true).countParams()); // Keras keeps given mean/variance as constants
        assertEquals(0, weights.getLayer("rescale").countParams());
        // a new Normalization starts at mean 0, variance 1, count 0 (Keras's initial state before adapt)
        Normalization fresh = Normalization();
        fresh.on(Input(4, 4, 2));
        assertEquals(List.of(0.0, 0.0, 1.0, 1.0, 0.0), fresh.getWeights().stream()
                .flatMap(a -> java.util.Arrays.stream(a.castTo(DataType.DOUBLE).data().asDouble()).boxed()).toList());
        assertThrows(IllegalArgumentException.class, () -> Normalization(new double[]{1, 2}, null));
        assertThrows(IllegalArgumentException.class, () -> Normalization(new double[]{0, 0}, new double[]{1, 1}).on(Input(4, 4, 3)));
    }

    @Test
    void newWeightValuesReachBothEngines() {
        Model m = pixelsToNormalized(false);
        INDArray x = Nd4j.ones(DataType.FLOAT, 1, 6, 5, 3).muli(255);
        double before = Dl4jEngine.get().network(m).outputSingle(false, x).getDouble(0);
        double beforePlan = m.predict(x).getDouble(0);
        m.getLayer("norm").setWeights(List.of(Nd4j.zeros(DataType.FLOAT, 3), Nd4j.ones(DataType.FLOAT, 3),
                Nd4j.scalar(DataType.FLOAT, 1)));
        assertEquals(1.0, Dl4jEngine.get().network(m).outputSingle(false, x).getDouble(0), 1e-6);
        assertEquals(1.0, m.predict(x).getDouble(0), 1e-6);
        assertEquals((1 - MEAN[0]) / Math.sqrt(VAR[0]), before, 1e-4);
        assertEquals(before, beforePlan, 1e-5);
    }

    @Test
    void gradientsFlowThroughThemInDoublePrecision() {
        io.transferlab.runtime.Backend.init();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        Shape in = Shape.of(4, 3, 2);
        Conv2D conv = new Conv2D(3, 3, 3, "conv").padding("same").activation("tanh");
        Shape convOut = conv.computeOutputShape(List.of(in));
        Rescaling rescale = new Rescaling(0.5, -0.25, "rescale");
        Normalization norm = new Normalization(new double[]{0.1, -0.2, 0.3}, new double[]{4, 0.25, 1}, "norm");
        var gb = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(3).updater(new NoOp())
                .graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(4, 3, 2, CNN2DFormat.NHWC))
                .addLayer("conv", (org.deeplearning4j.nn.conf.layers.Layer) Dl4jLowering.part(conv, List.of(in)), "in")
                .addLayer("rescale", (org.deeplearning4j.nn.conf.layers.Layer) Dl4jLowering.part(rescale, List.of(convOut)), "conv")
                .addLayer("norm", (org.deeplearning4j.nn.conf.layers.Layer) Dl4jLowering.part(norm, List.of(convOut)), "rescale")
                .addVertex("flat", (org.deeplearning4j.nn.conf.graph.GraphVertex) Dl4jLowering.part(
                        new Reshape(new long[]{convOut.size()}, "flat"), List.of(convOut)), "norm")
                .addLayer("loss", new LossLayer.Builder(LossFunctions.LossFunction.MSE)
                        .activation(org.nd4j.linalg.activations.Activation.IDENTITY).build(), "flat")
                .setOutputs("loss");
        ComputationGraph g = new ComputationGraph(gb.build());
        g.init();
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 4, 3, 2).subi(0.5).muli(2);
        INDArray y = Nd4j.rand(DataType.DOUBLE, 3, convOut.size());
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                .inputs(new INDArray[]{x}).labels(new INDArray[]{y})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
        assertTrue(ok, "the convolution's gradients through Rescaling and Normalization differ from finite differences");
    }

    @Test
    void aModelWithThemTrains() {
        Nd4j.getRandom().setSeed(2);
        INDArray x = Nd4j.rand(DataType.FLOAT, 64, 3).muli(255);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 64, 1);
        for (int i = 0; i < 64; i++) {
            y.putScalar(i, 0, x.getDouble(i, 0) > 127 ? 1 : 0);
        }
        Model m = Sequential.withInput(3).add(Rescaling(1 / 255.0)).add(Normalization(MEAN, VAR))
                .add(Dense(8, "relu")).add(Dense(1, "sigmoid"));
        m.compile(Optimizer.Adam(1e-2), "binary_crossentropy", "accuracy");
        History h = m.fit(x, y, 20, 16, null, null);
        assertTrue(h.epochs().get(19).loss() < h.epochs().get(0).loss() * 0.7, "loss should fall: " + h.epochs());
        assertTrue(m.evaluate(x, y).accuracy() > 0.85);
    }
}
