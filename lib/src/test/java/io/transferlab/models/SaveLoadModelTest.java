package io.transferlab.models;

import io.transferlab.applications.Applications;
import io.transferlab.data.ImageInput;
import io.transferlab.data.Preprocessing;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Layer;
import io.transferlab.layers.LayerConfig;
import io.transferlab.layers.Tensor;
import io.transferlab.weights.WeightsFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * model.save / Model.load: for every application family and the heads the notebooks build, the loaded model has
 * the same summary (names, shapes, parameter counts, trainable counts), the same trainable flag on every layer, the
 * same settings on every layer (Layer.config(), which lists every setting field), image preparation and class
 * names, and the same predictions bit for bit, in this JVM and in a new one. Broken files fail with messages that
 * name the file and the problem.
 */
class SaveLoadModelTest {
    @TempDir
    Path tmp;

    static float[] flat(INDArray a) {
        return Nd4j.toFlattened('c', a).toFloatVector();
    }

    /** Saves, loads and compares everything; returns the loaded model. */
    Model roundTrip(Model m, INDArray x) {
        Path file = tmp.resolve(m.name() + ".tlmodel");
        float[] want = flat(m.predict(x));
        m.save(file);
        Model r = Model.load(file);
        assertNotSame(m, r);
        assertEquals(m.getClass(), r.getClass());
        assertEquals(m.summaryText(), r.summaryText(), "the same summary");
        java.util.Map<String, Functional.Leaf> loaded = new java.util.HashMap<>();
        r.leaves().forEach(l -> loaded.put(l.layer().name(), l));
        assertEquals(m.leaves().size(), loaded.size());
        for (Functional.Leaf a : m.leaves()) {
            Layer la = a.layer();
            Functional.Leaf b = loaded.get(la.name());
            assertNotNull(b, la.name());
            assertEquals(la.config(), b.layer().config(), "every setting of " + la.name());
            assertEquals(la.isTrainable(), b.layer().isTrainable(), "trainable flag of " + la.name());
            assertEquals(a.trainable(), b.trainable(), "effective trainable flag of " + la.name());
        }
        assertEquals(m.trainableParams(), r.trainableParams());
        assertEquals(m.imageInput(), r.imageInput());
        assertEquals(m.classNames(), r.classNames());
        assertArrayEquals(want, flat(r.predict(x)), 0f, m.name() + ": the same predictions, bit for bit");
        return r;
    }

    static INDArray images(int n, int size) {
        Nd4j.getRandom().setSeed(5);
        return Nd4j.rand(DataType.FLOAT, n, size, size, 3).muli(2).subi(1);
    }

    /** A base without top, avg pooling, a new softmax head; part of the base frozen. */
    Model withHead(Model base, String headName) {
        Tensor x = Dropout(0.3, headName + "_drop").on(base.output());
        Model m = Model.of(headName, base.input(), Dense(3, "softmax", headName + "_out").on(x));
        base.freeze(0, base.layers().size() / 2);
        m.classNames("a", "b", "c");
        return m;
    }

    @Test
    void everyApplicationFamilyRoundTrips() {
        List<Supplier<Model>> families = List.of(
                () -> Applications.vgg16().includeTop(false).inputShape(32, 32, 3).pooling("avg").build(),
                () -> Applications.vgg19().includeTop(false).inputShape(32, 32, 3).pooling("max").build(),
                () -> Applications.resNet50().includeTop(false).inputShape(32, 32, 3).pooling("avg").build(),
                () -> Applications.resNet50V2().includeTop(false).inputShape(32, 32, 3).pooling("avg").build(),
                () -> Applications.inceptionV3().includeTop(false).inputShape(75, 75, 3).pooling("avg").build(),
                () -> Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(32, 32, 3).pooling("avg").build(),
                () -> Applications.mobileNetV2().alpha(0.35).includeTop(false).inputShape(32, 32, 3).pooling("avg").build(),
                () -> Applications.xception().includeTop(false).inputShape(71, 71, 3).pooling("avg").build(),
                () -> Applications.denseNet121().includeTop(false).inputShape(32, 32, 3).pooling("avg").build(),
                () -> Applications.efficientNetB0().includeTop(false).inputShape(32, 32, 3).pooling("avg").build());
        List<String> seen = new ArrayList<>();
        for (Supplier<Model> family : families) {
            Model base = family.get();
            seen.add(base.name());
            int size = (int) base.inputShape().get(0);
            Model m = withHead(base, base.name().replaceAll("[^a-z0-9]", "") + "_head");
            Model r = roundTrip(m, images(2, size));
            assertEquals(base.imageInput().preprocessing(), r.imageInput().preprocessing(), base.name());
        }
        assertEquals(10, seen.size(), "families: " + seen);
        Model base = families.get(5).get(); // and a base as built, a model of its own
        roundTrip(base, images(1, 32));
    }

