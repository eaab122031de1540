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

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * ResNet50 against an independent implementation: scripts/oracles/resnet_keras_oracle.py builds Keras's ResNet50
 * (v1) in numpy, in double precision, from seeded weights and batch-norm statistics that it writes in the layout of
 * Keras's save_weights; the library loads that file by layer name and must give the oracle's conv5_block3_out at two
 * input sizes, on the fast inference plan and on DL4J (relative error <= 1e-4).
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
}
