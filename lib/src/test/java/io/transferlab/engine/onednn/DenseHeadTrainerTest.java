package io.transferlab.engine.onednn;

import io.transferlab.engine.dl4j.KerasUpdater;
import io.transferlab.engine.dl4j.Dl4jOptimizers;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.train.History;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Layers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The fast path for classifier heads trains exactly as DL4J does (same weights after several epochs, same
 * optimizer state, same reported loss) for RMSprop, Adam and SGD, binary and categorical heads, with and without
 * a Flatten in front; and it hands models it cannot train to DL4J.
 */
class DenseHeadTrainerTest {

    @AfterEach
    void restore() {
        System.clearProperty("transferlab.fastHead");
        System.clearProperty("transferlab.fastUpdater");
    }

    private static void copyWeights(Model from, Model to) {
        for (Layer l : from.layers()) {
            if (l.getWeights() != null && !l.weightSpecs().isEmpty()) {
                List<INDArray> w = new ArrayList<>();
                l.getWeights().forEach(a -> w.add(a.dup()));
                to.getLayer(l.name()).setWeights(w);
            }
        }
    }

    /** Trains two copies of the same model, one per path, and compares their weights, state and history. */
    private static void assertSameTraining(Supplier<Model> make, Optimizer opt, String loss, INDArray x, INDArray y) {
        Model dl4j = make.get();
        Model fast = make.get();
        dl4j.compile(opt, loss, "accuracy");
        fast.compile(opt, loss, "accuracy");
        copyWeights(dl4j, fast);
        new DenseHeadTrainer(fast, fast.optimizer(), fast.loss(), Dl4jEngine.get().network(fast, fast.optimizer(), fast.loss())).close(); // throws (saying why) when not on the fast path

        System.setProperty("transferlab.fastHead", "false");
        System.setProperty("transferlab.fastUpdater", "false");   // DL4J's own updaters: the independent truth
        History a = dl4j.fit(x, y, 3, 8, null, null);
        System.clearProperty("transferlab.fastUpdater");
        System.setProperty("transferlab.fastHead", "true");
        History b = fast.fit(x, y, 3, 8, null, null);

        INDArray pa = Dl4jEngine.get().network(dl4j).params();
        INDArray pb = Dl4jEngine.get().network(fast).params();
        double scale = Transforms.abs(pa).maxNumber().doubleValue();
        double err = Transforms.abs(pa.sub(pb)).maxNumber().doubleValue() / scale;
        assertTrue(err < 2e-5, opt + " " + loss + ": weights differ by " + err + " (relative)");
        INDArray sa = Dl4jEngine.get().network(dl4j).getUpdater().getStateViewArray();
        INDArray sb = Dl4jEngine.get().network(fast).getUpdater().getStateViewArray();
        if (sa != null) {
            double sScale = Math.max(1e-12, Transforms.abs(sa).maxNumber().doubleValue());
            assertTrue(Transforms.abs(sa.sub(sb)).maxNumber().doubleValue() / sScale < 1e-4, "optimizer state differs");
        }
        assertEquals(Dl4jEngine.get().network(dl4j).getIterationCount(), Dl4jEngine.get().network(fast).getIterationCount());
        for (int e = 0; e < 3; e++) {
            assertEquals(a.epochs().get(e).loss(), b.epochs().get(e).loss(), 1e-3 * Math.abs(a.epochs().get(e).loss()), "loss of epoch " + (e + 1));
        }
        // the layers see the trained weights (what predict and save use)
        assertEquals(0, Transforms.abs(dl4j.predict(x).sub(fast.predict(x))).maxNumber().doubleValue(), 1e-4);
    }