    @Test
    void classifiersWithTheirTopRoundTrip() {
        // MobileNet's top: Reshape, Dropout, a 1x1 Conv2D, Reshape, softmax Activation; MobileNetV2's Dense top
        roundTrip(Applications.mobileNet().alpha(0.25).inputShape(128, 128, 3).classes(7).build(), images(1, 128));
        roundTrip(Applications.mobileNetV2().alpha(0.35).inputShape(96, 96, 3).classes(5).build(), images(1, 96));
    }

    @Test
    void theNotebookModelsRoundTrip() {
        // 06: a new network on block2_pool of VGG16, the first 7 layers frozen
        var vgg = Applications.vgg16().includeTop(false).inputShape(32, 32, 3).build();
        var x = vgg.layerDict().get("block2_pool").output();
        x = Conv2D(8, 3, "relu").on(x);
        x = MaxPooling2D(2).on(x);
        x = Flatten().on(x);
        x = Dense(16, "relu").on(x);
        x = Dropout(0.5).on(x);
        x = Dense(10, "softmax").on(x);
        var custom = Model.of("custom_model", vgg.input(), x);
        custom.freeze(0, 7);
        Model r = roundTrip(custom, images(2, 32));
        assertEquals(ImageInput.of(32, Preprocessing.CAFFE), r.imageInput(), "inherited from VGG16's builder");

        // 07: MobileNet 0.25 frozen, pooling named "features", dropout, a sigmoid unit; then its last block unfrozen
        var base = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(64, 64, 3).build();
        base.freeze();
        var y = GlobalAveragePooling2D("features").on(base.output());
        y = Dropout(0.2).on(y);
        var cats = Model.of(base.input(), Dense(1, "sigmoid").on(y));
        cats.classNames("cats", "dogs");
        roundTrip(cats, images(2, 64));
        base.unfreezeFrom("conv_dw_13");
        Model tuned = roundTrip(cats, images(2, 64));
        assertTrue(tuned.getLayer("conv_dw_13").isTrainable());
        assertFalse(tuned.getLayer("conv_dw_12").isTrainable());
        assertEquals(List.of("cats", "dogs"), tuned.classNames());

        // 05: augmentation layers in a nested Sequential, VGG16 built on their output, a dense head
        var augmentation = Sequential.withInput(32, 32, 3);
        augmentation.add(RandomFlip("horizontal"));
        augmentation.add(RandomRotation(0.1));
        augmentation.add(RandomZoom(0.2));
        var inputs = Input(32, 32, 3);
        var baseModel = Applications.vgg16().includeTop(false).inputTensor(augmentation.on(inputs)).build();
        var z = Flatten().on(baseModel.output());
        z = Dense(16, "relu").on(z);
        var flowers = Model.of(inputs, Dense(5, "softmax").on(z));
        baseModel.freeze(0, 15);
        roundTrip(flowers, images(2, 32));

        // 05, Sequential form: a frozen VGG16 as the first layer of a stack
        var vggBase = Applications.vgg16().includeTop(false).inputShape(32, 32, 3).build();
        var seq = Sequential.of(vggBase, Flatten(), Dense(16, "relu"), Dense(5, "softmax"));
        vggBase.setTrainable(false);
        Model s = roundTrip(seq, images(2, 32));
        assertInstanceOf(Sequential.class, s);
        assertFalse(((Model) s.getLayer(0)).isTrainable());
    }

