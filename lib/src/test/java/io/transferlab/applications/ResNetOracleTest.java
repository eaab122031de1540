package io.transferlab.applications;

import io.jhdf.HdfFile;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.models.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * ResNet50 against an independent implementation: scripts/oracles/resnet_keras_oracle.py builds Keras's ResNet50
 * (v1) in numpy, in double precision, from seeded weights and batch-norm statistics that it writes in the layout of
 * Keras's save_weights; the library loads that file by layer name and must give the oracle's conv5_block3_out at two
 * input sizes, on the fast inference plan and on DL4J (relative error <= 1e-4). The same for ResNet50V2 (the
 * oracle's v2) and ResNet101 at 32x32 and 64x64, and an oracle computed with a wrong batch-norm epsilon must fail.
 */
class ResNetOracleTest {
    @TempDir
    Path tmp;

    @Test
    void resNet50MatchesTheNumpyOracle() throws Exception {
        Path script = Path.of("..", "scripts", "oracles", "resnet_keras_oracle.py").toAbsolutePath().normalize();
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), tmp.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        boolean finished = p.waitFor(300, TimeUnit.SECONDS);
        assumeTrue(finished && p.exitValue() == 0 && Files.exists(tmp.resolve("resnet_io.h5")),
                "the oracle needs /usr/bin/python3 with numpy and h5py (apt-get install python3-numpy python3-h5py): " + log);
        try (HdfFile io = new HdfFile(tmp.resolve("resnet_io.h5"))) {
            for (int size : new int[]{64, 96}) {
                Model m = Applications.resNet50().includeTop(false).inputShape(size, size, 3).build();
                m.loadWeights(tmp.resolve("resnet_weights.h5"));
                INDArray x = Nd4j.create((float[][][][]) io.getDatasetByPath("x" + size).getData());
                INDArray want = Nd4j.create((float[][][][]) io.getDatasetByPath("y" + size).getData());
                double scale = want.norm2Number().doubleValue();
                double fast = m.predict(x).sub(want).norm2Number().doubleValue() / scale;
                double dl4j = Dl4jEngine.get().network(m).outputSingle(false, x).sub(want).norm2Number().doubleValue() / scale;
                assertTrue(fast <= 1e-4, size + "x" + size + ", fast plan: relative error " + fast);
                assertTrue(dl4j <= 1e-4, size + "x" + size + ", DL4J: relative error " + dl4j);
            }
        }
    }

    /** The oracle's v2 (pre-activation) network, at 32x32 (a 1x1 map at the end) and 64x64. */
    @Test
    void resNet50V2MatchesTheNumpyOracle() throws Exception {
        NumpyOracle.run(tmp, "resnet_keras_oracle.py", "--variant", "v2", "--sizes", "32,64");
        for (int size : new int[]{32, 64}) {
            Model m = Applications.resNet50V2().includeTop(false).inputShape(size, size, 3).build();
            assertEquals(m.countParams(), m.loadWeights(tmp.resolve("resnet_weights.h5")).values());
            double[] err = NumpyOracle.errors(m, tmp.resolve("resnet_io.h5"), size);
            System.out.printf("ResNet50V2 %dx%d: relative error %.2e (fast plan), %.2e (DL4J)%n", size, size, err[0], err[1]);
            assertTrue(err[0] <= 1e-4, "ResNet50V2 " + size + "x" + size + ", fast plan: relative error " + err[0]);
            assertTrue(err[1] <= 1e-4, "ResNet50V2 " + size + "x" + size + ", DL4J: relative error " + err[1]);
        }
    }

    /** ResNet101 (v1, 23 blocks in conv4) at 32x32 and 64x64. */
    @Test
    void resNet101MatchesTheNumpyOracle() throws Exception {
        NumpyOracle.run(tmp, "resnet_keras_oracle.py", "--blocks", "3,4,23,3", "--sizes", "32,64");
        for (int size : new int[]{32, 64}) {
            Model m = Applications.resNet101().includeTop(false).inputShape(size, size, 3).build();
            assertEquals(m.countParams(), m.loadWeights(tmp.resolve("resnet_weights.h5")).values());
            double[] err = NumpyOracle.errors(m, tmp.resolve("resnet_io.h5"), size);
            System.out.printf("ResNet101 %dx%d: relative error %.2e (fast plan), %.2e (DL4J)%n", size, size, err[0], err[1]);
            assertTrue(err[0] <= 1e-4, "ResNet101 " + size + "x" + size + ", fast plan: relative error " + err[0]);
            assertTrue(err[1] <= 1e-4, "ResNet101 " + size + "x" + size + ", DL4J: relative error " + err[1]);
        }
    }

    /** The same comparison against an oracle computed with a wrong batch-norm epsilon (1e-3) must fail the bound. */
    @Test
    void aWrongEpsilonIsCaught() throws Exception {
        for (String variant : new String[]{"v1", "v2"}) {
            Path dir = java.nio.file.Files.createDirectories(tmp.resolve(variant));
            NumpyOracle.run(dir, "resnet_keras_oracle.py", "--variant", variant, "--sizes", "32", "--epsilon", "1e-3");
            Model m = (variant.equals("v1") ? Applications.resNet50() : Applications.resNet50V2())
                    .includeTop(false).inputShape(32, 32, 3).build();
            m.loadWeights(dir.resolve("resnet_weights.h5"));
            double[] err = NumpyOracle.errors(m, dir.resolve("resnet_io.h5"), 32);
            System.out.printf("ResNet50 %s against an oracle with epsilon 1e-3: relative error %.2e (fast plan), %.2e (DL4J)%n",
                    variant, err[0], err[1]);
            assertTrue(err[0] > 1e-3 && err[1] > 1e-3, variant + ": a wrong epsilon must show: " + err[0] + ", " + err[1]);
        }
    }
}
