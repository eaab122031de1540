package io.transferlab.weights;

import io.transferlab.applications.Applications;
import io.transferlab.models.Model;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * weights("imagenet") without the file (quick mode never downloads): one line that says which file, where it was
 * looked for and that the model keeps random weights; with the file: loaded, and {@link WeightStore#pretrained}
 * tells the two apart.
 */
class WeightStoreImagenetTest {
    private String home;
    private String quick;
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private PrintStream out;

    @TempDir
    Path tmp;

    @BeforeEach
    void quickModeInAnEmptyHome() {
        home = System.getProperty("user.home");
        quick = System.getProperty("TL_QUICK");
        // native libraries stay in the real home's cache, not unpacked again under the temporary home
        if (System.getProperty("org.bytedeco.javacpp.cachedir") == null) {
            System.setProperty("org.bytedeco.javacpp.cachedir", Path.of(home, ".javacpp", "cache").toString());
        }
        System.setProperty("user.home", tmp.toString());
        System.setProperty("TL_QUICK", "1");
        out = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(out);
        System.setProperty("user.home", home);
        if (quick == null) {
            System.clearProperty("TL_QUICK");
        } else {
            System.setProperty("TL_QUICK", quick);
        }
    }

    @Test
    void missingFileGivesOneLineAndRandomWeights() {
        assumeTrue(System.getenv("TL_WEIGHTS") == null, "TL_WEIGHTS points at a weights cache");
        Model m = Applications.vgg16().includeTop(false).inputShape(32, 32, 3).weights("imagenet").build();
        String text = printed.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith("NOTE: ImageNet weights vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 not found in "
                + tmp.resolve(".keras").resolve("models")), text);
        assertTrue(text.contains("quick mode does not download") && text.contains("RANDOM weights"), text);
        assertNull(m.loadedWeights());
        assertEquals(14_714_688L, m.countParams());
    }

    @Test
    void fileFoundIsLoadedAndRemembered() throws Exception {
        String shared = System.getenv("TL_SHARED");
        Path file = shared == null ? null : Path.of(shared, "weights", "mobilenet_2_5_224_tf_no_top.h5");
        assumeTrue(file != null && Files.isRegularFile(file), "needs TL_SHARED with the MobileNet 0.25 weights");
        Model m = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(224, 224, 3).weights("imagenet")
                .build();
        assertNotNull(m.loadedWeights());
        assertEquals(218_544L, m.loadedWeights().values());
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("ImageNet weights: " + file));
        Model random = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(224, 224, 3).build();
        assertNull(random.loadedWeights());
    }
}
