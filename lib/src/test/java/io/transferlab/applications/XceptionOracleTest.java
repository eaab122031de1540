package io.transferlab.applications;

import io.jhdf.HdfFile;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.models.Model;
import io.transferlab.weights.KerasWeights;
import io.transferlab.weights.WeightsFileException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Xception against an independent implementation: scripts/oracles/xception_keras_oracle.py builds Keras's Xception
 * (no top) in numpy, in double precision, from seeded weights and batch-norm statistics, and writes them twice: in
 * Keras 2's save_weights layout (loaded by name) and as Keras 1.2 wrote the published Xception files (automatic
 * layer names, Keras 1 weight names, Keras's layer order; loaded by order). Both must give the oracle's
 * block14_sepconv2_act at 71x71 and 96x96, on the fast plan and on DL4J (relative error <= 1e-4); Keras 1 files
 * with two layers swapped or a wrong shape must fail, naming the layer.
 */
class XceptionOracleTest {
    @TempDir
    static Path tmp;

    @BeforeAll
    static void runOracle() throws Exception {
        Path script = Path.of("..", "scripts", "oracles", "xception_keras_oracle.py").toAbsolutePath().normalize();
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), tmp.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        boolean finished = p.waitFor(300, TimeUnit.SECONDS);
        assumeTrue(finished && p.exitValue() == 0 && Files.exists(tmp.resolve("xception_io.h5")),
                "the oracle needs /usr/bin/python3 with numpy and h5py (apt-get install python3-numpy python3-h5py): " + log);
    }

    private static void check(String weights, boolean byOrder) throws Exception {
        try (HdfFile io = new HdfFile(tmp.resolve("xception_io.h5"))) {
            for (int size : new int[]{71, 96}) {
                Model m = Applications.xception().includeTop(false).inputShape(size, size, 3).build();
                KerasWeights.Loaded loaded = KerasWeights.load(tmp.resolve(weights), m);
                assertEquals(byOrder, loaded.byOrder(), loaded.toString());
                assertEquals(80, loaded.layers().size());
                assertEquals(m.countParams(), loaded.values());
                INDArray x = Nd4j.create((float[][][][]) io.getDatasetByPath("x" + size).getData());
                INDArray want = Nd4j.create((float[][][][]) io.getDatasetByPath("y" + size).getData());
                double scale = want.norm2Number().doubleValue();
                double fast = m.predict(x).sub(want).norm2Number().doubleValue() / scale;
                double dl4j = Dl4jEngine.get().network(m).outputSingle(false, x).sub(want).norm2Number().doubleValue() / scale;
                System.out.printf(Locale.ROOT, "%s %dx%d: relative error fast plan %.3g, DL4J %.3g%n", weights, size, size,
                        fast, dl4j);
                assertTrue(fast <= 1e-4, weights + " " + size + "x" + size + ", fast plan: relative error " + fast);
                assertTrue(dl4j <= 1e-4, weights + " " + size + "x" + size + ", DL4J: relative error " + dl4j);
            }
        }
    }

    @Test
    void keras2FileByName() throws Exception {
        check("xception_weights.h5", false);
    }

    @Test
    void keras1FileByOrder() throws Exception {
        check("xception_k1_weights.h5", true);
        assertEquals("convolution2d_1", KerasWeights.layerNames(tmp.resolve("xception_k1_weights.h5")).get(1));
    }

    @Test
    void keras1FileWithLayersSwappedOrAWrongShapeFailsNamingTheLayer() {
        Model m = Applications.xception().includeTop(false).inputShape(71, 71, 3).build();
        INDArray before = m.getLayer("block1_conv2").getWeights().get(0).dup();
        var swapped = assertThrows(WeightsFileException.class,
                () -> m.loadWeights(tmp.resolve("xception_k1_swapped.h5")));
        assertTrue(swapped.getMessage().contains("'block1_conv2'") && swapped.getMessage().contains("convolution2d_3"),
                swapped.getMessage());
        var shape = assertThrows(WeightsFileException.class,
                () -> m.loadWeights(tmp.resolve("xception_k1_badshape.h5")));
        assertTrue(shape.getMessage().contains("'block4_sepconv1'") && shape.getMessage().contains("separableconvolution2d_5")
                && shape.getMessage().contains("(1, 1, 256, 727)"), shape.getMessage());
        // nothing was loaded by the failed attempts
        assertEquals(before, m.getLayer("block1_conv2").getWeights().get(0));
        // a Keras 1 file into a model with other layers: the counts differ, said so
        Model top = Applications.xception().classes(5).build();
        var count = assertThrows(WeightsFileException.class, () -> top.loadWeights(tmp.resolve("xception_k1_weights.h5")));
        assertTrue(count.getMessage().contains("80 layers with weights") && count.getMessage().contains("81"),
                count.getMessage());
    }
}
