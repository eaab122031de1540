package io.transferlab.engine.dl4j;

import io.transferlab.optimizers.Optimizer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The library's updater for DL4J networks ({@link KerasUpdater}) computes what DL4J's own RmsProp, Adam and Sgd
 * compute (ND4J's updater ops, an independent implementation): the same change in the gradient array and the same
 * state, step after step, on views into larger arrays as DL4J hands them over; its state never goes subnormal; its
 * configuration survives DL4J's JSON; a network trains to the same weights with either.
 */
class KerasUpdaterTest {

    @AfterEach
    void restore() {
        System.clearProperty("transferlab.fastUpdater");
    }

    /** An array of n values starting 7 values into a larger one, as DL4J's per-block views start. */
    private static INDArray view(long n) {
        INDArray whole = Nd4j.create(DataType.FLOAT, 1, n + 11);
        return whole.get(NDArrayIndex.point(0), NDArrayIndex.interval(7, 7 + n)).reshape(1, n);
    }

    private static double maxRelative(INDArray expected, INDArray actual) {
        double scale = Math.max(expected.amaxNumber().doubleValue(), 1e-30);
        return expected.sub(actual).amaxNumber().doubleValue() / scale;
    }

    @Test
    void sameChangesAndStateAsDl4jsUpdaters() {
        int n = 40_000;   // more than one chunk of the vectorized pass, and not a multiple of it
        Object[][] cases = {
                {Optimizer.RMSprop(1e-3), new RmsProp(1e-3, 0.9, 1e-7)},
                {Optimizer.Adam(1e-3), new Adam(1e-3, 0.9, 0.999, 1e-7)},
                {Optimizer.SGD(0.05, 0), new Sgd(0.05)}};
        for (Object[] c : cases) {
            Optimizer o = (Optimizer) c[0];
            IUpdater theirs = (IUpdater) c[1];
            KerasUpdater mine = KerasUpdater.of(o);
            assertNotNull(mine, o.toString());
            assertEquals(theirs.stateSize(n), mine.stateSize(n), o + ": state size");
            INDArray theirState = theirs.stateSize(n) == 0 ? null : view(theirs.stateSize(n));
            INDArray myState = mine.stateSize(n) == 0 ? null : view(mine.stateSize(n));
            GradientUpdater<?> a = theirs.instantiate(theirState, true);
            GradientUpdater<?> b = mine.instantiate(myState, true);
            if (theirState != null) {
                assertEquals(theirState, myState, o + ": initial state");
            }
            Nd4j.getRandom().setSeed(5);
            for (int step = 0; step < 25; step++) {
                INDArray g = Nd4j.randn(DataType.FLOAT, 1, n).muli(step % 5 == 4 ? 1e-6 : 1e-2);
                INDArray ga = view(n).assign(g);
                INDArray gb = view(n).assign(g);
                a.applyUpdater(ga.reshape(n), step, 0);
                b.applyUpdater(gb.reshape(n), step, 0);
                // Adam's step size lr sqrt(1 - beta2^t) / (1 - beta1^t): ND4J's op computes it in float, the library
                // in double; the rest is the same float arithmetic
                double tolerance = o.kind() == Optimizer.Kind.ADAM ? 3e-5 : 1e-6;
                double change = maxRelative(ga, gb);
                assertTrue(change < tolerance, o + " step " + step + ": changes differ by " + change + " (relative)");
                if (theirState != null) {
                    double state = maxRelative(theirState, myState);
                    assertTrue(state < 1e-6, o + " step " + step + ": state differs by " + state + " (relative)");
                }
            }
            assertEquals(theirs.stateSize(n) == 0 ? Map.of().keySet() : a.getState().keySet(), b.getState().keySet(),
                    o + ": DL4J's state names");
        }
    }

    @Test
    void stateOfWeightsWithoutGradientNeverGoesSubnormal() {
        int n = 64;
        KerasUpdater adam = KerasUpdater.of(Optimizer.Adam(1e-3));
        INDArray state = view(adam.stateSize(n));
        GradientUpdater<?> u = adam.instantiate(state, true);
        u.applyUpdater(Nd4j.randn(DataType.FLOAT, n).muli(1e-2), 0, 0);   // one real step fills the state
        for (int it = 1; it < 3_000; it++) {
            u.applyUpdater(Nd4j.zeros(DataType.FLOAT, n), it, 0);          // then the units die
        }
        for (float s : state.data().asFloat()) {
            assertFalse(s != 0 && Math.abs(s) < Float.MIN_NORMAL, "subnormal optimizer state " + s);
        }
    }

    /** A small DL4J network trained with the given updater for 20 steps; returns its weights. */
    private static INDArray train(IUpdater updater) {
        var conf = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).seed(4).updater(updater)
                .graphBuilder().addInputs("in")
                .addLayer("fc", new DenseLayer.Builder().nIn(12).nOut(16)
                        .activation(org.nd4j.linalg.activations.Activation.RELU).build(), "in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.XENT).nIn(16).nOut(1)
                        .activation(org.nd4j.linalg.activations.Activation.SIGMOID).build(), "fc")
                .setOutputs("out").build();
        var net = new org.deeplearning4j.nn.graph.ComputationGraph(conf);
        net.init();
        Nd4j.getRandom().setSeed(8);
        INDArray x = Nd4j.randn(DataType.FLOAT, 32, 12);
        INDArray y = x.getColumn(0).gt(0).castTo(DataType.FLOAT).reshape(32, 1);
        for (int i = 0; i < 20; i++) {
            net.fit(new org.nd4j.linalg.dataset.DataSet(x, y));
        }
        return net.params().dup();
    }

    @Test
    void networkTrainsAsWithDl4jsUpdaterAndItsConfigurationSurvivesJson() {
        INDArray before = null;
        for (Object[] c : new Object[][]{{Optimizer.Adam(1e-2), new Adam(1e-2, 0.9, 0.999, 1e-7)},
                {Optimizer.RMSprop(1e-2), new RmsProp(1e-2, 0.9, 1e-7)}}) {
            KerasUpdater mine = KerasUpdater.of((Optimizer) c[0]);
            INDArray a = train((IUpdater) c[1]);
            INDArray b = train(mine);
            assertTrue(maxRelative(a, b) < 1e-5, c[0] + ": weights after 20 steps differ by " + maxRelative(a, b));
            before = a;
        }
        assertNotNull(before);

        var conf = new NeuralNetConfiguration.Builder().updater(KerasUpdater.of(Optimizer.SGD(0.1, 0.9)))
                .graphBuilder().addInputs("in")
                .addLayer("out", new OutputLayer.Builder().nIn(3).nOut(2).build(), "in").setOutputs("out").build();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        assertEquals(KerasUpdater.of(Optimizer.SGD(0.1, 0.9)),
                ((org.deeplearning4j.nn.conf.layers.BaseLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex)
                        back.getVertices().get("out")).getLayerConf().getLayer()).getIUpdater());
    }

    @Test
    void switchTakesDl4jsOwnUpdatersAndNesterovStaysOnDl4j() {
        assertInstanceOf(KerasUpdater.class, Dl4jOptimizers.updater(Optimizer.Adam(1e-3)));
        System.setProperty("transferlab.fastUpdater", "false");
        assertInstanceOf(Adam.class, Dl4jOptimizers.updater(Optimizer.Adam(1e-3)));
        assertInstanceOf(RmsProp.class, Dl4jOptimizers.updater(Optimizer.RMSprop(1e-3)));
        assertInstanceOf(KerasUpdater.class, Dl4jOptimizers.updater(Optimizer.SGD(0.1, 0.9)),
                "DL4J has no classical momentum");
        System.clearProperty("transferlab.fastUpdater");
        assertNull(KerasUpdater.of(Optimizer.SGD(0.1, 0.9, true)));
        assertInstanceOf(org.nd4j.linalg.learning.config.Nesterovs.class,
                Dl4jOptimizers.updater(Optimizer.SGD(0.1, 0.9, true)));
    }
}
