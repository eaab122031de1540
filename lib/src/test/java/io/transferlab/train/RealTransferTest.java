package io.transferlab.train;

import io.transferlab.inference.Features;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.applications.Applications;
import io.transferlab.data.ClassMode;
import io.transferlab.data.ImageFolder;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real-data acceptance check, through the library's own pipeline end to end: the real Keras MobileNet
 * (alpha 0.25, ImageNet) turns the 2000 training images of cats_and_dogs_filtered into pooled features, a small
 * dense head trains on them, and the 1000 validation images score at least 94% (an independent linear probe on
 * the same features reached 94.7%). The same pipeline with random weights (on a quarter of the images) must score
 * clearly lower: the accuracy
 * comes from the pretrained features. Needs $TL_SHARED; skipped without it.
 */
class RealTransferTest {

    private static double headAccuracy(Model base, Path root, int trainPerClass, int valPerClass) {
        ImageFolder train = ImageFolder.at(root.resolve("train")).targetSize(224, 224).batchSize(32)
                .classMode(ClassMode.BINARY).preprocessing(Preprocessing.TF).limitPerClass(trainPerClass)
                .interpolation(Images.Interpolation.BILINEAR).shuffle(false).build();
        ImageFolder val = ImageFolder.at(root.resolve("validation")).targetSize(224, 224).batchSize(32)
                .classMode(ClassMode.BINARY).preprocessing(Preprocessing.TF).limitPerClass(valPerClass)
                .interpolation(Images.Interpolation.BILINEAR).shuffle(false).build();
        assertEquals(2 * trainPerClass, train.size());
        assertEquals(2 * valPerClass, val.size());
        var tf = Features.extract(base, train);
        var vf = Features.extract(base, val);
        Model head = Sequential.withInput(tf.features().size(1))
                .add(Dense(64, "relu")).add(Dropout(0.3)).add(Dense(1, "sigmoid"));
        head.compile(Optimizer.Adam(1e-3), "binary_crossentropy", "accuracy");
        History h = head.fit(tf.features(), tf.labels(), 20, 32, vf.features(), vf.labels());
        return h.last().valAccuracy();
    }

    @Test
    void pretrainedMobileNetFeaturesReach94PercentAndRandomOnesDoNot() {
        String shared = System.getenv("TL_SHARED");
        assumeTrue(shared != null && !shared.isBlank(), "TL_SHARED is not set: the real MobileNet weights and "
                + "cats_and_dogs_filtered are not available, skipping the real-data check");
        Path root = Path.of(shared, "data", "cats_and_dogs_filtered");
        Model pretrained = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(224, 224, 3).pooling("avg")
                .weights(Path.of(shared, "weights", "mobilenet_2_5_224_tf_no_top.h5").toString()).build();
        double acc = headAccuracy(pretrained, root, 1000, 500);
        Model random = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(224, 224, 3).pooling("avg").build();
        // random features are tested on a quarter of the images: enough to show chance level, and quicker
        double randomAcc = headAccuracy(random, root, 250, 125);
        System.out.printf("REAL-DATA CHECK: validation accuracy with ImageNet weights %.4f, with random weights %.4f%n",
                acc, randomAcc);
        assertTrue(acc >= 0.94, "pretrained features + dense head: validation accuracy " + acc + " < 0.94");
        assertTrue(randomAcc < acc - 0.15, "random weights should be clearly worse, got " + randomAcc + " vs " + acc);
    }
}
