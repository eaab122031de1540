package io.transferlab.applications;

import io.transferlab.models.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VGG19 against an independent implementation: scripts/oracles/vgg_keras_oracle.py builds Keras's VGG19 (no top) in
 * numpy, double precision, from seeded weights written in Keras's save_weights layout; the library loads the file by
 * name and must give block5_pool at 32x32 (a 1x1 map) and 64x64 on the fast plan and on DL4J (relative error
 * &lt;= 1e-4). A defect (one convolution's kernel read in reverse order, as a wrong kernel layout would) must fail that bound.
 */
class VggOracleTest {
    @TempDir
    Path tmp;

    @Test
    void vgg19MatchesTheNumpyOracle() throws Exception {
        NumpyOracle.run(tmp, "vgg_keras_oracle.py");
        for (int size : new int[]{32, 64}) {
            Model m = Applications.vgg19().includeTop(false).inputShape(size, size, 3).build();
            assertEquals(20_024_384L, m.loadWeights(tmp.resolve("vgg_weights.h5")).values());
            double[] err = NumpyOracle.errors(m, tmp.resolve("vgg_io.h5"), size);
            System.out.printf("VGG19 %dx%d: relative error %.2e (fast plan), %.2e (DL4J)%n", size, size, err[0], err[1]);
            assertTrue(err[0] <= 1e-4, "VGG19 " + size + "x" + size + ", fast plan: relative error " + err[0]);
            assertTrue(err[1] <= 1e-4, "VGG19 " + size + "x" + size + ", DL4J: relative error " + err[1]);
        }
        // the defect: block3_conv4's kernel values in reverse order (every axis reversed), as a wrong layout would load them
        Model m = Applications.vgg19().includeTop(false).inputShape(64, 64, 3).build();
        m.loadWeights(tmp.resolve("vgg_weights.h5"));
        var layer = m.getLayer("block3_conv4");
        var k = layer.getWeights().get(0);
        var flipped = Nd4j.reverse(k.dup());
        layer.setWeights(List.of(flipped.reshape(k.shape()), layer.getWeights().get(1)));
        double[] err = NumpyOracle.errors(m, tmp.resolve("vgg_io.h5"), 64);
        System.out.printf("VGG19 with block3_conv4 reversed: relative error %.2e (fast plan), %.2e (DL4J)%n", err[0], err[1]);
        assertTrue(err[0] > 1e-2 && err[1] > 1e-2, "a reversed kernel must show: " + err[0] + ", " + err[1]);
    }
}
