package io.transferlab.engine.onednn;

import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.inference.Inference;
import io.transferlab.applications.Applications;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import io.transferlab.layers.AveragePooling2D;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Layers;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.optimizers.Optimizer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The oneDNN inference plan gives the numbers of the DL4J network (itself checked against plain loops and an
 * independent numpy implementation elsewhere) on every architecture the project ships, with batch norm folded
 * (random, non-trivial statistics), fused activations and paddings; and it follows weight changes and training.
 */
class InferencePlanTest {

    /** Every leaf layer, nested models expanded. */
    private static List<Layer> leaves(Model m) {
        List<Layer> out = new ArrayList<>();
        for (Layer l : m.layers()) {
            if (l instanceof Model inner) {
                out.addAll(leaves(inner));
            } else {
                out.add(l);
            }
        }
        return out;
    }

    /** Gives every BatchNormalization random gamma/beta/mean/variance, so folding them is really tested. */
    private static void randomizeBatchNorms(Model m) {
        Nd4j.getRandom().setSeed(99);
        for (Layer l : leaves(m)) {
            if (l instanceof BatchNormalization bn) {
                List<INDArray> w = new ArrayList<>();
                for (var spec : bn.weightSpecs()) {
                    INDArray v = Nd4j.rand(DataType.FLOAT, spec.shape());
                    w.add(spec.name().contains("variance") ? v.addi(0.5) : v.subi(0.5).muli(2));
                }
                bn.setWeights(w);
            }
        }
    }

    private static double relativeError(INDArray ref, INDArray got) {
        assertArrayEquals(ref.shape(), got.shape(), "output shapes");
        double scale = Math.max(1e-3, Transforms.abs(ref).maxNumber().doubleValue());
        return Transforms.abs(ref.sub(got)).maxNumber().doubleValue() / scale;
    }

    private static void assertMatchesDl4j(Model m, INDArray x, double tolerance) {
        INDArray ref = Dl4jEngine.get().network(m).outputSingle(false, x);
        INDArray got = Inference.predict(m, x);
        String path = Inference.describe(m);
        assertTrue(path.startsWith("oneDNN plan"), m.name() + " should run on the oneDNN plan, got: " + path);
        double err = relativeError(ref, got);
        assertTrue(err < tolerance, m.name() + ": max |oneDNN - DL4J| / max |DL4J| = " + err);
    }

