package io.transferlab.engine.onednn;

import io.transferlab.applications.Applications;
import io.transferlab.inference.Inference;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Layers;
import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;
import io.transferlab.runtime.MixedPrecision;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The accuracy guard of the mixed_bfloat16 policy: on VGG16, InceptionV3 (random batch-norm statistics, folded in
 * float32 before the conversion) and MobileNet v1/v2, the bfloat16 plan's outputs are within bfloat16's tolerance of
 * the float32 plan's (relative error about 1e-2; asserted <= 3e-2), the bfloat16 plan really computes in bfloat16
 * (its outputs differ from float32's, its convolutions run oneDNN's bf16 kernels, not the reference ones), and the
 * plan cache never hands a plan of one precision to the other. Skipped, with a message, on a CPU without bf16.
 */
class MixedPrecisionPlanTest {
    private static final double TOLERANCE = 3e-2;

    @BeforeEach
    void needsBf16() {
        String why = MixedPrecision.bf16Unsupported();
        assumeTrue(why == null, () -> "bf16 accuracy guard skipped: " + why);
        assumeTrue(OneDnn.unavailable() == null, () -> "skipped: " + OneDnn.unavailable());
    }

    @AfterEach
    void backToFloat32() {
        MixedPrecision.set("float32");
    }

    /** max |ref - got| / max |ref|. */
    private static double relativeError(INDArray ref, INDArray got) {
        assertArrayEquals(ref.shape(), got.shape(), "output shapes");
        double scale = Math.max(1e-3, Transforms.abs(ref).maxNumber().doubleValue());
        return Transforms.abs(ref.sub(got)).maxNumber().doubleValue() / scale;
    }

