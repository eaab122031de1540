package io.transferlab.train;

import io.transferlab.applications.Applications;
import io.transferlab.data.ClassMode;
import io.transferlab.data.ImageFolder;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.inference.Features;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.runtime.MixedPrecision;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.file.Path;

import static io.transferlab.layers.Layers.Dense;
import static io.transferlab.layers.Layers.Dropout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The mixed_bfloat16 accuracy guard on real data: the real Keras MobileNet (alpha 0.25, ImageNet) extracts pooled
 * features of cats_and_dogs_filtered (500 training, all 1000 validation images), a dense head trains on float32 training features, and that same head scores
 * the validation images twice, once through a float32 pipeline (features and head in float32) and once through a
 * bfloat16 one (features and head under mixed_bfloat16): the two accuracies must be within 0.5 points. Needs
 * $TL_SHARED and a CPU with bf16; skipped otherwise.
 */
class MixedPrecisionRealDataTest {
    @AfterEach
    void backToFloat32() {
        MixedPrecision.set("float32");
    }

    private static ImageFolder folder(Path root, int perClass) {
        return ImageFolder.at(root).targetSize(224, 224).batchSize(32).classMode(ClassMode.BINARY)
                .preprocessing(Preprocessing.TF).limitPerClass(perClass)
                .interpolation(Images.Interpolation.BILINEAR).shuffle(false).build();
    }

    private static double accuracy(Model head, INDArray features, INDArray labels) {
        INDArray p = head.predict(features);
        int right = 0;
        for (int i = 0; i < labels.size(0); i++) {
            right += (p.getDouble(i, 0) > 0.5) == (labels.getDouble(i, 0) > 0.5) ? 1 : 0;
        }
        return right / (double) labels.size(0);
    }

    @Test
    void bf16FeaturesAndHeadScoreWithinHalfAPointOfFloat32() {
        String shared = System.getenv("TL_SHARED");
        assumeTrue(shared != null && !shared.isBlank(), "TL_SHARED is not set: the real MobileNet weights and "
                + "cats_and_dogs_filtered are not available, skipping the bf16 real-data check");
        String why = MixedPrecision.bf16Unsupported();
        assumeTrue(why == null, () -> "bf16 real-data check skipped: " + why);
        System.setProperty("transferlab.featureCache", "false"); // compute both precisions, never read a cache
        Path root = Path.of(shared, "data", "cats_and_dogs_filtered");
        Model base = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(224, 224, 3).pooling("avg")
                .weights(Path.of(shared, "weights", "mobilenet_2_5_224_tf_no_top.h5").toString()).build();
        ImageFolder train = folder(root.resolve("train"), 250);
        ImageFolder val = folder(root.resolve("validation"), 500);

        var tf = Features.extract(base, train);
        var vf32 = Features.extract(base, val);
        Nd4j.getRandom().setSeed(42);
        Model head = Sequential.withInput(tf.features().size(1))
                .add(Dense(64, "relu")).add(Dropout(0.3)).add(Dense(1, "sigmoid"));
        head.compile(Optimizer.Adam(1e-3), "binary_crossentropy", "accuracy");
        head.fit(tf.features(), tf.labels(), 20, 32, null, null);
        double acc32 = accuracy(head, vf32.features(), vf32.labels());

        assertEquals("mixed_bfloat16", MixedPrecision.set("mixed_bfloat16"));
        var vf16 = Features.extract(base, val);
        double acc16 = accuracy(head, vf16.features(), vf16.labels());
        MixedPrecision.set("float32");

        // real MobileNet weights fold into large per-channel scales (batch norms with small variances), so bf16's
        // rounding of inputs and weights (relative 2^-9) grows to a few percent of the features: measured as
        // ||f32 - bf16|| / ||f32|| over all validation features
        INDArray diff = vf32.features().sub(vf16.features());
        double featureError = diff.norm2Number().doubleValue() / vf32.features().norm2Number().doubleValue();
        System.out.printf("BF16 REAL-DATA CHECK: MobileNet 0.25 features of %d validation images (head trained on %d"
                        + " float32 training features): accuracy float32 %.4f, mixed_bfloat16 %.4f (%+.2f points);"
                        + " features relative error (norm) %.2e%n", val.size(), train.size(), acc32, acc16,
                100 * (acc16 - acc32), featureError);
        assertTrue(acc32 >= 0.85, "float32 pipeline accuracy " + acc32 + ": the check itself is not meaningful");
        assertTrue(featureError > 0 && featureError <= 0.1, "bf16 features: relative error (norm) " + featureError);
        // within half a point, counted in images (0.945 - 0.940 is 0.0050000000000000044 in doubles)
        long apart = Math.round(Math.abs(acc16 - acc32) * val.size());
        assertTrue(apart <= Math.round(0.005 * val.size()), "bf16 accuracy " + acc16 + " vs float32 " + acc32
                + ": " + apart + " of " + val.size() + " images apart");
    }
}
