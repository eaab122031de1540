package io.transferlab.applications;

import io.transferlab.engine.onednn.OneDnnEngine;
import io.transferlab.models.Model;
import io.transferlab.weights.KerasWeights;
import io.transferlab.weights.WeightsFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DenseNet121 against an independent implementation: scripts/oracles/densenet_keras_oracle.py builds Keras's
 * DenseNet121 (no top) in numpy, in double precision, from seeded weights and batch-norm statistics that it writes in
 * the layout of Keras 2's save_weights with the names of the published files (conv1/conv and conv1/bn as nested HDF5
 * groups, every layer listed, those without weights too); the library loads that file by layer name and must give the
 * oracle's output (the last relu) at 32x32 (a 1x1 map) and 64x64, on the fast inference plan and on DL4J (relative
 * error &lt;= 1e-4). The same file with outputs computed with a wrong batch-norm epsilon (1e-3) must fail that bound.
 */
class DenseNetOracleTest {
    @TempDir
    Path tmp;

    @Test
    void denseNet121MatchesTheNumpyOracle() throws Exception {
        Path dir = NumpyOracle.run(tmp, "densenet_keras_oracle.py");
        Path weights = dir.resolve("densenet_weights.h5");
        for (int size : new int[]{32, 64}) {
            Model m = Applications.denseNet121().includeTop(false).inputShape(size, size, 3).build();
            KerasWeights.Loaded loaded = m.loadWeights(weights);
            assertEquals(241, loaded.layers().size(), "layers with weights: 120 convolutions and 121 batch norms");
            assertEquals(m.countParams(), loaded.values());
            double[] err = NumpyOracle.errors(m, dir.resolve("densenet_io.h5"), size);
            System.out.printf("DenseNet121 %dx%d: relative error %.2e (fast plan), %.2e (DL4J)%n", size, size, err[0], err[1]);
            assertNull(OneDnnEngine.get().whyNot(m), "the fast plan must take DenseNet without falling back");
            assertTrue(err[0] <= 1e-4, size + "x" + size + ", fast plan: relative error " + err[0]);
            assertTrue(err[1] <= 1e-4, size + "x" + size + ", DL4J: relative error " + err[1]);
        }
        // the file in another network: refused, naming what it is (DenseNet shares conv2_block1_1_conv with ResNet)
        var e = assertThrows(WeightsFileException.class,
                () -> Applications.resNet50().includeTop(false).build().loadWeights(weights));
        assertTrue(e.getMessage().contains("this looks like weights for DenseNet"), e.getMessage());
    }

    @Test
    void aWrongEpsilonIsCaught() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("defect"));
        NumpyOracle.run(dir, "densenet_keras_oracle.py", "--epsilon", "1e-3", "--sizes", "32");
        Model m = Applications.denseNet121().includeTop(false).inputShape(32, 32, 3).build();
        m.loadWeights(dir.resolve("densenet_weights.h5"));
        double[] err = NumpyOracle.errors(m, dir.resolve("densenet_io.h5"), 32);
        System.out.printf("DenseNet121 against an oracle with epsilon 1e-3: relative error %.2e (fast plan), %.2e (DL4J)%n", err[0], err[1]);
        assertTrue(err[0] > 1e-3 && err[1] > 1e-3, "a wrong epsilon must show: " + err[0] + ", " + err[1]);
    }
}
