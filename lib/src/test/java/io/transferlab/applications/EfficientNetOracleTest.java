package io.transferlab.applications;

import io.jhdf.HdfFile;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.inference.Inference;
import io.transferlab.layers.Normalization;
import io.transferlab.models.Model;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * EfficientNetB0 against an independent implementation: scripts/oracles/efficientnet_keras_oracle.py builds Keras's
 * EfficientNetB0 (no top) in numpy, in double precision, from seeded weights and batch-norm statistics that it writes
 * in the layout of Keras's save_weights with the published layer names; the library loads that file by name and must
 * give the oracle's top_activation on 0-255 pixels at 32x32 and 64x64, on the fast inference plan and on DL4J
 * (relative error <= 1e-4). A second file holds the published files' normalization (ImageNet standard deviations as
 * "variance", tensorflow/tensorflow#49930): loaded from a path, by the builder or by loadWeights, the network must
 * compute (x / 255 - mean) / std. The oracle's parameter counts of B0..B7 (its own reading of efficientnet.py) must
 * equal the library's.
 */
class EfficientNetOracleTest {
    @TempDir
    static Path tmp;
    private static boolean ready;
    private static String log;

    @BeforeAll
    static void runOracle() throws Exception {
        Path script = Path.of("..", "scripts", "oracles", "efficientnet_keras_oracle.py").toAbsolutePath().normalize();
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), tmp.toString()).redirectErrorStream(true).start();
        log = new String(p.getInputStream().readAllBytes());
        boolean finished = p.waitFor(300, TimeUnit.SECONDS);
        ready = finished && p.exitValue() == 0 && Files.exists(tmp.resolve("efficientnet_io.h5"));
    }

    private static void needOracle() {
        assumeTrue(ready, "the oracle needs /usr/bin/python3 with numpy and h5py (apt-get install python3-numpy python3-h5py): " + log);
    }

    private static INDArray read(HdfFile io, String name) {
        return Nd4j.create((float[][][][]) io.getDatasetByPath(name).getData());
    }

    private static double rel(INDArray got, INDArray want) {
        return got.sub(want).norm2Number().doubleValue() / want.norm2Number().doubleValue();
    }

    @Test
    void b0MatchesTheNumpyOracleOnBothEngines() {
        needOracle();
        try (HdfFile io = new HdfFile(tmp.resolve("efficientnet_io.h5"))) {
            for (int size : new int[]{32, 64}) {
                Model m = Applications.efficientNetB0().includeTop(false).inputShape(size, size, 3).build();
                m.loadWeights(tmp.resolve("efficientnet_weights.h5"));
                INDArray x = read(io, "x" + size);
                INDArray want = read(io, "y" + size);
                assertTrue(Inference.describe(m).startsWith("oneDNN plan"), "the plan should cover EfficientNet: " + Inference.describe(m));
                double fast = rel(m.predict(x), want);
                double dl4j = rel(Dl4jEngine.get().network(m).outputSingle(false, x), want);
                System.out.printf("EfficientNetB0 %dx%d: relative error plan %.2e, DL4J %.2e%n", size, size, fast, dl4j);
                assertTrue(fast <= 1e-4, size + "x" + size + ", fast plan: relative error " + fast);
                assertTrue(dl4j <= 1e-4, size + "x" + size + ", DL4J: relative error " + dl4j);
            }
        }
    }

    @Test
    void thePublishedNormalizationLayoutIsCorrected() {
        needOracle();
        Path published = tmp.resolve("efficientnet_published_layout.h5");
        try (HdfFile io = new HdfFile(tmp.resolve("efficientnet_io.h5"))) {
            INDArray x = read(io, "x32");
            INDArray want = read(io, "yp32");
            Model byBuilder = Applications.efficientNetB0().includeTop(false).inputShape(32, 32, 3)
                    .weights(published.toString()).build();
            Model byLoad = Applications.efficientNetB0().includeTop(false).inputShape(32, 32, 3).build();
            byLoad.loadWeights(published);
            for (Model m : List.of(byBuilder, byLoad)) {
                double[] scale = ((Normalization) m.getLayer("normalization")).scaleAndShift(3)[0];
                double[] std = {0.229, 0.224, 0.225};
                for (int c = 0; c < 3; c++) {
                    assertEquals(1 / std[c], scale[c], 1e-4, "the normalization divides by the standard deviation");
                }
                double fast = rel(m.predict(x), want);
                double dl4j = rel(Dl4jEngine.get().network(m).outputSingle(false, x), want);
                System.out.printf("published layout: relative error plan %.2e, DL4J %.2e%n", fast, dl4j);
                assertTrue(fast <= 1e-4 && dl4j <= 1e-4, "plan " + fast + ", DL4J " + dl4j);
            }
            // our own file of the oracle's weights (variance not the ImageNet std) is taken as it is
            Model plain = Applications.efficientNetB0().includeTop(false).inputShape(32, 32, 3).build();
            plain.loadWeights(tmp.resolve("efficientnet_weights.h5"));
            assertTrue(rel(plain.predict(x), read(io, "y32")) <= 1e-4);
        }
    }

    @Test
    void countsEqualTheOraclesForAllEightVariants() {
        needOracle();
        List<Supplier<EfficientNet>> variants = List.of(Applications::efficientNetB0, Applications::efficientNetB1,
                Applications::efficientNetB2, Applications::efficientNetB3, Applications::efficientNetB4,
                Applications::efficientNetB5, Applications::efficientNetB6, Applications::efficientNetB7);
        try (HdfFile io = new HdfFile(tmp.resolve("efficientnet_io.h5"))) {
            long[] top = (long[]) io.getAttribute("counts_top").getData();
            long[] notop = (long[]) io.getAttribute("counts_notop").getData();
            for (int b = 0; b < 8; b++) {
                assertEquals(top[b], variants.get(b).get().build().countParams(), "B" + b + " with top");
                assertEquals(notop[b], variants.get(b).get().includeTop(false).build().countParams(), "B" + b + " without top");
            }
        }
    }
}
