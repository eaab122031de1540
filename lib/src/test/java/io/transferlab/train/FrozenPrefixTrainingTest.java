package io.transferlab.train;

import io.transferlab.engine.Engines;
import io.transferlab.graph.Functional;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.DepthwiseConv2D;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Fine-tuning with a frozen prefix (the prefix forward on the oneDNN inference plan, the rest trained on DL4J) ends
 * where training the whole network on DL4J ends (TL_FAST_FINETUNE=0): weights, training and validation figures,
 * for a VGG-like and a MobileNet-like model (nested base, frozen batch norms with non-trivial statistics, a
 * trainable batch norm after the cut, dropout in the head), with Adam and RMSprop; checkpoints written on one path
 * resume on the other.
 */
class FrozenPrefixTrainingTest {
    @TempDir
    Path tmp;

    /** Random moving statistics, so that a frozen batch norm in inference mode differs clearly from training mode. */
    private static void statistics(BatchNormalization bn, long seed) {
        Random r = new Random(seed);
        List<INDArray> w = bn.getWeights();
        int c = (int) w.get(0).length();
        float[] gamma = new float[c], beta = new float[c], mean = new float[c], var = new float[c];
        for (int i = 0; i < c; i++) {
            gamma[i] = 0.5f + r.nextFloat();
            // beta > 0 and a small mean keep every channel alive after the ReLU: a channel that is zero for the
            // whole batch has a gradient that is zero in exact arithmetic, and Adam turns the rounding noise of a
            // zero gradient into steps of the learning rate whose sign depends on that noise
            beta[i] = 0.3f + 0.5f * r.nextFloat();
            mean[i] = 0.2f * (r.nextFloat() - 0.5f);
            var[i] = 0.3f + r.nextFloat();
        }
        bn.setWeights(List.of(Nd4j.create(gamma), Nd4j.create(beta), Nd4j.create(mean), Nd4j.create(var)));
    }

    /** Conv-BN-Conv-pool frozen, conv block trainable, Flatten + Dense + Dropout + softmax head. */
    static Model vggLike() {
        return vggLike("b1_pool", 0.3);
    }

    /**
     * Everything up to the last pooling frozen: the suffix is a classifier head (its Dropout at rate 0, since the
     * head trainer draws other masks than DL4J), which trains on the oneDNN engine's head trainer.
     */
    static Model vggLikeHeadOnly() {
        return vggLike("b2_pool", 0.0);
    }

    static Model vggLike(String frozenUpTo, double dropout) {
        Tensor in = Input(16, 16, 3);
        Tensor x = new Conv2D(8, 3, 3, "b1_conv1").padding("same").on(in);
        BatchNormalization bn = new BatchNormalization("b1_bn");
        x = bn.on(x);
        x = ReLU().on(x);
        x = new Conv2D(8, 3, 3, "b1_conv2").padding("same").activation("relu").on(x);
        x = MaxPooling2D(2, "b1_pool").on(x);
        x = new Conv2D(12, 3, 3, "b2_conv1").padding("same").activation("relu").on(x);
        x = new Conv2D(12, 3, 3, "b2_conv2").padding("same").activation("relu").on(x);
        x = MaxPooling2D(2, "b2_pool").on(x);
        x = Flatten("flatten").on(x);
        x = Dense(16, "relu", "fc").on(x);
        x = Dropout(dropout, "drop").on(x);
        Model m = Model.of("vgg_like", in, Dense(3, "softmax", "out").on(x));
        m.freezeUpTo(frozenUpTo);
        statistics(bn, 3);
        return m;
    }

