package io.transferlab.inference;

import io.transferlab.applications.Applications;
import io.transferlab.data.ClassMode;
import io.transferlab.data.ImageFolder;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;
import io.transferlab.testutil.TestFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The feature cache is keyed by what a model computes, not by its names: the same network built another way
 * (notebook 07's MobileNet base + a GlobalAveragePooling2D named "features", cut with upTo; notebooks 09 and 10's
 * pooling("avg")) finds the features the other cached; another weight, setting or wiring does not.
 */
class FeatureCacheSharingTest {
    @TempDir
    Path tmp;

    @AfterEach
    void restore() {
        System.clearProperty("transferlab.cache");
    }

    private static Functional pooled() {
        return Applications.mobileNet().alpha(0.25).includeTop(false).pooling("avg").inputShape(64, 64, 3).build();
    }

    /** Notebook 07's way: the base without pooling, a pooling layer of its own name, a head, cut at "features". */
    private static Functional cut() {
        Model base = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(64, 64, 3).build();
        Tensor x = GlobalAveragePooling2D("features").on(base.output());
        x = Dropout(0.2).on(x);
        Model full = Model.of("cats_dogs", base.input(), Dense(1, "sigmoid").on(x));
        return full.upTo("features");
    }

    @Test
    void theSameNetworkBuiltAnotherWayHasTheSameKey() {
        assertEquals(Features.modelFingerprint(pooled()), Features.modelFingerprint(cut()));

        Functional changed = cut();
        List<INDArray> w = new ArrayList<>();
        changed.getLayer("conv_pw_13").getWeights().forEach(a -> w.add(a.dup()));
        w.get(0).putScalar(0, w.get(0).getFloat(0) + 1e-3f);
        changed.getLayer("conv_pw_13").setWeights(w);
        assertNotEquals(Features.modelFingerprint(pooled()), Features.modelFingerprint(changed), "a weight changed");

        Model maxPooled = Applications.mobileNet().alpha(0.25).includeTop(false).pooling("max").inputShape(64, 64, 3)
                .build();
        assertNotEquals(Features.modelFingerprint(pooled()), Features.modelFingerprint(maxPooled), "another pooling");
    }

    @Test
    void theSameLayersWiredOtherwiseHaveAnotherKey() {
        Tensor in = Input(8);
        var d1 = Dense(8, "relu", "d1");
        var d2 = Dense(8, "relu", "d2");
        Tensor a = d1.on(in);
        Model chain = Model.of("m", in, Add("add").on(a, d2.on(a)));     // add(d1(x), d2(d1(x)))
        Tensor in2 = Input(8);
        var e1 = Dense(8, "relu", "d1");
        var e2 = Dense(8, "relu", "d2");
        Model fork = Model.of("m", in2, Add("add").on(e1.on(in2), e2.on(in2)));   // add(d1(x), d2(x))
        e1.setWeights(d1.getWeights());
        e2.setWeights(d2.getWeights());
        assertNotEquals(Features.modelFingerprint(chain), Features.modelFingerprint(fork));
    }

    @Test
    void anotherNotebooksCachedFeaturesAreServed() throws IOException {
        System.setProperty("transferlab.cache", tmp.resolve("cache").toString());
        for (String c : List.of("cats", "dogs")) {
            Path dir = Files.createDirectories(tmp.resolve("data").resolve(c));
            for (int i = 0; i < 3; i++) {
                Files.write(dir.resolve(c + i + ".jpg"), TestFiles.randomImage("jpg", 80, 60, c.hashCode() + i));
            }
        }
        ImageFolder images = ImageFolder.at(tmp.resolve("data")).targetSize(64, 64).batchSize(4)
                .classMode(ClassMode.BINARY).shuffle(false).build();
        String first = TestFiles.captureOut(() -> Features.extract(cut(), images));
        assertFalse(first.contains("from the cache"), first);
        INDArray computed = Features.extract(cut(), images).features();
        String second = TestFiles.captureOut(() -> assertEquals(computed, Features.extract(pooled(), images).features()));
        assertTrue(second.contains("from the cache"), "the same network under other names: " + second);
        try (var files = Files.list(tmp.resolve("cache/features"))) {
            assertEquals(1, files.filter(f -> f.toString().endsWith(".sha256")).count(), "one entry");
        }
    }
}