    private static INDArray features(long n, long... shape) {
        Nd4j.getRandom().setSeed(21);
        long[] s = new long[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return Nd4j.rand(DataType.FLOAT, s).subi(0.5);
    }

    private static INDArray binaryLabels(INDArray x) {
        // a learnable rule: the sign of the sum of the first features
        long n = x.size(0);
        INDArray flat = x.reshape(n, x.length() / n);
        return flat.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4))
                .sum(true, 1).gt(0).castTo(DataType.FLOAT);
    }

    @Test
    void binaryHeadWithRmspropMatchesDl4j() {
        INDArray x = features(40, 64);
        Supplier<Model> make = () -> Sequential.withInput(64)
                .add(Layers.Dense(32, "relu", "fc1"))
                .add(Layers.Dropout(0.0, "drop"))
                .add(Layers.Dense(16, "tanh", "fc2"))
                .add(Layers.Dense(1, "sigmoid", "out"));
        assertSameTraining(make, Optimizer.RMSprop(1e-3), "binary_crossentropy", x, binaryLabels(x));
    }

    /** Heads with more weights than one optimizer chunk (16,384): the pass is shared between threads. */
    @Test
    void optimizerPassSharedBetweenThreadsMatchesDl4j() {
        INDArray x = features(40, 300);
        Supplier<Model> make = () -> Sequential.withInput(300)
                .add(Layers.Dense(130, "relu", "fc"))
                .add(Layers.Dense(1, "sigmoid", "out"));
        try {
            for (String threads : new String[]{"2", "1"}) {
                System.setProperty("transferlab.headUpdateThreads", threads);
                assertSameTraining(make, Optimizer.Adam(1e-3), "binary_crossentropy", x, binaryLabels(x));
                assertSameTraining(make, Optimizer.RMSprop(1e-3), "binary_crossentropy", x, binaryLabels(x));
            }
        } finally {
            System.clearProperty("transferlab.headUpdateThreads");
        }
    }

    /**
     * Large Dense layers get their weight gradient a tile of rows at a time inside the optimizer step: small tiles
     * here (uneven last tiles, a tiled layer below another one whose input gradient needs the weights before they
     * change, Adam's two state slots and RMSprop's one) train as DL4J does.
     */
    @Test
    void tiledWeightGradientsMatchDl4j() {
        INDArray x = features(40, 300);
        Supplier<Model> make = () -> Sequential.withInput(300)
                .add(Layers.Dense(131, "relu", "fc1"))      // 39,300 weights: tiles of 2 rows, the last of 1
                .add(Layers.Dropout(0.0, "drop"))          // DL4J draws its own masks: none here
                .add(Layers.Dense(61, "tanh", "fc2"))       // 7,991: tiles of 6 rows, the last of 1
                .add(Layers.Dense(1, "sigmoid", "out"));    // untiled
        try {
            System.setProperty("transferlab.headTileFloats", "800");
            for (String threads : new String[]{"2", "1"}) {
                System.setProperty("transferlab.headUpdateThreads", threads);
                assertSameTraining(make, Optimizer.Adam(1e-3), "binary_crossentropy", x, binaryLabels(x));
                assertSameTraining(make, Optimizer.RMSprop(1e-3), "binary_crossentropy", x, binaryLabels(x));
            }
            Model m = make.get();
            m.compile(Optimizer.RMSprop(1e-3), "binary_crossentropy", "accuracy");
            DenseHeadTrainer t = new DenseHeadTrainer(m, m.optimizer(), m.loss(),
                    Dl4jEngine.get().network(m, m.optimizer(), m.loss()));
            assertEquals(List.of(true, false, false, true, false, false, false), t.tiledSteps(),
                    "fc1 and fc2 tiled, the output layer not");
            t.close();
        } finally {
            System.clearProperty("transferlab.headTileFloats");
            System.clearProperty("transferlab.headUpdateThreads");
        }
    }

    /** The default tile fills one core's L2 cache; the property overrides it. */
    @Test
    void defaultTileIsOneCoresL2Cache() {
        assertEquals(io.transferlab.runtime.Backend.l2CacheBytes() / Float.BYTES, DenseHeadTrainer.DEFAULT_TILE_FLOATS);
        try {
            System.setProperty("transferlab.headTileFloats", "4096");
            assertEquals(4096, DenseHeadTrainer.tileFloats());
            System.setProperty("transferlab.headTileFloats", "");
            assertEquals(DenseHeadTrainer.DEFAULT_TILE_FLOATS, DenseHeadTrainer.tileFloats());
        } finally {
            System.clearProperty("transferlab.headTileFloats");
        }
    }

    @Test
    void flattenedFeaturesWithAdamMatchDl4j() {
        INDArray x = features(24, 2, 2, 16);
        Supplier<Model> make = () -> Sequential.withInput(2, 2, 16)
                .add(Layers.Flatten("flatten"))
                .add(Layers.Dense(20, "relu", "fc"))
                .add(Layers.Dense(1, "sigmoid", "out"));
        assertSameTraining(make, Optimizer.Adam(1e-3), "binary_crossentropy", x, binaryLabels(x));
    }

    @Test
    void softmaxHeadWithSgdAndAdamMatchesDl4j() {
        INDArray x = features(30, 48);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 30, 3);
        for (int i = 0; i < 30; i++) {
            y.putScalar(i, x.getDouble(i, 0) > 0.2 ? 0 : x.getDouble(i, 1) > 0 ? 1 : 2, 1);
        }
        Supplier<Model> make = () -> Sequential.withInput(48)
                .add(Layers.Dense(24, "sigmoid", "fc"))
                .add(Layers.Activation("relu", "act"))
                .add(Layers.Dense(3, "softmax", "out"));
        assertSameTraining(make, Optimizer.SGD(0.1, 0), "categorical_crossentropy", x, y);
        assertSameTraining(make, Optimizer.Adam(1e-2), "categorical_crossentropy", x, y);
        assertSameTraining(make, Optimizer.SGD(0.05, 0.9), "categorical_crossentropy", x, y);
    }

    /**
     * Validation inside fit runs on the head trainer's own weights (no write-back, no new inference plan per epoch):
     * its figures equal those of evaluate() after a write-back, which a callback forces, epoch by epoch; and the
     * step's predictions equal the model's after a write-back, for a binary head and a softmax head on flattened
     * features, in batches of another size than training's.
     */
    @Test
    void validationOnTheTrainersWeightsEqualsEvaluateAfterWriteBack() {
        INDArray x = features(60, 40);
        INDArray y = binaryLabels(x);
        INDArray xv = features(26, 40).muli(1.5);
        INDArray yv = binaryLabels(xv);
        Supplier<Model> make = () -> Sequential.withInput(40)
                .add(Layers.Dense(32, "relu", "fc"))
                .add(Layers.Dropout(0.5, "drop"))
                .add(Layers.Dense(1, "sigmoid", "out"));
        Model onStep = make.get();
        Model written = make.get();
        copyWeights(onStep, written);
        onStep.compile(Optimizer.RMSprop(3e-3), "binary_crossentropy", "accuracy");
        written.compile(Optimizer.RMSprop(3e-3), "binary_crossentropy", "accuracy");
        History a = onStep.fit(x, y, 4, 8, xv, yv);
        History b = written.fit(x, y, 4, 8, xv, yv, new io.transferlab.train.Callback() { });
        for (int e = 0; e < 4; e++) {
            var ea = a.epochs().get(e);
            var eb = b.epochs().get(e);
            assertEquals(eb.loss(), ea.loss(), 0, "training is the same either way, epoch " + (e + 1));
            assertEquals(eb.valLoss(), ea.valLoss(), 1e-6 * Math.abs(eb.valLoss()), "val_loss of epoch " + (e + 1));
            assertEquals(eb.valAccuracy(), ea.valAccuracy(), 0, "val_accuracy of epoch " + (e + 1));
        }
        // the write-back at the end of fit: the layers hold the trained weights either way
        assertEquals(0, Transforms.abs(onStep.predict(xv).sub(written.predict(xv))).maxNumber().doubleValue(), 0);

        INDArray xf = features(23, 2, 2, 6);
        INDArray yf = Nd4j.zeros(DataType.FLOAT, 23, 3);
        for (int i = 0; i < 23; i++) {
            yf.putScalar(i, xf.getDouble(i, 0, 0, 0) > 0.2 ? 0 : xf.getDouble(i, 0, 0, 1) > 0 ? 1 : 2, 1);
        }
        Model softmax = Sequential.withInput(2, 2, 6)
                .add(Layers.Flatten("flat"))
                .add(Layers.Dense(16, "tanh", "fc"))
                .add(Layers.Dropout(0.3, "drop"))
                .add(Layers.Dense(3, "softmax", "out"));
        softmax.compile(Optimizer.Adam(1e-2), "categorical_crossentropy", "accuracy");
        for (Model m : List.of(onStep, softmax)) {
            INDArray mx = m == softmax ? xf : x;
            INDArray my = m == softmax ? yf : y;
            try (var step = io.transferlab.engine.Engines.trainStep(m, m.optimizer(), m.loss(), false)) {
                assertTrue(step.predicts(), step.describe());
                for (int i = 0; i + 8 <= mx.size(0); i += 8) {
                    step.fit(mx.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 8)).dup(),
                            my.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 8)).dup());
                }
                INDArray before = m.predict(mx);
                INDArray p = step.predict(mx.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 7)).dup());
                step.writeBack();
                INDArray after = m.predict(mx).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 7));
                assertArrayEquals(after.shape(), p.shape());
                assertTrue(Transforms.abs(before.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 7)).sub(after))
                        .maxNumber().doubleValue() > 1e-4, "training moved the weights");
                assertEquals(0, Transforms.abs(p.sub(after)).maxNumber().doubleValue(), 2e-6, m.name());
            }
        }
    }

    @Test
    void sgdMomentumIsKerasClassicalMomentum() {
        // Keras: velocity = momentum * velocity - lr * g; w += velocity. Two steps with g = (1, 2, 3):
        // w moves by -0.1 g, then by -0.19 g. DL4J subtracts what the updater leaves in the gradient.
        var updater = KerasUpdater.of(Optimizer.SGD(0.1, 0.9)).instantiate(Nd4j.zeros(DataType.FLOAT, 1, 3), true);
        INDArray g1 = Nd4j.createFromArray(new float[]{1, 2, 3}).reshape(1, 3);
        updater.applyUpdater(g1, 0, 0);
        assertEquals(Nd4j.createFromArray(new float[]{0.1f, 0.2f, 0.3f}).reshape(1, 3), g1);
        INDArray g2 = Nd4j.createFromArray(new float[]{1, 2, 3}).reshape(1, 3);
        updater.applyUpdater(g2, 1, 0);
        assertEquals(0, Transforms.abs(g2.sub(Nd4j.createFromArray(new float[]{0.19f, 0.38f, 0.57f}).reshape(1, 3)))
                .maxNumber().doubleValue(), 1e-6);
        assertTrue(Dl4jOptimizers.updater(Optimizer.SGD(0.1, 0.9)) instanceof KerasUpdater);
        assertTrue(Dl4jOptimizers.updater(Optimizer.SGD(0.1, 0.9, true)) instanceof org.nd4j.linalg.learning.config.Nesterovs);
    }

    @Test
    void dropoutTrainsAndFrozenOrConvolutionalModelsGoToDl4j() {
        INDArray x = features(64, 32);
        INDArray y = binaryLabels(x);
        Model m = Sequential.withInput(32)
                .add(Layers.Dense(64, "relu", "fc"))
                .add(Layers.Dropout(0.5, "drop"))
                .add(Layers.Dense(1, "sigmoid", "out"));
        m.compile(Optimizer.RMSprop(3e-3), "binary_crossentropy", "accuracy");
        History h = m.fit(x, y, 15, 16, null, null);
        assertTrue(h.epochs().get(14).loss() < h.epochs().get(0).loss() * 0.8, "loss should fall: " + h.epochs().get(0).loss() + " -> " + h.epochs().get(14).loss());
        assertTrue(m.evaluate(x, y).accuracy() > 0.8, "a separable rule should be learnt");

        m.getLayer("fc").setTrainable(false);
        m.compile(Optimizer.RMSprop(3e-3), "binary_crossentropy", "accuracy");
        var why = assertThrows(UnsupportedOperationException.class, () -> new DenseHeadTrainer(m, m.optimizer(), m.loss(),
                Dl4jEngine.get().network(m, m.optimizer(), m.loss()))).getMessage();
        assertTrue(why.contains("'fc'"), why);

        Model conv = Sequential.withInput(8, 8, 3)
                .add(Layers.Conv2D(4, 3, "relu", "conv"))
                .add(Layers.Flatten("flat"))
                .add(Layers.Dense(1, "sigmoid", "out"));
        conv.compile(Optimizer.RMSprop(1e-3), "binary_crossentropy", "accuracy");
        why = assertThrows(UnsupportedOperationException.class, () -> new DenseHeadTrainer(conv, conv.optimizer(), conv.loss(),
                Dl4jEngine.get().network(conv, conv.optimizer(), conv.loss()))).getMessage();
        assertTrue(why.contains("'conv'"), why);
    }
}