    @Test
    void everyLayerTypeHasAConfigEntry() {
        for (String type : List.of("Dense", "Conv2D", "DepthwiseConv2D", "BatchNormalization", "Dropout", "Flatten",
                "Activation", "ReLU", "ZeroPadding2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
                "GlobalMaxPooling2D", "Concatenate", "Add", "Reshape", "Rescaling", "Normalization", "RandomFlip",
                "RandomRotation", "RandomZoom", "SeparableConv2D", "Multiply")) {
            assertTrue(LayerConfig.supports(type), type);
        }
        // settings that no application uses survive too
        var in = Input(8, 8, 3);
        var y = Rescaling(1 / 127.5, -1, "rescale").on(in);
        y = Normalization(new double[]{0.1, 0.2, 0.3}, new double[]{1, 2, 3}, "fixed_norm").on(y);
        y = ReLU(6.0).negativeSlope(0.1).threshold(0.05).on(y);
        y = new io.transferlab.layers.AveragePooling2D(3, 2, "avgpool").strides(1, 2).padding("same").on(y);
        y = ZeroPadding2D(1, 2, 0, 3).on(y);
        var a = new io.transferlab.layers.Conv2D(4, 3, 1, "c1").strides(2, 1).padding("same").useBias(false).on(y);
        var b = new io.transferlab.layers.DepthwiseConv2D(1, 3, "dw").depthMultiplier(2).padding("same")
                .strides(2, 1).on(new io.transferlab.layers.Conv2D(2, 1, 1, "c2").on(y));
        y = add(a, b);
        y = BatchNormalization("bn2").epsilon(1.001e-5).momentum(0.9).scale(false).on(y);
        y = concatenate(y, y);
        y = Reshape(-1).on(y);
        y = Dense(4, "tanh").useBias(false).on(y);
        roundTrip(Model.of("odd_settings", in, Activation("softmax").on(y)), images(2, 8));
    }

    @Test
    void aNewJvmLoadsTheSameModel() throws Exception {
        var base = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(64, 64, 3).build();
        base.freeze();
        var y = GlobalAveragePooling2D("features").on(base.output());
        var m = Model.of("child_check", base.input(), Dense(2, "softmax").on(y));
        m.classNames("cats", "dogs");
        Path file = tmp.resolve("child.tlmodel");
        m.save(file);
        INDArray x = images(3, 64);
        Path in = tmp.resolve("x.bin");
        Path out = tmp.resolve("y.bin");
        writeFloats(in, x.shape(), flat(x));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx2g", "-cp", System.getProperty("java.class.path"),
                LoadedModelChild.class.getName(), file.toString(), in.toString(), out.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the child did not finish");
        assertEquals(0, p.exitValue(), log);
        assertTrue(log.contains("classes [cats, dogs]"), log);
        assertArrayEquals(flat(m.predict(x)), readFloats(out), 0f, "a new JVM predicts the same, bit for bit");
    }

    static void writeFloats(Path f, long[] shape, float[] v) throws Exception {
        try (var o = new DataOutputStream(Files.newOutputStream(f))) {
            o.writeInt(shape.length);
            for (long d : shape) {
                o.writeLong(d);
            }
            for (float x : v) {
                o.writeFloat(x);
            }
        }
    }

    static float[] readFloats(Path f) throws Exception {
        try (var in = new DataInputStream(Files.newInputStream(f))) {
            int rank = in.readInt();
            long n = 1;
            for (int i = 0; i < rank; i++) {
                n *= in.readLong();
            }
            float[] v = new float[(int) n];
            for (int i = 0; i < n; i++) {
                v[i] = in.readFloat();
            }
            return v;
        }
    }

    // ---- broken files ----

    Path savedSmallModel() {
        var in = Input("small_in", 4);
        var m = Model.of("small", in, Dense(2, "softmax", "small_out").on(Dense(3, "relu", "small_hidden").on(in)));
        Path file = tmp.resolve("small.tlmodel");
        m.save(file);
        return file;
    }

