package io.transferlab.layers;

import io.transferlab.engine.dl4j.Dl4jLowering;
import io.transferlab.engine.dl4j.KerasBatchNormalization;
import io.transferlab.engine.dl4j.KerasReshapeVertex;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Keras's BatchNormalization(scale=False) under training in DL4J: gamma, which Keras does not have, must stay 1
 * whatever the optimizer does; beta learns; the moving statistics follow Keras's momentum rule. The training passes
 * on oneDNN's primitives give what plain loops in double precision give, and what DL4J's own path gives.
 */
class BatchNormalizationTrainingTest {

    private static ComputationGraph graph(BatchNormalization bn, Shape in) {
        io.transferlab.runtime.Backend.init();   // DL4J's oneDNN helpers on, as the library runs
        Object conf = Dl4jLowering.part(bn, List.of(in));
        var gb = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).seed(1).updater(new Adam(0.05))
                .graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(in.get(0), in.get(1), in.get(2), CNN2DFormat.NHWC))
                .addLayer("bn", (org.deeplearning4j.nn.conf.layers.Layer) conf, "in")
                .addVertex("flat", new KerasReshapeVertex(in.size()), "bn")
                .addLayer("loss", new LossLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY).build(), "flat")
                .setOutputs("loss");
        ComputationGraph g = new ComputationGraph(gb.build());
        g.init();
        g.initGradientsView();
        return g;
    }

    @Test
    void gammaStaysOneWithScaleFalseWhileBetaAndMovingStatisticsMove() {
        Shape in = Shape.of(3, 3, 4);
        BatchNormalization bn = new BatchNormalization("bn").scale(false).momentum(0.9);
        bn.on(Layers.Input(3, 3, 4));
        ComputationGraph g = graph(bn, in);
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 3, 3, 4).muli(4).addi(1);   // mean about 3
        INDArray y = Nd4j.rand(DataType.FLOAT, 8, 36).muli(3);

        INDArray mean0 = g.getLayer("bn").getParam("mean").dup();
        g.fit(new INDArray[]{x}, new INDArray[]{y});
        INDArray batchMean = x.mean(0, 1, 2);
        INDArray expected = mean0.reshape(4).mul(0.9).add(batchMean.mul(0.1));
        assertTrue(expected.equalsWithEps(g.getLayer("bn").getParam("mean").reshape(4), 1e-4),
                "moving_mean = momentum * moving_mean + (1 - momentum) * batch mean");

        for (int i = 0; i < 20; i++) {
            g.fit(new INDArray[]{x}, new INDArray[]{y});
        }
        assertEquals(Nd4j.ones(DataType.FLOAT, 1, 4), g.getLayer("bn").getParam("gamma").reshape(1, 4),
                "gamma must stay exactly 1 (Keras scale=False)");
        assertTrue(g.getLayer("bn").getParam("beta").amaxNumber().doubleValue() > 0.1, "beta should learn");

        // the configuration survives DL4J's JSON round trip (used to save and clone networks)
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(g.getConfiguration().toJson());
        assertEquals(g.getConfiguration(), back);
        ComputationGraph clone = g.clone();
        assertEquals(g.outputSingle(false, x), clone.outputSingle(false, x));
        var bnConf = (KerasBatchNormalization) ((org.deeplearning4j.nn.conf.graph.LayerVertex) back.getVertices().get("bn")).getLayerConf().getLayer();
        assertTrue(bnConf.isFixedGamma());
        assertFalse(bnConf.isFixedBeta());
        assertEquals(1e-3, bnConf.getEps());
        assertFalse(bnConf.isUseLogStd());
    }

    /** One training forward and backward pass of the layer, on oneDNN's primitives or on DL4J's own code. */
    private record Pass(INDArray y, INDArray dx, INDArray dGamma, INDArray dBeta, INDArray dMean, INDArray dVar,
                        boolean onPrimitives) {
    }

    private static Pass pass(BatchNormalization bn, INDArray x, INDArray dy, INDArray gamma, INDArray beta,
                             INDArray movingMean, INDArray movingVar, boolean primitives) {
        if (!primitives) {
            System.setProperty("transferlab.bnTraining", "false");
        }
        try {
            ComputationGraph g = graph(bn, Shape.of(x.size(1), x.size(2), x.size(3)));
            var layer = (KerasBatchNormalization.Impl) g.getLayer("bn");
            layer.getParam("gamma").assign(gamma.reshape(1, -1));
            layer.getParam("beta").assign(beta.reshape(1, -1));
            layer.getParam("mean").assign(movingMean.reshape(1, -1));
            layer.getParam("var").assign(movingVar.reshape(1, -1));
            var ws = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
            layer.setInput(x, ws);
            INDArray y = layer.activate(true, ws).dup();
            var back = layer.backpropGradient(dy, ws);
            var grad = back.getFirst();
            return new Pass(y, back.getSecond().dup(), grad.getGradientFor("gamma").dup().reshape(-1),
                    grad.getGradientFor("beta").dup().reshape(-1), grad.getGradientFor("mean").dup().reshape(-1),
                    grad.getGradientFor("var").dup().reshape(-1), layer.onTrainingPrimitives());
        } finally {
            System.clearProperty("transferlab.bnTraining");
        }
    }

    private static void assertClose(double[] expected, INDArray actual, double tolerance, String what) {
        double[] a = actual.castTo(DataType.DOUBLE).data().asDouble();
        assertEquals(expected.length, a.length, what);
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - expected[i]) > tolerance * Math.max(scale, 1e-3)) {
                fail(what + "[" + i + "]: expected " + expected[i] + ", got " + a[i]);
            }
        }
    }

    /**
     * The training forward and backward passes of batch normalization on oneDNN's primitives, against plain loops in
     * double precision: the output, the gradients at the input, gamma and beta, and the moving statistics' update,
     * with gamma held at 1 (scale=False) and learnt (scale=True); for a dense input and for the permuted view DL4J's
     * own channels-last layers hand over. DL4J's own path (TL_BN_TRAINING=0) gives the same numbers.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "scale={0}, permuted input={1}")
    @org.junit.jupiter.params.provider.CsvSource({"true,false", "false,false", "true,true"})
    void trainingPassesOnPrimitivesEqualDoublePrecisionLoops(boolean scale, boolean permuted) {
        int n = 3, h = 5, w = 4, c = 37;   // c: vectors of 16 and a remainder
        double eps = 1e-3, momentum = 0.9;
        Nd4j.getRandom().setSeed(17);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, h, w, c).muli(6).subi(1);
        if (permuted) {   // the same values as a channels-last view of a channels-first array
            x = x.permute(0, 3, 1, 2).dup('c').permute(0, 2, 3, 1);
            assertFalse(io.transferlab.runtime.FloatArrays.denseInCOrder(x));
        }
        INDArray dy = Nd4j.randn(DataType.FLOAT, n, h, w, c);
        INDArray gamma = scale ? Nd4j.rand(DataType.FLOAT, c).addi(0.5) : Nd4j.ones(DataType.FLOAT, c);
        INDArray beta = Nd4j.randn(DataType.FLOAT, c);
        INDArray movingMean = Nd4j.randn(DataType.FLOAT, c);
        INDArray movingVar = Nd4j.rand(DataType.FLOAT, c).addi(0.5);

        // the truth, in double precision
        int m = n * h * w;
        double[] xs = x.dup('c').castTo(DataType.DOUBLE).data().asDouble();
        double[] dys = dy.castTo(DataType.DOUBLE).data().asDouble();
        double[] g = gamma.castTo(DataType.DOUBLE).data().asDouble();
        double[] b = beta.castTo(DataType.DOUBLE).data().asDouble();
        double[] mean = new double[c], var = new double[c], dBeta = new double[c], dGamma = new double[c];
        for (int r = 0; r < m; r++) {
            for (int k = 0; k < c; k++) {
                mean[k] += xs[r * c + k] / m;
            }
        }
        for (int r = 0; r < m; r++) {
            for (int k = 0; k < c; k++) {
                double d = xs[r * c + k] - mean[k];
                var[k] += d * d / m;
            }
        }
        double[] y = new double[m * c], dx = new double[m * c], xhat = new double[m * c];
        for (int r = 0; r < m; r++) {
            for (int k = 0; k < c; k++) {
                int i = r * c + k;
                xhat[i] = (xs[i] - mean[k]) / Math.sqrt(var[k] + eps);
                y[i] = g[k] * xhat[i] + b[k];
                dBeta[k] += dys[i];
                dGamma[k] += dys[i] * xhat[i];
            }
        }
        for (int r = 0; r < m; r++) {
            for (int k = 0; k < c; k++) {
                int i = r * c + k;
                dx[i] = g[k] / Math.sqrt(var[k] + eps) / m * (m * dys[i] - dBeta[k] - xhat[i] * dGamma[k]);
            }
        }
        double[] dMean = new double[c], dVar = new double[c];
        for (int k = 0; k < c; k++) {
            dMean[k] = (1 - momentum) * (movingMean.getDouble(k) - mean[k]);
            dVar[k] = (1 - momentum) * (movingVar.getDouble(k) - var[k]);
        }

        BatchNormalization bn = new BatchNormalization("bn").scale(scale).momentum(momentum).epsilon(eps);
        bn.on(Layers.Input(h, w, c));
        for (boolean primitives : new boolean[]{true, false}) {
            Pass p = pass(bn, x, dy, gamma, beta, movingMean, movingVar, primitives);
            String path = primitives ? "oneDNN: " : "DL4J: ";
            assertEquals(primitives, p.onPrimitives(), path + "which path ran");
            assertClose(y, p.y(), 1e-5, path + "output");
            assertClose(dx, p.dx(), 1e-4, path + "input gradient");
            assertClose(scale ? dGamma : new double[c], p.dGamma(), 1e-4, path + "gamma gradient");
            assertClose(dBeta, p.dBeta(), 1e-4, path + "beta gradient");
            assertClose(dMean, p.dMean(), 1e-5, path + "moving mean update");
            assertClose(dVar, p.dVar(), 1e-5, path + "moving variance update");
        }
    }
}
