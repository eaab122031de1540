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
 * whatever the optimizer does; beta learns; the moving statistics follow Keras's momentum rule.
 */
class BatchNormalizationTrainingTest {

    private static ComputationGraph graph(BatchNormalization bn, Shape in) {
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
}