    private static INDArray images(long n, long h, long w, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, n, h, w, 3).muli(2).subi(1);
    }

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

    /** Compiles float32 and bfloat16 plans of the model, checks the bfloat16 one and returns its relative error. */
    private static double bf16Error(Model m, INDArray x) {
        Nd4j.getRandom().setSeed(7);
        m.getWeights(); // random weights, created now from the seed
        try (InferencePlan f32 = InferencePlan.compile(m, x.shape(), false);
             InferencePlan bf16 = InferencePlan.compile(m, x.shape(), true)) {
            assertFalse(f32.bfloat16());
            assertTrue(bf16.bfloat16() && bf16.describe().contains("mixed_bfloat16"), bf16.describe());
            INDArray ref = f32.run(x);
            INDArray got = bf16.run(x);
            double err = relativeError(ref, got);
            System.out.printf("bf16 vs float32, %s %s: max relative error %.2e; float32 kernels %s; bf16 kernels %s%n",
                    m.name(), java.util.Arrays.toString(x.shape()), err, f32.implementations(), bf16.implementations());
            assertTrue(err > 0, m.name() + ": the bf16 plan gave float32's exact outputs: it did not compute in bf16");
            for (String impl : bf16.implementations()) {
                assertFalse(impl.startsWith("ref"), m.name() + " runs a reference (slow) bf16 kernel: " + impl);
            }
            return err;
        }
    }

    @Test
    void vgg16WithinBf16Tolerance() {
        Model m = Applications.vgg16().includeTop(false).inputShape(64, 64, 3).build();
        double err = bf16Error(m, images(2, 64, 64, 1).muli(100));
        assertTrue(err <= TOLERANCE, "VGG16: max relative error " + err);
    }

    @Test
    void inceptionV3WithinBf16Tolerance() {
        Model m = Applications.inceptionV3().includeTop(false).inputShape(75, 75, 3).pooling("avg").build();
        randomizeBatchNorms(m);
        double err = bf16Error(m, images(2, 75, 75, 2));
        assertTrue(err <= TOLERANCE, "InceptionV3: max relative error " + err);
    }

    @Test
    void mobileNetsWithinBf16Tolerance() {
        Model v1 = Applications.mobileNet().includeTop(false).inputShape(128, 128, 3).pooling("avg").build();
        randomizeBatchNorms(v1);
        double e1 = bf16Error(v1, images(2, 128, 128, 4));
        assertTrue(e1 <= TOLERANCE, "MobileNet: max relative error " + e1);
        Model v2 = Applications.mobileNetV2().alpha(0.35).includeTop(false).inputShape(96, 96, 3).build();
        randomizeBatchNorms(v2);
        double e2 = bf16Error(v2, images(2, 96, 96, 5));
        assertTrue(e2 <= TOLERANCE, "MobileNetV2: max relative error " + e2);
    }

    @Test
    void aFloat32InputMergedWithBf16ValuesAndADenseHead() {
        // the model's float32 input concatenated with and added to bfloat16 convolution outputs, then a dense head
        // with softmax: the plan converts the input where it meets the bf16 values
        Tensor in = Layers.Input(12, 12, 3);
        Tensor c = Layers.Conv2D(3, 3, "relu", "conv").padding("same").on(in);
        Tensor cat = Layers.Concatenate("cat").on(in, c);
        Tensor sum = Layers.Add("add").on(Layers.Conv2D(3, 1, "linear", "proj").on(cat), in);
        Tensor flat = Layers.Flatten("flat").on(Layers.MaxPooling2D(2, "pool").on(sum));
        Tensor out = Layers.Dense(4, "softmax", "predictions").on(Layers.Dense(16, "relu", "fc").on(flat));
        Model m = Model.of(in, out);
        double err = bf16Error(m, images(3, 12, 12, 6));
        assertTrue(err <= TOLERANCE, "merge model: max relative error " + err);
    }

    @Test
    void thePolicyPicksThePlanAndSwitchingNeverReusesTheOtherPrecision() {
        Model m = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(64, 64, 3).pooling("avg").build();
        randomizeBatchNorms(m);
        INDArray x = images(2, 64, 64, 8);
        assertEquals("float32", MixedPrecision.policy());
        INDArray f32 = Inference.predict(m, x);
        assertFalse(Inference.describe(m).contains("bfloat16"), Inference.describe(m));

        assertEquals("mixed_bfloat16", MixedPrecision.set("mixed_bfloat16"));
        INDArray bf16 = Inference.predict(m, x);
        assertTrue(Inference.describe(m).contains("mixed_bfloat16"), Inference.describe(m));
        double err = relativeError(f32, bf16);
        assertTrue(err > 0 && err <= TOLERANCE, "bf16 through the policy: max relative error " + err);

        assertEquals("float32", MixedPrecision.set("float32"));
        assertEquals(0, relativeError(f32, Inference.predict(m, x)), 0, "back to float32: float32's exact outputs");
        assertFalse(Inference.describe(m).contains("bfloat16"), Inference.describe(m));
    }

    @Test
    void cachedFeaturesOfOnePrecisionNeverServeTheOther(@TempDir Path tmp) throws Exception {
        System.setProperty("transferlab.cache", tmp.resolve("cache").toString());
        try {
            java.util.Random rnd = new java.util.Random(5);
            for (String c : new String[]{"cats", "dogs"}) {
                Path dir = Files.createDirectories(tmp.resolve("data").resolve(c));
                for (int i = 0; i < 3; i++) {
                    var img = new java.awt.image.BufferedImage(40, 36, java.awt.image.BufferedImage.TYPE_INT_RGB);
                    for (int y = 0; y < 36; y++) {
                        for (int x = 0; x < 40; x++) {
                            img.setRGB(x, y, rnd.nextInt(1 << 24));
                        }
                    }
                    javax.imageio.ImageIO.write(img, "jpg", dir.resolve(c + i + ".jpg").toFile());
                }
            }
            Model base = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(32, 32, 3).pooling("avg").build();
            randomizeBatchNorms(base);
            java.util.function.Supplier<io.transferlab.data.ImageFolder> data = () -> io.transferlab.data.ImageFolder
                    .at(tmp.resolve("data")).targetSize(32, 32).batchSize(4)
                    .classMode(io.transferlab.data.ClassMode.BINARY).shuffle(false).build();
            INDArray f32 = io.transferlab.inference.Features.extract(base, data.get()).features();
            MixedPrecision.set("mixed_bfloat16");
            INDArray bf16 = io.transferlab.inference.Features.extract(base, data.get()).features();
            double err = relativeError(f32, bf16);
            assertTrue(err > 0, "bf16 extraction was served the float32 features from the cache");
            assertTrue(err <= TOLERANCE, "bf16 features: max relative error " + err);
            assertEquals(bf16, io.transferlab.inference.Features.extract(base, data.get()).features(), "bf16 from its cache");
            MixedPrecision.set("float32");
            assertEquals(f32, io.transferlab.inference.Features.extract(base, data.get()).features(), "float32 from its cache");
            try (var files = Files.list(tmp.resolve("cache/features"))) {
                assertEquals(2, files.filter(f -> f.toString().endsWith(".sha256")).count(), "one cache entry per precision");
            }
        } finally {
            System.clearProperty("transferlab.cache");
        }
    }
}