    /** A nested MobileNet-like base (strided conv, depthwise blocks, batch norms, ReLU6), its last block trainable. */
    static Model mobileNetLike() {
        Tensor bin = Input(16, 16, 3);
        Tensor x = new Conv2D(8, 3, 3, "conv1").strides(2, 2).padding("same").useBias(false).on(bin);
        x = new BatchNormalization("conv1_bn").on(x);
        x = ReLU(6.0, "conv1_relu").on(x);
        x = new DepthwiseConv2D(3, 3, "dw_1").padding("same").useBias(false).on(x);
        x = new BatchNormalization("dw_1_bn").on(x);
        x = ReLU(6.0, "dw_1_relu").on(x);
        x = new Conv2D(12, 1, 1, "pw_1").useBias(false).on(x);
        x = new BatchNormalization("pw_1_bn").on(x);
        x = ReLU(6.0, "pw_1_relu").on(x);
        x = new DepthwiseConv2D(3, 3, "dw_2").strides(2, 2).padding("same").useBias(false).on(x);
        x = new BatchNormalization("dw_2_bn").on(x);
        x = ReLU(6.0, "dw_2_relu").on(x);
        x = new Conv2D(16, 1, 1, "pw_2").useBias(false).on(x);
        x = new BatchNormalization("pw_2_bn").on(x);
        x = ReLU(6.0, "pw_2_relu").on(x);
        Model base = Model.of("mobile_base", bin, x);
        base.freeze();
        base.setTrainable(true);
        base.freezeUpTo("pw_1_relu");
        long seed = 10;
        for (Layer l : base.layers()) {
            if (l instanceof BatchNormalization bn) {
                statistics(bn, seed++);
            }
        }
        Tensor in = Input(16, 16, 3);
        Tensor f = base.on(in);
        f = GlobalAveragePooling2D().on(f);
        f = Dropout(0.2, "head_drop").on(f);
        return Model.of("mobile_like", in, Dense(3, "softmax", "preds").on(f));
    }

