package io.transferlab.weights;

import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.applications.Applications;
import io.transferlab.models.Model;
import io.transferlab.layers.Layer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Keras HDF5 weights: the real Keras MobileNet file (from $TL_SHARED/weights) loads into the MobileNet builder
 * with every layer matched; wrong-model, wrong-size, truncated and non-HDF5 files fail with messages that name
 * the file and the first layer that does not fit.
 */
class KerasWeightsTest {
    static final String MOBILENET_FILE = "mobilenet_2_5_224_tf_no_top.h5";
    static final String MOBILENET_MD5 = "f313cee49f5d33dfb06f2b255c4adb64";

    /** The shared MobileNet 0.25 no-top file, checked against Keras's md5; skips the test when TL_SHARED is unset. */
    static Path mobileNetFile() throws Exception {
        String shared = System.getenv("TL_SHARED");
        assumeTrue(shared != null && !shared.isBlank(), "TL_SHARED is not set, so the real Keras weights file "
                + "($TL_SHARED/weights/" + MOBILENET_FILE + ") is not available: skipping (CI sets TL_SHARED=/work/shared)");
        Path file = Path.of(shared, "weights", MOBILENET_FILE);
        assertTrue(Files.isRegularFile(file), "TL_SHARED is set but " + file + " does not exist");
        assertEquals(MOBILENET_MD5, md5(file), file + " is not Keras's file (md5 differs)");
        return file;
    }

    static String md5(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("MD5");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void realMobileNetWeightsLoadWithEveryLayerMatched() throws Exception {
        Path file = mobileNetFile();
        Model m = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(224, 224, 3).build();
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 224, 224, 3).muli(2).subi(1);
        INDArray before = m.predict(x).dup();     // a network built with random weights

        KerasWeights.Loaded loaded = m.loadWeights(file);
        List<String> weighted = m.layers().stream().filter(l -> !l.weightSpecs().isEmpty()).map(Layer::name).toList();
        assertEquals(54, weighted.size());
        assertEquals(weighted, loaded.layers(), "every layer with weights is matched, in the model's order");
        assertEquals(218_544L, loaded.values());
        assertEquals(List.of(), loaded.unusedFileLayers());
        assertTrue(loaded.toString().contains("Loaded 218,544 weights into 54 layers"), loaded.toString());

        // values land where Keras has them: conv1's kernel and conv1_bn's moving variance
        assertArrayEquals(new long[]{3, 3, 3, 8}, m.getLayer("conv1").getWeights().get(0).shape());
        INDArray var = m.getLayer("conv1_bn").getWeights().get(3);
        assertTrue(var.minNumber().doubleValue() > 0, "moving_variance must be positive: " + var);

        // the network built before is dropped: predictions now come from the loaded weights
        INDArray after = m.predict(x);
        assertFalse(before.equalsWithEps(after, 1e-3), "predict must use the loaded weights");
        assertFalse(after.isNaN().any() || after.isInfinite().any());
        assertEquals(List.of("input_1", "conv1", "conv1_bn"), KerasWeights.layerNames(file).subList(0, 3));
    }

    @Test
    void weightsOfAnotherNetworkAreRefusedNamingIt() throws Exception {
        Path file = mobileNetFile();
        Model vgg = Applications.vgg16().includeTop(false).inputShape(64, 64, 3).build();
        var e = assertThrows(WeightsFileException.class, () -> vgg.loadWeights(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("no layer in common with model 'vgg16'"), e.getMessage());
        assertTrue(e.getMessage().contains("this looks like weights for MobileNet (v1) with alpha 0.25"), e.getMessage());
    }

    @Test
    void weightsOfAnotherWidthAreRefusedNamingLayerAndWeight() throws Exception {
        Path file = mobileNetFile();
        Model half = Applications.mobileNet().alpha(0.5).includeTop(false).inputShape(224, 224, 3).build();
        INDArray kernel = half.getLayer("conv1").getWeights().get(0).dup();
        var e = assertThrows(WeightsFileException.class, () -> half.loadWeights(file));
        assertTrue(e.getMessage().contains("weight 'conv1/kernel:0' of layer 'conv1' has shape (3, 3, 3, 8) but layer "
                + "'conv1' weight 'kernel' of model 'mobilenet_0.50_224' needs (3, 3, 3, 16)"), e.getMessage());
        assertTrue(e.getMessage().contains("MobileNet (v1) with alpha 0.25"), e.getMessage());
        assertEquals(kernel, half.getLayer("conv1").getWeights().get(0), "nothing changes when the file does not fit");

        Model top = Applications.mobileNet().alpha(0.25).build();
        var missing = assertThrows(WeightsFileException.class, () -> top.loadWeights(file));
        assertTrue(missing.getMessage().contains("has no weights for layer 'conv_preds' (Conv2D) of model 'mobilenet_0.25_224'"),
                missing.getMessage());
    }

    @Test
    void truncatedCopyIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path file = mobileNetFile();
        byte[] all = Files.readAllBytes(file);
        Path cut = dir.resolve("cut_" + MOBILENET_FILE);
        Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
        Model m = Applications.mobileNet().alpha(0.25).includeTop(false).build();
        var e = assertThrows(WeightsFileException.class, () -> m.loadWeights(cut));
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("truncated"), e.getMessage());

        // a copy whose header claims its real length but whose data is cut: still a clear error
        Path tiny = dir.resolve("header_only.h5");
        Files.write(tiny, java.util.Arrays.copyOf(all, 600));
        var e2 = assertThrows(WeightsFileException.class, () -> m.loadWeights(tiny));
        assertTrue(e2.getMessage().contains(tiny.toString()), e2.getMessage());
    }

    @Test
    void missingEmptyAndNonHdf5FilesAreRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        Model m = Applications.mobileNet().alpha(0.25).includeTop(false).build();
        Path none = dir.resolve("nothing.h5");
        var e = assertThrows(WeightsFileException.class, () -> m.loadWeights(none));
        assertTrue(e.getMessage().contains(none + "' does not exist"), e.getMessage());

        Path html = dir.resolve("error_page.h5");
        Files.writeString(html, "<html><body>403 Forbidden</body></html>");
        var e2 = assertThrows(WeightsFileException.class, () -> m.loadWeights(html));
        assertTrue(e2.getMessage().contains(html + "' is not an HDF5 file"), e2.getMessage());

        Path empty = dir.resolve("empty.h5");
        Files.write(empty, new byte[0]);
        var e3 = assertThrows(WeightsFileException.class, () -> m.loadWeights(empty));
        assertTrue(e3.getMessage().contains("empty"), e3.getMessage());
    }
}
