package io.transferlab.models;

import io.transferlab.layers.Layer;
import io.transferlab.layers.Tensor;
import io.transferlab.weights.KerasWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * model.saveWeights writes Keras's save_weights HDF5 layout, checked by an independent reader
 * (scripts/oracles/keras_h5_check.py: h5py and numpy, reading as Keras's by-name loader does): layer_names,
 * per-group weight_names in Keras's legacy order (trainable first) for a nested model, frozen or not, dataset paths
 * layer/layer/kernel:0, shapes, float32 values (SHA-256 of the bytes), a scalar weight, and Keras's splitting of
 * attributes over 64,512 bytes; and loadWeights reads the file back bit for bit.
 */
class SaveWeightsTest {
    @TempDir
    Path tmp;

    /** A normalization on the input, a nested model (a frozen convolution, batch norm, pooling, dense), a head. */
    static Model nestedModel() {
        Tensor ii = Input("inner_in", 8, 8, 3);
        Tensor y = new io.transferlab.layers.Conv2D(4, 3, 3, "conv").on(ii);
        y = BatchNormalization("bn").on(y);
        y = GlobalAveragePooling2D("gap").on(y);
        y = Dense(5, "relu", "inner_dense").on(y);
        Model inner = Model.of("inner", ii, y);
        inner.getLayer("conv").setTrainable(false);
        Tensor in = Input("img", 8, 8, 3);
        Tensor x = Normalization("norm").on(in);
        x = inner.on(x);
        x = Dropout(0.5, "drop").on(x);
        Model m = Model.of("outer", in, Dense(3, "softmax", "head").on(x));
        randomize(m, 7);
        return m;
    }

    /** Gives every weight of the model new random values (moving variances and the count positive). */
    static void randomize(Model m, long seed) {
        Nd4j.getRandom().setSeed(seed);
        for (var leaf : m.leaves()) {
            Layer l = leaf.layer();
            if (l.weightSpecs().isEmpty()) {
                continue;
            }
            List<INDArray> w = new ArrayList<>();
            for (var spec : l.weightSpecs()) {
                INDArray a = Nd4j.rand(DataType.FLOAT, spec.shape());
                w.add(spec.name().contains("variance") || spec.name().equals("count") ? a.addi(0.5) : a.subi(0.5));
            }
            l.setWeights(w);
        }
    }

    static float[] flat(INDArray a) {
        return Nd4j.toFlattened('c', a).toFloatVector();
    }

    static String sha256(INDArray a) throws Exception {
        float[] v = Nd4j.toFlattened('c', a.castTo(DataType.FLOAT)).toFloatVector();
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }

    /** The independent reader's view of a file; skips (with the reason) when python3, h5py or numpy is missing. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> kerasView(Path file) throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "/usr/bin/python3 is missing: skipping the independent check of the "
                + "HDF5 layout (install python3 with numpy and h5py: apt-get install python3-numpy python3-h5py)");
        Path script = Path.of("..", "scripts", "oracles", "keras_h5_check.py").toAbsolutePath().normalize();
        Process p = new ProcessBuilder(python.toString(), script.toString(), file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the check script did not finish");
        assumeTrue(p.exitValue() != 3, "python3 lacks h5py or numpy (" + out.trim() + "): skipping the independent "
                + "check of the HDF5 layout (apt-get install python3-numpy python3-h5py)");
        assertEquals(0, p.exitValue(), "keras_h5_check.py failed on " + file + ":\n" + out);
        return (Map<String, Object>) Json.parse(out);
    }

    @SuppressWarnings("unchecked")
    static List<String> weightNames(Map<String, Object> view, String group) {
        return ((List<Map<String, Object>>) ((Map<String, Object>) view.get("groups")).get(group)).stream()
                .map(w -> (String) w.get("name")).toList();
    }

    @Test
    @SuppressWarnings("unchecked")
    void theFileHasKerasLayoutAsAnIndependentReaderSeesIt() throws Exception {
        Model m = nestedModel();
        Path file = tmp.resolve("weights.h5");
        var saved = m.saveWeights(file);
        assertEquals(List.of("img", "norm", "inner", "drop", "head"), saved.layers());

        Map<String, Object> view = kerasView(file);
        assertEquals(List.of("img", "norm", "inner", "drop", "head"), view.get("layer_names"), "Keras's model.layers");
        assertEquals("tensorflow", view.get("backend"));
        assertEquals(List.of(), weightNames(view, "img"));
        assertEquals(List.of(), weightNames(view, "drop"));
        assertEquals(List.of("norm/mean:0", "norm/variance:0", "norm/count:0"), weightNames(view, "norm"));
        assertEquals(List.of("head/kernel:0", "head/bias:0"), weightNames(view, "head"));
        // Keras's _legacy_weights of a nested model: its trainable weights layer by layer, then the non-trainable
        // ones (the frozen convolution's kernel and bias, the moving statistics)
        assertEquals(List.of("bn/gamma:0", "bn/beta:0", "inner_dense/kernel:0", "inner_dense/bias:0",
                "conv/kernel:0", "conv/bias:0", "bn/moving_mean:0", "bn/moving_variance:0"), weightNames(view, "inner"));

        // shapes, float32 and the very values, weight by weight
        Map<String, Object> groups = (Map<String, Object>) view.get("groups");
        int checked = 0;
        for (String group : List.of("norm", "inner", "head")) {
            for (Map<String, Object> w : (List<Map<String, Object>>) groups.get(group)) {
                String[] parts = ((String) w.get("name")).split("/");
                Layer owner = m.leaves().stream().map(l -> l.layer()).filter(l -> l.name().equals(parts[0]))
                        .findFirst().orElseThrow();
                int idx = owner.weightSpecs().stream().map(s -> s.name() + ":0").toList().indexOf(parts[1]);
                INDArray value = owner.getWeights().get(idx);
                List<Long> shape = new ArrayList<>();
                for (long d : value.shape()) {
                    shape.add(d);
                }
                assertEquals(shape, w.get("shape"), w.get("name") + " shape");
                assertEquals("float32", w.get("dtype"), w.get("name") + " dtype");
                assertEquals(sha256(value), w.get("sha256"), w.get("name") + " values");
                checked++;
            }
        }
        assertEquals(13, checked);
        assertEquals(List.of(), ((List<Object>) ((Map<String, Object>) view.get("groups")).get("norm")).stream()
                .filter(w -> ((Map<String, Object>) w).get("name").equals("norm/count:0"))
                .map(w -> ((Map<String, Object>) w).get("shape")).filter(s -> !((List<?>) s).isEmpty()).toList(),
                "the count is a scalar, shape ()");

        // the whole nested model frozen: every variable is non-trainable, in the layers' own order
        m.getLayer("inner").setTrainable(false);
        m.saveWeights(file);
        assertEquals(List.of("conv/kernel:0", "conv/bias:0", "bn/gamma:0", "bn/beta:0", "bn/moving_mean:0",
                "bn/moving_variance:0", "inner_dense/kernel:0", "inner_dense/bias:0"), weightNames(kerasView(file), "inner"));
    }

    @Test
    void loadWeightsReadsItBackBitForBit() throws Exception {
        Model m = nestedModel();
        Path file = tmp.resolve("round.h5");
        m.saveWeights(file);
        List<List<INDArray>> before = new ArrayList<>();
        for (var leaf : m.leaves()) {
            List<INDArray> w = leaf.layer().getWeights();
            before.add(w == null ? List.of() : w.stream().map(INDArray::dup).toList());
        }
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 8, 8, 3);
        float[] want = flat(m.predict(x));
        randomize(m, 99);
        assertFalse(java.util.Arrays.equals(want, flat(m.predict(x))), "new weights change the output");

        KerasWeights.Loaded loaded = m.loadWeights(file);
        assertEquals(List.of("norm", "conv", "bn", "inner_dense", "head"), loaded.layers());
        for (int i = 0; i < before.size(); i++) {
            List<INDArray> now = m.leaves().get(i).layer().getWeights();
            for (int j = 0; j < before.get(i).size(); j++) {
                assertArrayEquals(before.get(i).get(j).shape(), now.get(j).shape());
                assertArrayEquals(flat(before.get(i).get(j)), flat(now.get(j)), 0f,
                        m.leaves().get(i).layer().name() + " weight " + j);
            }
        }
        assertArrayEquals(want, flat(m.predict(x)), 0f, "the same predictions, bit for bit");
        assertFalse(Files.list(tmp).anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
    }

    @Test
    void aSequentialWithABaseListsTheBaseAsOneGroup() throws Exception {
        Tensor ii = Input("base_in", 6, 6, 3);
        Model base = Model.of("base", ii, new io.transferlab.layers.Conv2D(2, 3, 3, "base_conv").on(ii));
        Sequential s = Sequential.of(base, Flatten("flat"), Dense(2, "softmax", "out"));
        s.named("seq");
        randomize(s, 3);
        Path file = tmp.resolve("seq.h5");
        s.saveWeights(file);
        Map<String, Object> view = kerasView(file);
        assertEquals(List.of("base", "flat", "out"), view.get("layer_names"), "a Sequential's layers, without input");
        assertEquals(List.of("base_conv/kernel:0", "base_conv/bias:0"), weightNames(view, "base"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void layerNamesOverTheHeaderLimitAreSplitAsKerasSplitsThem() throws Exception {
        Tensor in = Input("long_input", 2);
        Tensor x = in;
        String pad = "x".repeat(110);
        for (int i = 0; i < 640; i++) { // 641 names of 115 bytes: 73,715 bytes, more than 64,512
            x = Dense(1, null, String.format("d%03d_%s", i, pad)).on(x);
        }
        Model m = Model.of("long", in, x);
        Path file = tmp.resolve("long.h5");
        m.saveWeights(file);
        Map<String, Object> view = kerasView(file);
        assertEquals(m.layerNames(), view.get("layer_names"));
        assertEquals(List.of("layer_names0", "layer_names1"), view.get("split_attributes"));
        assertEquals(m.layerNames(), KerasWeights.layerNames(file), "the library's reader joins the parts too");
        m.loadWeights(file);
    }

    @Test
    void twoLayersOfOneNameAreRefused() {
        Tensor in = Input("dup_in", 4);
        Tensor x = Dense(2, null, "same").on(in);
        Model m = Model.of("dup", in, Dense(2, null, "same").on(x));
        var e = assertThrows(IllegalArgumentException.class, () -> m.saveWeights(tmp.resolve("dup.h5")));
        assertTrue(e.getMessage().contains("two layers named 'same'"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("dup.h5")));
    }
}