    @Test
    void aTruncatedFileIsNamedAndCalledTruncated() throws Exception {
        Path file = savedSmallModel();
        byte[] all = Files.readAllBytes(file);
        Path cut = tmp.resolve("cut.tlmodel");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
        var e = assertThrows(ModelFileException.class, () -> Model.load(cut));
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("truncated or corrupt"), e.getMessage());
    }

    @Test
    void otherBrokenFilesSayWhatIsWrong() throws Exception {
        Path missing = tmp.resolve("nothing.tlmodel");
        var e1 = assertThrows(ModelFileException.class, () -> Model.load(missing));
        assertTrue(e1.getMessage().contains("does not exist") && e1.getMessage().contains(missing.toString()), e1.getMessage());

        Path text = Files.writeString(tmp.resolve("notes.tlmodel"), "just some text");
        var e2 = assertThrows(ModelFileException.class, () -> Model.load(text));
        assertTrue(e2.getMessage().contains("is not a transferlab model file"), e2.getMessage());

        Path h5 = tmp.resolve("w.h5");
        Model.load(savedSmallModel()).saveWeights(h5);
        var e3 = assertThrows(ModelFileException.class, () -> Model.load(h5));
        assertTrue(e3.getMessage().contains("HDF5") && e3.getMessage().contains("loadWeights"), e3.getMessage());

        // a corrupt model.json inside a sound zip
        Path file = savedSmallModel();
        Path badJson = rewrite(file, "bad.tlmodel", json -> json.replace("\"layers\"", "\"layers\" ]"));
        var e4 = assertThrows(ModelFileException.class, () -> Model.load(badJson));
        assertTrue(e4.getMessage().contains("model.json is corrupt") && e4.getMessage().contains(badJson.toString()),
                e4.getMessage());
    }

    @Test
    void aFileOfANewerFormatNamesTheVersionThisLibraryReads() throws Exception {
        Path file = savedSmallModel();
        Path newer = rewrite(file, "newer.tlmodel", json -> json.replace("\"format_version\": 1", "\"format_version\": 7"));
        var e = assertThrows(ModelFileException.class, () -> Model.load(newer));
        assertTrue(e.getMessage().contains("format version 7") && e.getMessage().contains("reads model format version 1")
                && e.getMessage().contains(newer.toString()), e.getMessage());
    }

    @Test
    void weightsOfAnotherArchitectureNameTheFirstMismatchingLayer() {
        Path file = tmp.resolve("w.h5");
        var in = Input("arch_in", 4);
        var m = Model.of("arch", in, Dense(2, "softmax", "arch_out").on(Dense(3, "relu", "arch_hidden").on(in)));
        m.saveWeights(file);
        var in2 = Input("other_in", 4);
        var other = Model.of("other", in2, Dense(2, "softmax", "arch_out").on(Dense(5, "relu", "arch_hidden").on(in2)));
        var e = assertThrows(WeightsFileException.class, () -> other.loadWeights(file));
        assertTrue(e.getMessage().contains("arch_hidden") && e.getMessage().contains("(4, 3)")
                && e.getMessage().contains("(4, 5)"), e.getMessage());
        var in3 = Input("third_in", 4);
        var third = Model.of("third", in3, Dense(2, "softmax", "not_there").on(in3));
        var e2 = assertThrows(WeightsFileException.class, () -> third.loadWeights(file));
        assertTrue(e2.getMessage().contains("not_there"), e2.getMessage());
    }

    /** Copies a model file with its model.json changed. */
    Path rewrite(Path file, String name, java.util.function.UnaryOperator<String> change) throws Exception {
        Path out = tmp.resolve(name);
        try (ZipFile z = new ZipFile(file.toFile()); var zo = new ZipOutputStream(Files.newOutputStream(out))) {
            for (var en = z.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                byte[] data = z.getInputStream(e).readAllBytes();
                if (e.getName().equals("model.json")) {
                    String json = change.apply(new String(data, StandardCharsets.UTF_8));
                    data = json.getBytes(StandardCharsets.UTF_8);
                }
                zo.putNextEntry(new ZipEntry(e.getName()));
                zo.write(data);
                zo.closeEntry();
            }
        }
        return out;
    }
}