    private static INDArray images(long n, long h, long w, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, n, h, w, 3).muli(2).subi(1);
    }

    @Test
    void vgg16ConvBaseMatchesDl4j() {
        Model m = Applications.vgg16().includeTop(false).inputShape(48, 48, 3).build();
        assertMatchesDl4j(m, images(3, 48, 48, 1).muli(100), 1e-4);
        // Winograd where the CPU has it, but not on the image's 3 channels (the first layer runs direct, 4-7x faster)
        String path = Inference.describe(m);
        assertTrue(path.contains("12 Winograd convolutions") || !path.contains("Winograd"), path);
        // a size-agnostic conv base (Keras's input_shape=(None, None, 3)) gets one plan per image size
        Model any = Applications.vgg16().includeTop(false).build();
        assertMatchesDl4j(any, images(2, 40, 56, 11).muli(100), 1e-4);
        assertMatchesDl4j(any, images(2, 64, 32, 12).muli(100), 1e-4);
    }

    /**
     * EfficientNet's squeeze-and-excitation multiply, (batch, h, w, c) times (batch, 1, 1, c), at sizes where oneDNN
     * 2.5's vectorised binary refuses the broadcast (its reference loop ran 0.5 s for one 4x228x228x48 multiply): the
     * plan splits it per image onto the vectorised one, and it still equals DL4J's output.
     */
    @Test
    void squeezeAndExcitationMultiplyRunsPerImageOnTheVectorisedBinary() {
        for (int[] hwc : new int[][]{{26, 22, 24}, {57, 57, 48}}) {
            var in = Layers.Input(hwc[0], hwc[1], hwc[2]);
            var a = new Conv2D(hwc[2], 1, 1, "a").activation("swish").on(in);
            var s = Layers.GlobalAveragePooling2D("squeeze").on(a);
            s = Layers.Reshape(new long[]{1, 1, hwc[2]}, "reshape").on(s);
            s = new Conv2D(hwc[2], 1, 1, "excite").activation("sigmoid").on(s);
            Model m = Model.of(in, Layers.Multiply("mul").on(a, s));
            Nd4j.getRandom().setSeed(hwc[0]);
            INDArray x = Nd4j.randn(DataType.FLOAT, 3, hwc[0], hwc[1], hwc[2]);
            assertMatchesDl4j(m, x, 1e-5);
            // one image too (a single photo's predict)
            INDArray one = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)).dup();
            assertMatchesDl4j(m, one, 1e-5);
            for (INDArray batch : new INDArray[]{x, one}) {
                InferencePlan plan = InferencePlan.compile(m, batch.shape());
                assertTrue(plan.implementations().stream().anyMatch(i -> i.startsWith("binary_mul per image: jit")),
                        java.util.Arrays.toString(batch.shape()) + ": " + plan.implementations());
                plan.close();
            }
        }
    }

    @Test
    void inceptionV3MatchesDl4jWithFoldedBatchNorm() {
        Model m = Applications.inceptionV3().includeTop(false).inputShape(75, 75, 3).pooling("avg").build();
        randomizeBatchNorms(m);
        assertMatchesDl4j(m, images(2, 75, 75, 2), 1e-4);
        // a cut model (Keras's Model(inputs, get_layer('mixed7').output)) runs on its own plan
        Model cut = m.upTo("mixed2");
        assertMatchesDl4j(cut, images(2, 75, 75, 3), 1e-4);
    }

    @Test
    void mobileNetsMatchDl4jWithZeroPaddingAndRelu6() {
        Model v1 = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(128, 128, 3).pooling("avg").build();
        randomizeBatchNorms(v1);
        assertMatchesDl4j(v1, images(2, 128, 128, 4), 1e-4);
        Model v2 = Applications.mobileNetV2().includeTop(false).inputShape(96, 96, 3).build();
        randomizeBatchNorms(v2);
        assertMatchesDl4j(v2, images(2, 96, 96, 5), 1e-4);
    }

    /** A model with every other supported layer: Keras-style conv activations, pools with "same", flatten, dense, softmax. */
    private static Sequential mixedModel() {
        return Sequential.withInput(20, 20, 3)
                .add(Layers.Conv2D(8, 3, "relu", "c1"))
                .add(Layers.BatchNormalization("bn1"))
                .add(Layers.ReLU(6.0, "relu6"))
                .add(new MaxPooling2D(3, 3, "pool1").strides(2, 2).padding("same"))
                .add(new AveragePooling2D(3, 3, "avg1").strides(1, 1).padding("same"))
                .add(Layers.ZeroPadding2D(1, 2, 0, 1, "zp"))
                .add(new Conv2D(6, 3, 3, "c2").strides(2, 2))
                .add(Layers.Activation("sigmoid", "sig"))
                .add(Layers.Flatten("flat"))
                .add(Layers.Dense(16, "relu", "fc1"))
                .add(Layers.Dropout(0.5, "drop"))
                .add(Layers.Dense(5, "softmax", "predictions"));
    }

    @Test
    void everyOtherLayerMatchesDl4j() {
        Sequential m = mixedModel();
        randomizeBatchNorms(m);
        assertMatchesDl4j(m, images(4, 20, 20, 6), 1e-5);
        // a batch of another size gets its own plan
        assertMatchesDl4j(m, images(1, 20, 20, 7), 1e-5);
    }

    @Test
    void planFollowsNewWeightsAndTraining() {
        Sequential m = mixedModel();
        INDArray x = images(4, 20, 20, 8);
        INDArray before = Inference.predict(m, x);
        Layer fc1 = m.getLayer("fc1");
        List<INDArray> w = new ArrayList<>();
        for (INDArray a : fc1.getWeights()) {
            w.add(a.mul(-1.5));
        }
        fc1.setWeights(w);
        INDArray after = Inference.predict(m, x);
        assertTrue(relativeError(before, after) > 1e-3, "new weights must change the outputs");
        assertMatchesDl4j(m, x, 1e-5);

        m.compile(Optimizer.RMSprop(1e-2), "categorical_crossentropy", "accuracy");
        INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 5);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, i % 5, 1);
        }
        INDArray beforeTraining = Inference.predict(m, x);
        m.fit(x, y, 2, 4, null, null);
        INDArray trained = Inference.predict(m, x);
        assertTrue(relativeError(beforeTraining, trained) > 1e-4, "training must change the outputs");
        assertEquals(0, relativeError(Dl4jEngine.get().network(m).outputSingle(false, x), trained), 1e-5);
    }

    @Test
    void aModelNeverRunBeforeGetsItsWeightsAndAPlanAtOnce() {
        Model m = Applications.vgg16().includeTop(false).inputShape(32, 32, 3).build();
        INDArray x = images(2, 32, 32, 13);
        INDArray got = Inference.predict(m, x); // the first use of the model: no weights exist yet
        assertTrue(OneDnnEngine.get().hasPlan(m), "the very first predict should already run on a plan");
        assertEquals(0, relativeError(Dl4jEngine.get().network(m).outputSingle(false, x), got), 1e-4);
    }

    @Test
    void unsupportedLayerFallsBackToDl4jAndSaysWhy() {
        // a Reshape to a sequence (rank 2) has no lowering in the plan (to a vector or an image it has): the model
        // runs on DL4J, with the same result, and says which layer
        Sequential m = Sequential.withInput(8, 8, 3)
                .add(Layers.Reshape(new long[]{64, 3}, "sequence"))
                .add(Layers.Reshape(new long[]{192}, "flat"))
                .add(Layers.Dense(4, "relu", "fc"));
        INDArray x = images(2, 8, 8, 9);
        assertEquals(0, relativeError(Dl4jEngine.get().network(m).outputSingle(false, x), Inference.predict(m, x)), 0);
        String path = Inference.describe(m);
        assertTrue(path.startsWith("DL4J") && path.contains("'sequence'"), path);
    }

    @Test
    void zeroPaddingBeforeAMaxPoolingPadsWithZeros() {
        // oneDNN pads max pooling with -infinity, Keras pads with zeros: the plan pads first (ResNet's pool1_pad)
        Sequential m = Sequential.withInput(8, 8, 3)
                .add(Layers.ZeroPadding2D(1, 1, 1, 1, "pad"))
                .add(Layers.MaxPooling2D(2, "pool"));
        INDArray x = images(2, 8, 8, 9).subi(1000); // all negative: a -infinity frame would show
        assertEquals(0, relativeError(Dl4jEngine.get().network(m).outputSingle(false, x), Inference.predict(m, x)), 0);
        assertTrue(Inference.describe(m).startsWith("oneDNN plan"), Inference.describe(m));
    }
}
