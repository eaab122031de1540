package io.transferlab.weights;

import io.transferlab.layers.Add;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.Flatten;
import io.transferlab.layers.Layers;
import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Keras 1 files with automatic layer names are loaded by layer order: weights go to their roles whatever their order
 * in the file (running_std is the variance), a model whose names are the file's still loads by name, and a model
 * whose order the shapes cannot confirm (two same-shaped layers at the same depth) is refused. The files are written
 * with h5py (the test is skipped without /usr/bin/python3, numpy and h5py).
 */
class Keras1OrderTest {
    @TempDir
    Path tmp;

    /** Keras 1 layout: no keras_version, datasets directly in each layer's group, values 0.01 * (index + offset). */
    private static final String WRITER = """
            import sys, h5py, numpy as np
            layers = [("input_1", []),
                      ("convolution2d_1", [("convolution2d_1_W:0", (3, 3, 2, 4)), ("convolution2d_1_b:0", (4,))]),
                      ("batchnormalization_1", [("batchnormalization_1_running_std:0", (4,)),
                                                ("batchnormalization_1_gamma:0", (4,)),
                                                ("batchnormalization_1_beta:0", (4,)),
                                                ("batchnormalization_1_running_mean:0", (4,))]),
                      ("flatten_1", []),
                      ("dense_1", [("dense_1_W:0", (64, 2)), ("dense_1_b:0", (2,))])]
            if sys.argv[2] == "branches":
                layers = [("input_1", []),
                          ("convolution2d_1", [("convolution2d_1_W:0", (1, 1, 2, 4)), ("convolution2d_1_b:0", (4,))]),
                          ("convolution2d_2", [("convolution2d_2_W:0", (1, 1, 2, 4)), ("convolution2d_2_b:0", (4,))]),
                          ("merge_1", [])]
            with h5py.File(sys.argv[1], "w") as f:
                f.attrs["layer_names"] = np.array([n.encode() for n, _ in layers])
                for k, (name, ws) in enumerate(layers):
                    g = f.create_group(name)
                    g.attrs["weight_names"] = np.array([w.encode() for w, _ in ws])
                    for j, (w, shape) in enumerate(ws):
                        n = int(np.prod(shape))
                        g.create_dataset(w, data=(0.01 * (np.arange(n) + 100 * k + 10 * j)).reshape(shape).astype(np.float32))
            """;

    private Path write(String kind) throws Exception {
        Path file = tmp.resolve(kind + ".h5");
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", WRITER, file.toString(), kind).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        boolean finished = p.waitFor(120, TimeUnit.SECONDS);
        assumeTrue(finished && p.exitValue() == 0 && Files.exists(file),
                "writing a Keras 1 file needs /usr/bin/python3 with numpy and h5py: " + log);
        return file;
    }

    private static Model chain(String conv, String bn, String dense) {
        Tensor in = Layers.Input(4, 4, 2);
        Tensor x = new Conv2D(4, 3, 3, conv).padding("same").on(in);
        x = new BatchNormalization(bn).on(x);
        x = new Flatten("flatten").on(x);
        return Model.of("chain", in, new Dense(2, "softmax", dense).on(x));
    }

    /** The value the writer gives element 0 of weight j of layer k. */
    private static float first(int k, int j) {
        return (float) (0.01 * (100 * k + 10 * j));
    }

    @Test
    void weightsGoToTheirRolesByOrder() throws Exception {
        Path file = write("chain");
        Model m = chain("block1_conv", "block1_bn", "predictions");
        KerasWeights.Loaded loaded = m.loadWeights(file);
        assertTrue(loaded.byOrder(), loaded.toString());
        assertTrue(loaded.toString().contains("by layer order"), loaded.toString());
        assertEquals(List.of("block1_conv", "block1_bn", "predictions"), loaded.layers());
        List<INDArray> conv = m.getLayer("block1_conv").getWeights();
        assertEquals(first(1, 0), conv.get(0).getFloat(0), 1e-7);
        assertEquals(first(1, 1), conv.get(1).getFloat(0), 1e-7);
        assertArrayEquals(new long[]{3, 3, 2, 4}, conv.get(0).shape());
        // Keras 2's order gamma, beta, moving_mean, moving_variance; the file listed running_std first
        List<INDArray> bn = m.getLayer("block1_bn").getWeights();
        assertEquals(first(2, 1), bn.get(0).getFloat(0), 1e-7);
        assertEquals(first(2, 2), bn.get(1).getFloat(0), 1e-7);
        assertEquals(first(2, 3), bn.get(2).getFloat(0), 1e-7);
        assertEquals(first(2, 0), bn.get(3).getFloat(0), 1e-7);
        assertEquals(first(4, 0), m.getLayer("predictions").getWeights().get(0).getFloat(0), 1e-7);
    }

    @Test
    void aModelWithTheFilesNamesStillLoadsByName() throws Exception {
        Path file = write("chain");
        Model m = chain("convolution2d_1", "batchnormalization_1", "dense_1");
        KerasWeights.Loaded loaded = m.loadWeights(file);
        assertFalse(loaded.byOrder(), loaded.toString());
        assertEquals(first(1, 0), m.getLayer("convolution2d_1").getWeights().get(0).getFloat(0), 1e-7);
    }

    @Test
    void aTypeOrShapeThatDoesNotFitIsNamed() throws Exception {
        Path file = write("chain");
        Tensor in = Layers.Input(4, 4, 2);
        Tensor x = new Conv2D(5, 3, 3, "wide_conv").padding("same").on(in);
        x = new BatchNormalization("bn").on(x);
        Model wide = Model.of(in, new Dense(2, "linear", "dense_head").on(new Flatten("f").on(x)));
        var e = assertThrows(WeightsFileException.class, () -> wide.loadWeights(file));
        assertTrue(e.getMessage().contains("'wide_conv'") && e.getMessage().contains("convolution2d_1")
                && e.getMessage().contains("(3, 3, 2, 4)"), e.getMessage());
        Tensor in2 = Layers.Input(4, 4, 2);
        Tensor y = new BatchNormalization("bn_first").on(in2);
        y = new Conv2D(4, 3, 3, "conv_second").padding("same").on(y);
        Model swapped = Model.of(in2, new Dense(2, "linear", "d").on(new Flatten("f2").on(y)));
        var t = assertThrows(WeightsFileException.class, () -> swapped.loadWeights(file));
        assertTrue(t.getMessage().contains("'bn_first'") && t.getMessage().contains("Conv2D"), t.getMessage());
    }

    @Test
    void twoSameShapedLayersAtTheSameDepthAreAmbiguous() throws Exception {
        Path file = write("branches");
        Tensor in = Layers.Input(4, 4, 2);
        Tensor a = new Conv2D(4, 1, 1, "left").on(in);
        Tensor b = new Conv2D(4, 1, 1, "right").on(in);
        Model m = Model.of(in, new Add("sum").on(a, b));
        INDArray before = m.getLayer("left").getWeights().get(0).dup();
        var e = assertThrows(WeightsFileException.class, () -> m.loadWeights(file));
        assertTrue(e.getMessage().contains("ambiguous") && e.getMessage().contains("'left'")
                && e.getMessage().contains("'right'"), e.getMessage());
        assertEquals(before, m.getLayer("left").getWeights().get(0));
    }
}