    static INDArray[] data(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, 16, 16, 3);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            y.putScalar(i, c, 1);
            x.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(c)).addi(0.7);
        }
        return new INDArray[]{x, y};
    }

    /** A second copy of the model with the first one's weights. */
    private static Model copyOf(Model a, Supplier<Model> build) {
        Model b = build.get();
        List<Functional.Leaf> la = a.leaves(), lb = b.leaves();
        assertEquals(la.size(), lb.size());
        for (int i = 0; i < la.size(); i++) {
            if (la.get(i).layer().getWeights() != null && !la.get(i).layer().weightSpecs().isEmpty()) {
                lb.get(i).layer().setWeights(la.get(i).layer().getWeights().stream().map(INDArray::dup).toList());
            }
        }
        return b;
    }

    private static History fit(Model m, Optimizer opt, boolean fast, int epochs, ModelCheckpoint ck, INDArray[] tr,
                               INDArray[] val) {
        String old = System.getProperty("transferlab.fastFinetune");
        System.setProperty("transferlab.fastFinetune", Boolean.toString(fast));
        try {
            if (m.optimizer() == null) {
                m.compile(opt, "categorical_crossentropy", "accuracy");
            }
            return ck == null ? m.fit(tr[0], tr[1], epochs, 8, val[0], val[1])
                    : m.fit(tr[0], tr[1], epochs, 8, val[0], val[1], ck);
        } finally {
            if (old == null) {
                System.clearProperty("transferlab.fastFinetune");
            } else {
                System.setProperty("transferlab.fastFinetune", old);
            }
        }
    }

    /** The largest difference between the two models' weights, layer by layer (the same structure). */
    private static double maxWeightDifference(Model a, Model b, StringBuilder where) {
        double worst = 0;
        List<Functional.Leaf> la = a.leaves(), lb = b.leaves();
        for (int i = 0; i < la.size(); i++) {
            List<INDArray> wa = la.get(i).layer().getWeights(), wb = lb.get(i).layer().getWeights();
            for (int k = 0; wa != null && k < wa.size(); k++) {
                double d = wa.get(k).sub(wb.get(k)).amaxNumber().doubleValue();
                if (d > worst) {
                    worst = d;
                    where.setLength(0);
                    where.append(la.get(i).layer().name()).append('[').append(k).append(']');
                }
            }
        }
        return worst;
    }

    /**
     * @param tolerance the largest weight difference allowed: the two paths compute the frozen prefix with different
     *                  kernels (rounding differences of about 1e-6 relative); RMSprop carries them through, Adam turns
     *                  rounding noise in gradients close to zero into steps of up to its learning rate, so its bound is
     *                  a fifth of one step (a prefix run in training mode, or state lost, moves weights far more)
     */
    private void bothPathsAgree(Supplier<Model> build, Supplier<Optimizer> opt, String expectedCut, double tolerance) {
        Model slow = build.get();
        Model fast = copyOf(slow, build);
        Model init = copyOf(slow, build);
        assertNull(Engines.frozenPrefixWhyNot(fast), "the fast path must apply");
        assertEquals(expectedCut, Engines.frozenPrefixCut(fast));
        List<List<INDArray>> frozenBefore = fast.leaves().stream().filter(l -> !l.trainable() && !l.layer().weightSpecs().isEmpty())
                .map(l -> l.layer().getWeights().stream().map(INDArray::dup).toList()).toList();
        INDArray[] tr = data(40, 1), val = data(16, 2);
        History hs = fit(slow, opt.get(), false, 3, null, tr, val);
        History hf = fit(fast, opt.get(), true, 3, null, tr, val);
        StringBuilder where = new StringBuilder();
        double diff = maxWeightDifference(slow, fast, where);
        double moved = maxWeightDifference(slow, init, new StringBuilder());
        System.out.printf("%s, %s, 15 steps: largest weight difference between the paths %.3g (at %s); "
                        + "losses %s vs %s; val_loss %.6f vs %.6f%n", slow.name(), slow.optimizer().getClass().getSimpleName(),
                diff, where, hs.epochs().stream().map(e -> String.format("%.6f", e.loss())).toList(),
                hf.epochs().stream().map(e -> String.format("%.6f", e.loss())).toList(), hs.last().valLoss(), hf.last().valLoss());
        assertTrue(moved > 1e-3, "training must move the weights");
        assertTrue(diff < tolerance, "weights differ by " + diff + " at " + where);
        for (int e = 0; e < 3; e++) {
            EpochLog s = hs.epochs().get(e), f = hf.epochs().get(e);
            assertEquals(s.loss(), f.loss(), 1e-5 * Math.max(1, s.loss()), "training loss, epoch " + (e + 1));
            assertEquals(s.accuracy(), f.accuracy(), 1e-9, "training accuracy, epoch " + (e + 1));
            // validation runs on the weights, so it carries their differences (Adam's: up to 1e-4 relative)
            assertEquals(s.valLoss(), f.valLoss(), tolerance / 2 * Math.max(1, s.valLoss()), "validation loss, epoch " + (e + 1));
            assertEquals(s.valAccuracy(), f.valAccuracy(), 1e-9, "validation accuracy, epoch " + (e + 1));
        }
        List<List<INDArray>> frozenAfter = fast.leaves().stream().filter(l -> !l.trainable() && !l.layer().weightSpecs().isEmpty())
                .map(l -> l.layer().getWeights()).toList();
        assertEquals(frozenBefore, frozenAfter, "frozen layers (batch-norm statistics included) must not change");
    }

    @Test
    void vggLikeFineTuningEqualsTheWholeNetworkOnDl4jWithAdam() {
        bothPathsAgree(FrozenPrefixTrainingTest::vggLike, () -> Optimizer.Adam(1e-3), "b1_pool", 2e-4);
    }

    @Test
    void vggLikeFineTuningEqualsTheWholeNetworkOnDl4jWithRmsprop() {
        bothPathsAgree(FrozenPrefixTrainingTest::vggLike, () -> Optimizer.RMSprop(1e-3), "b1_pool", 2e-5);
    }

    @Test
    void mobileNetLikeFineTuningEqualsTheWholeNetworkOnDl4jWithAdam() {
        bothPathsAgree(FrozenPrefixTrainingTest::mobileNetLike, () -> Optimizer.Adam(1e-3), "pw_1_relu", 2e-4);
    }

    @Test
    void mobileNetLikeFineTuningEqualsTheWholeNetworkOnDl4jWithRmsprop() {
        bothPathsAgree(FrozenPrefixTrainingTest::mobileNetLike, () -> Optimizer.RMSprop(1e-3), "pw_1_relu", 2e-5);
    }

    @Test
    void aHeadAfterAFrozenBaseTrainsOnTheHeadTrainerAsTheWholeNetworkOnDl4j() {
        Model m = vggLikeHeadOnly();
        m.compile(Optimizer.Adam(1e-3), "categorical_crossentropy", "accuracy");
        try (var step = Engines.trainStep(m, m.optimizer(), m.loss(), false)) {
            assertTrue(step.describe().contains("the rest trained on the dense head"), step.describe());
            assertTrue(step.predicts(), "validation on the step's own weights");
        }
        Model c = vggLike();
        c.compile(Optimizer.Adam(1e-3), "categorical_crossentropy", "accuracy");
        try (var step = Engines.trainStep(c, c.optimizer(), c.loss(), false)) {
            assertTrue(step.describe().contains("the rest trained on DL4J"), step.describe());
        }
        // the prefix ends at the Flatten (frozen: it has no weights); the head trainer gets flat features
        bothPathsAgree(FrozenPrefixTrainingTest::vggLikeHeadOnly, () -> Optimizer.Adam(1e-3), "flatten", 2e-4);
        bothPathsAgree(FrozenPrefixTrainingTest::vggLikeHeadOnly, () -> Optimizer.RMSprop(1e-3), "flatten", 2e-5);
    }

    @Test
    void theFastPathAppliesOnlyWhereAFrozenPrefixWithWeightsComesFirst() {
        assertNull(Engines.frozenPrefixWhyNot(vggLike()));
        Model all = vggLike();
        all.unfreeze();
        assertTrue(Engines.frozenPrefixWhyNot(all).contains("no frozen layers"), Engines.frozenPrefixWhyNot(all));
        // dropout straight after the input: the prefix may not hold it, and nothing frozen comes before it
        Tensor in = Input(8, 8, 3);
        Tensor x = Dropout(0.5, "early_drop").on(in);
        Conv2D c = new Conv2D(4, 3, 3, "c");
        x = c.on(x);
        x = Flatten().on(x);
        Model d = Model.of(in, Dense(2, "softmax").on(x));
        c.setTrainable(false);
        assertTrue(Engines.frozenPrefixWhyNot(d).contains("Dropout"), Engines.frozenPrefixWhyNot(d));
        // a branch that bypasses the only place to cut: no prefix before the first learning layer
        Tensor bin = Input(8, 8, 3);
        Conv2D frozen = new Conv2D(3, 1, 1, "frozen_branch");
        Tensor a = frozen.on(bin);
        Tensor s = Add().on(a, bin);
        Tensor t = new Conv2D(3, 1, 1, "learns").on(s);
        Model br = Model.of(bin, Dense(2, "softmax").on(Flatten().on(Add().on(t, a))));
        frozen.setTrainable(false);
        assertNotNull(Engines.frozenPrefixWhyNot(br));
    }

    /** Checkpoints written on one path resume on the other, ending where a straight run on the DL4J path ends. */
    @Test
    void checkpointsResumeAcrossPaths() {
        checkpointsResumeAcrossPaths(FrozenPrefixTrainingTest::vggLike);
    }

    /** The same with the suffix on the head trainer (its weights and state written into the checkpoint and read back). */
    @Test
    void checkpointsResumeAcrossPathsWithTheHeadTrainer() {
        checkpointsResumeAcrossPaths(FrozenPrefixTrainingTest::vggLikeHeadOnly);
    }

    private void checkpointsResumeAcrossPaths(Supplier<Model> build) {
        INDArray[] tr = data(40, 1), val = data(16, 2);
        Model straight = build.get();
        Model first = copyOf(straight, build);
        Model second = copyOf(straight, build);
        History hs = fit(straight, Optimizer.Adam(1e-3), false, 4, null, tr, val);
        for (boolean fastFirst : new boolean[]{true, false}) {
            Path dir = tmp.resolve("ck-" + fastFirst);
            Model a = fastFirst ? first : second;
            History h1 = fit(a, Optimizer.Adam(1e-3), fastFirst, 2, ModelCheckpoint.at(dir), tr, val);
            assertEquals(2, h1.size());
            // a fresh model, as a new process would build it, resumed on the other path
            Model b = build.get();
            History h2 = fit(b, Optimizer.Adam(1e-3), !fastFirst, 4, ModelCheckpoint.at(dir).resume(), tr, val);
            assertEquals(4, h2.size());
            StringBuilder where = new StringBuilder();
            double diff = maxWeightDifference(straight, b, where);
            System.out.printf("checkpoint written on the %s path, resumed on the other: weights differ from a straight "
                    + "run by %.3g (at %s); last loss %.6f vs %.6f%n", fastFirst ? "fast" : "DL4J", diff, where,
                    h2.last().loss(), hs.last().loss());
            assertTrue(diff < 2e-5, "resumed weights differ by " + diff + " at " + where);
            assertEquals(hs.last().loss(), h2.last().loss(), 1e-5);
            assertEquals(hs.last().valLoss(), h2.last().valLoss(), 1e-5);
        }
    }
}
