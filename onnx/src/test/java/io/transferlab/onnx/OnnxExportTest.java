package io.transferlab.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.transferlab.applications.Applications;
import io.transferlab.graph.Functional;
import io.transferlab.layers.AveragePooling2D;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.DepthwiseConv2D;
import io.transferlab.layers.Layer;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.ReLU;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The exported files, run by ONNX Runtime (an implementation independent of this library's engines), give the
 * outputs of {@code model.predict} (relative error at most 1e-4: max |onnx - predict| / max |predict|) for every
 * architecture the library ships and for the notebooks' heads, at batch sizes 1 and 3 from one file (the batch
 * dimension is free); weights are seeded random ones, with every bias and batch-norm statistic made non-trivial
 * so that a wrong layout or a dropped term shows.
 */
class OnnxExportTest {
    private static final double TOLERANCE = 1e-4;
    private static OrtEnvironment env;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        env = OrtEnvironment.getEnvironment();
    }

    @AfterAll
    static void stop() {
        // the environment is a process-wide singleton; ONNX Runtime closes it at exit
    }

    // ---- helpers ----

    /** Every leaf layer, nested models expanded. */
    private static List<Layer> leaves(Functional m) {
        List<Layer> out = new ArrayList<>();
        for (Layer l : m.layers()) {
            if (l instanceof Functional inner) {
                out.addAll(leaves(inner));
            } else {
                out.add(l);
            }
        }
        return out;
    }

    /**
     * Gives every one-dimensional weight (biases, batch-norm gamma, beta, mean and variance) seeded random values
     * (variances and gammas in [0.5, 1.5), the rest in [-0.5, 0.5)), so that biases, statistics and their order
     * all matter. Kernels keep their seeded Keras initial values.
     */
    private static void randomizeVectors(Functional m, long seed) {
        randomizeVectors(leaves(m), seed, 1);
    }

    private static void randomizeVectors(List<Layer> layers, long seed) {
        randomizeVectors(layers, seed, 1);
    }

    /** As above; biases, betas and means are scaled by shiftScale. */
    private static void randomizeVectors(List<Layer> layers, long seed, double shiftScale) {
        Random r = new Random(seed);
        for (Layer l : layers) {
            List<INDArray> w = l.getWeights();
            if (w == null) {
                continue;
            }
            List<INDArray> changed = new ArrayList<>();
            for (int i = 0; i < w.size(); i++) {
                INDArray v = w.get(i).dup();
                if (v.rank() == 1) {
                    String name = l.weightSpecs().get(i).name();
                    boolean positive = name.contains("variance") || name.equals("gamma");
                    for (long j = 0; j < v.length(); j++) {
                        v.putScalar(j, positive ? 0.5 + r.nextDouble() : (r.nextDouble() - 0.5) * shiftScale);
                    }
                }
                changed.add(v);
            }
            l.setWeights(changed);
        }
    }

    /**
     * Random vectors as {@link #randomizeVectors}, then every batch normalization's moving statistics set to the
     * statistics of what reaches it from a batch of random images, as training leaves them: a deep network with
     * random statistics loses its input on the way (its outputs would not depend on the image, and the check
     * would miss a mistake in the layers before). One training step in Keras's way with momentum 0 does it
     * (the layers are shared with a small classifier put on top for the step), then a floor under each variance.
     */
    private static void calibrate(Model m, long seed, double inputScale) {
        randomizeVectors(m, seed);
        for (Layer l : leaves(m)) {
            if (l instanceof BatchNormalization bn) {
                bn.momentum(0);
            }
        }
        Tensor features = m.output().shape().rank() == 3 ? GlobalAveragePooling2D().on(m.output()) : m.output();
        Model step = Model.of(m.input(), Dense(2, "softmax").on(features));
        step.compile(io.transferlab.optimizers.Optimizer.SGD(1e-9, 0), "categorical_crossentropy", "accuracy");
        long[] shape = m.inputShape().withBatch(8);
        INDArray x = images(8, shape[1], shape[2], shape[3], seed, inputScale);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 2);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 2, 1);
        }
        step.fit(x, y, 1, 8, null, null);
        // a channel that barely varies on this batch would have its float rounding noise scaled up by
        // 1 / sqrt(variance + epsilon) (up to 300x): give every variance a floor of a tenth of the layer's mean
        for (Layer l : leaves(m)) {
            if (l instanceof BatchNormalization bn) {
                List<INDArray> w = new ArrayList<>(bn.getWeights());
                INDArray variance = w.get(w.size() - 1);
                w.set(w.size() - 1, variance.add(variance.meanNumber().doubleValue() * 0.1));
                bn.setWeights(w);
            }
        }
    }

    private static INDArray images(long n, long h, long w, long seed, double scale) {
        return images(n, h, w, 3, seed, scale);
    }

    private static INDArray images(long n, long h, long w, long c, long seed, double scale) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, n, h, w, c).muli(2).subi(1).muli(scale);
    }

    private static double relativeError(INDArray ref, INDArray got) {
        assertArrayEquals(ref.shape(), got.shape(), "output shapes");
        double scale = Math.max(1e-3, org.nd4j.linalg.ops.transforms.Transforms.abs(ref).maxNumber().doubleValue());
        return org.nd4j.linalg.ops.transforms.Transforms.abs(ref.sub(got)).maxNumber().doubleValue() / scale;
    }

    /** Runs the ONNX file on x (channels-last, as model.predict takes it) with ONNX Runtime. */
    static INDArray runOnnx(Path file, INDArray x) throws OrtException {
        try (var opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(2);
            try (OrtSession s = env.createSession(file.toString(), opts)) {
                return run(s, x);
            }
        }
    }

    private static INDArray run(OrtSession s, INDArray x) throws OrtException {
        INDArray c = x.castTo(DataType.FLOAT).dup('c');
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(c.data().asFloat()), c.shape());
             OrtSession.Result r = s.run(Map.of(Onnx.INPUT, t))) {
            OnnxTensor out = (OnnxTensor) r.get(Onnx.OUTPUT).orElseThrow();
            FloatBuffer fb = out.getFloatBuffer();
            float[] v = new float[fb.remaining()];
            fb.get(v);
            return Nd4j.create(v, out.getInfo().getShape(), 'c');
        }
    }

    /**
     * Exports the model once and checks ONNX Runtime against model.predict at batch 1 and 3 (the same file:
     * the batch size is free). Returns the larger relative error.
     */
    private double assertMatches(Functional m, long h, long w, double inputScale, long seed) throws Exception {
        Path file = Onnx.export(m, dir.resolve(m.name() + ".onnx"));
        double worst = 0;
        try (var opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(2);
            try (OrtSession s = env.createSession(file.toString(), opts)) {
                for (int batch : new int[]{1, 3}) {
                    INDArray x = h > 0 ? images(batch, h, w, m.inputShape().get(2), seed + batch, inputScale)
                            : flat(batch, m.inputShape().get(0), seed + batch);
                    INDArray ref = ((Model) m).predict(x);
                    INDArray got = run(s, x);
                    double err = relativeError(ref, got);
                    System.out.printf("%s batch %d: output %s, max |onnx - predict| / max |predict| = %.2e%n",
                            m.name(), batch, java.util.Arrays.toString(got.shape()), err);
                    if (batch > 1) {
                        // the outputs depend on the input: else the check would not see the layers before
                        double spread = ref.max(0).sub(ref.min(0)).maxNumber().doubleValue();
                        double size = org.nd4j.linalg.ops.transforms.Transforms.abs(ref).maxNumber().doubleValue();
                        System.out.printf("   largest difference between the batch's outputs %.3e (max |output| %.3e)%n",
                                spread, size);
                        assertTrue(spread > 1e-2 * size, m.name() + ": the outputs hardly depend on the input");
                    }
                    assertTrue(err <= TOLERANCE, m.name() + " batch " + batch + ": relative error " + err);
                    worst = Math.max(worst, err);
                }
            }
        }
        return worst;
    }

    private static INDArray flat(long n, long features, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, n, features).muli(3);
    }

    // ---- the architectures keras.applications has ----

    @Test
    void vgg16() throws Exception {
        Model base = Applications.vgg16().includeTop(false).inputShape(48, 48, 3).build();
        randomizeVectors(base, 1);
        assertMatches(base, 48, 48, 100, 10);
        // no batch normalization to keep the scale: small biases, so that the outputs still depend on the image
        Model top = Applications.vgg16().inputShape(32, 32, 3).classes(10).build();
        randomizeVectors(leaves(top), 2, 0.01);
        assertMatches(top, 32, 32, 1000, 20);
    }

    @Test
    void vgg19() throws Exception {
        Model base = Applications.vgg19().includeTop(false).inputShape(40, 40, 3).pooling("max").build();
        randomizeVectors(base, 3);
        assertMatches(base, 40, 40, 100, 30);
    }

    @Test
    void inceptionV3() throws Exception {
        Model base = Applications.inceptionV3().includeTop(false).inputShape(75, 75, 3).build();
        calibrate(base, 4, 1);
        assertMatches(base, 75, 75, 1, 40);
        Model top = Applications.inceptionV3().inputShape(75, 75, 3).classes(10).build();
        calibrate(top, 5, 1);
        // its 2048 pooled features reach 20: Keras's initial classifier would give logits so large that the
        // softmax turns float32 rounding of the features (2e-5) into 1e-4 of a probability; a quarter of it
        // keeps the softmax in its working range
        Layer predictions = top.getLayer("predictions");
        predictions.setWeights(List.of(predictions.getWeights().get(0).mul(0.25), predictions.getWeights().get(1)));
        assertMatches(top, 75, 75, 1, 50);
    }

    @Test
    void mobileNet() throws Exception {
        // include_top: Keras's Reshape, Dropout, 1x1 Conv2D, Reshape, softmax head
        Model top = Applications.mobileNet().alpha(0.25).inputShape(128, 128, 3).classes(10).build();
        calibrate(top, 6, 1);
        assertMatches(top, 128, 128, 1, 60);
        Model base = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(96, 96, 3).pooling("avg").build();
        calibrate(base, 7, 1);
        assertMatches(base, 96, 96, 1, 70);
    }

    @Test
    void mobileNetV2() throws Exception {
        Model top = Applications.mobileNetV2().alpha(0.35).inputShape(96, 96, 3).classes(10).build();
        calibrate(top, 8, 1);
        assertMatches(top, 96, 96, 1, 80);
        Model base = Applications.mobileNetV2().includeTop(false).inputShape(64, 64, 3).build();
        calibrate(base, 9, 1);
        assertMatches(base, 64, 64, 1, 90);
    }

    @Test
    void resNet50() throws Exception {
        Model base = Applications.resNet50().includeTop(false).inputShape(64, 64, 3).build();
        calibrate(base, 10, 100);
        assertMatches(base, 64, 64, 100, 100);
        Model top = Applications.resNet50().inputShape(64, 64, 3).classes(10).build();
        calibrate(top, 11, 100);
        assertMatches(top, 64, 64, 100, 110);
    }

    @Test
    void resNet50V2() throws Exception {
        Model top = Applications.resNet50V2().inputShape(64, 64, 3).classes(10).build();
        calibrate(top, 12, 1);
        assertMatches(top, 64, 64, 1, 120);
    }

    @Test
    void xceptionWithSeparableConvolutions() throws Exception {
        Model base = Applications.xception().includeTop(false).inputShape(71, 71, 3).pooling("avg").build();
        calibrate(base, 21, 1);
        assertMatches(base, 71, 71, 1, 210);
    }

    /** EfficientNet: Rescaling, Normalization weights, swish, squeeze-and-excitation's Multiply, drop-connect. */
    @Test
    void efficientNetB0() throws Exception {
        Model top = Applications.efficientNetB0().inputShape(64, 64, 3).classes(10).build();
        calibrate(top, 22, 100);
        assertMatches(top, 64, 64, 100, 220);
    }

    @Test
    void denseNet121() throws Exception {
        Model base = Applications.denseNet121().includeTop(false).inputShape(64, 64, 3).build();
        calibrate(base, 23, 1);
        assertMatches(base, 64, 64, 1, 230);
    }

    /** SeparableConv2D with depth_multiplier 2 and stride 2, Multiply broadcasting (1, 1, C) and Dropout with noise_shape. */
    @Test
    void separableMultiplyAndNoiseShape() throws Exception {
        Tensor in = Input(13, 11, 3);
        Tensor x = new io.transferlab.layers.SeparableConv2D(6, 3, 3, "sep").strides(2, 2).padding("same")
                .depthMultiplier(2).activation("swish").on(in);
        Tensor se = Reshape(new long[]{1, 1, 6}, "se_reshape").on(GlobalAveragePooling2D("se_pool").on(x));
        se = new Conv2D(6, 1, 1, "se_expand").activation("sigmoid").on(se);
        x = Multiply("excite").on(x, se);
        x = Dropout(0.3, "drop_connect").noiseShape(Shape.NONE, 1, 1, 1).on(x);
        x = new io.transferlab.layers.SeparableConv2D(4, 3, 3, "sep_nobias").useBias(false).on(x);
        Model m = Model.of("separable", in, Dense(3, "softmax", "out").on(Flatten().on(x)));
        randomizeVectors(m, 24);
        assertMatches(m, 13, 11, 1, 240);
    }

    // ---- the notebooks' models ----

    /** Notebook 07: a frozen MobileNet base, global average pooling, dropout and a new classifier. */
    @Test
    void notebook07FineTunedMobileNet() throws Exception {
        Model base = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(96, 96, 3).build();
        calibrate(base, 13, 1);
        base.freeze();
        // the base as one layer of a Sequential (a nested model) with a softmax head
        Sequential nested = Sequential.of(base);
        nested.add(GlobalAveragePooling2D("features")).add(Dropout(0.2)).add(Dense(5, "softmax", "flowers"));
        randomizeVectors(List.of(nested.getLayer("flowers")), 14);
        assertMatches(nested, 96, 96, 1, 130);
        // as the notebook writes it: the head on base.output(), one sigmoid unit, the top layers unfrozen
        var x = GlobalAveragePooling2D("features_07").on(base.output());
        x = Dropout(0.2).on(x);
        Model model = Model.of("notebook07", base.input(), Dense(1, "sigmoid", "cat_or_dog").on(x));
        model.unfreezeFrom("conv_pw_13");
        randomizeVectors(List.of(model.getLayer("cat_or_dog")), 15);
        assertMatches(model, 96, 96, 1, 140);
    }

    /** Notebook 03: the dense head trained on VGG16's flattened 4x4x512 features, a sigmoid output. */
    @Test
    void notebook03Head() throws Exception {
        Sequential head = Sequential.withInput(4 * 4 * 512);
        head.add(Dense(256, "relu")).add(Dropout(0.5)).add(Dense(1, "sigmoid"));
        randomizeVectors(head, 16);
        assertMatches(head, 0, 0, 1, 150);
        // and with its Flatten: features (4, 4, 512) flattened channels-last, as Keras does
        Sequential withFlatten = Sequential.withInput(4, 4, 512);
        withFlatten.add(Flatten()).add(Dense(256, "relu")).add(Dropout(0.5)).add(Dense(1, "sigmoid"));
        randomizeVectors(withFlatten, 17);
        assertMatches(withFlatten, 4, 4, 1, 160);
    }

    // ---- every other layer and setting ----

    /** Layers and settings the applications do not use, in one model with branches. */
    @Test
    void everyOtherLayerAndSetting() throws Exception {
        Tensor in = Input(21, 19, 3);
        Tensor x = RandomFlip("horizontal").on(in);
        x = Rescaling(1 / 127.5, -1).on(x);
        x = Normalization(new double[]{0.1, -0.2, 0.3}, new double[]{0.5, 2.0, 1.5}).on(x);
        x = new Conv2D(8, 3, 3, "c_same_s2").strides(2, 2).padding("same").activation("elu").on(x); // 11x10
        Tensor a = new DepthwiseConv2D(3, 3, "dw_m2").depthMultiplier(2).padding("same").useBias(false)
                .activation("swish").on(x);
        Tensor b = new Conv2D(16, 1, 1, "c_nobias").useBias(false).activation("tanh").on(x);
        x = Add("add").on(a, b);
        x = new BatchNormalization("bn_plain").scale(false).center(false).on(x);
        x = new ReLU(null, "leaky").negativeSlope(0.1).on(x);
        Tensor p1 = new MaxPooling2D(3, 3, "max_same").strides(2, 2).padding("same").on(x);        // 6x5
        Tensor p2 = new AveragePooling2D(2, 2, "avg_same").strides(2, 2).padding("same").on(x);    // 6x5, odd edge
        x = Concatenate("cat").on(p1, p2);
        x = ZeroPadding2D(1, 2, 0, 1, "zp").on(x);                                                  // 9x6
        x = new AveragePooling2D(3, 3, "avg_valid").strides(1, 1).on(x);                           // 7x4
        x = new ReLU(4.0, "relu_t").negativeSlope(0.2).threshold(0.5).on(x);
        x = Activation("selu", "selu").on(x);
        x = Activation("softplus", "softplus").on(x);
        x = Activation("hard_sigmoid", "hsig").on(x);
        x = Reshape(new long[]{28, 32}, "to_rows").on(x);
        x = Reshape(new long[]{4, 7, 32}, "to_image").on(x);
        Tensor g1 = GlobalMaxPooling2D("gmax").on(x);
        Tensor g2 = Flatten("flat").on(new Conv2D(2, 2, 2, "c_small").activation("relu6").on(x));
        x = Concatenate("cat_flat").on(g1, g2);
        x = Normalization(new double[]{0.5}, new double[]{0.25}, "norm_flat").on(x);
        x = BatchNormalization("bn_flat").on(x);
        x = Dense(12, "relu", "fc").on(x);
        x = new ReLU(6.0, "relu6_layer").on(x);
        Model m = Model.of("every_other", in, Dense(4, "softmax", "out").useBias(false).on(x));
        calibrate(m, 18, 255);
        assertMatches(m, 21, 19, 255, 170);
    }

    /**
     * A size-agnostic model (Keras's input_shape=(None, None, 3)): one file runs at any image size, Keras's "same"
     * worked out when it runs (odd sizes, stride 2), and an image output comes back channels-last.
     */
    @Test
    void sizeAgnosticModelRunsAtAnySize() throws Exception {
        Tensor in = Input(Shape.NONE, Shape.NONE, 3);
        Tensor x = new Conv2D(4, 3, 3, "c1").strides(2, 2).padding("same").activation("relu").on(in);
        x = new MaxPooling2D(3, 3, "p1").strides(2, 2).padding("same").on(x);
        x = new AveragePooling2D(3, 3, "p2").strides(1, 1).padding("same").on(x);
        x = new DepthwiseConv2D(3, 3, "dw").strides(2, 2).padding("same").on(x);
        Model m = Model.of("any_size", in, x);
        randomizeVectors(m, 19);
        Path file = Onnx.export(m, dir.resolve("any.onnx"));
        for (long[] hw : new long[][]{{17, 23}, {32, 9}}) {
            INDArray img = images(2, hw[0], hw[1], 200 + hw[0], 1);
            INDArray ref = m.predict(img);
            double err = relativeError(ref, runOnnx(file, img));
            System.out.printf("any_size %dx%d: output %s, relative error %.2e%n", hw[0], hw[1],
                    java.util.Arrays.toString(ref.shape()), err);
            assertTrue(err <= TOLERANCE, "size " + hw[0] + "x" + hw[1] + ": relative error " + err);
        }
    }

    /** The check is not blind: a wrong weight in the file gives a large error. */
    @Test
    void aChangedWeightIsSeen() throws Exception {
        Sequential m = Sequential.withInput(6, 6, 3);
        m.add(Conv2D(4, 3, "relu", "conv")).add(Flatten()).add(Dense(3, "softmax", "out"));
        randomizeVectors(m, 20);
        Path file = Onnx.export(m, dir.resolve("before.onnx"));
        INDArray x = images(3, 6, 6, 21, 1);
        assertTrue(relativeError(m.predict(x), runOnnx(file, x)) <= TOLERANCE);
        Layer conv = m.getLayer("conv");
        INDArray k = conv.getWeights().get(0).dup();
        k.putScalar(new long[]{1, 1, 0, 0}, k.getDouble(1, 1, 0, 0) + 1);
        conv.setWeights(List.of(k, conv.getWeights().get(1)));
        assertTrue(relativeError(m.predict(x), runOnnx(file, x)) > 1e-3, "the old file must no longer match");
        assertTrue(relativeError(m.predict(x), runOnnx(Onnx.export(m, dir.resolve("after.onnx")), x)) <= TOLERANCE);
    }

    /** A layer type with no ONNX mapping: an error naming the layer and its type, and no file (nor a partial one). */
    @Test
    void unmappedLayerFailsWithoutWritingAFile() throws Exception {
        Tensor in = Input(8, 8, 3);
        Tensor x = Conv2D(4, 3, "relu", "conv").on(in);
        x = new Unmapped("my_custom_layer").on(x);
        Model m = Model.of("custom", in, GlobalAveragePooling2D().on(x));
        Path target = dir.resolve("custom.onnx");
        var e = assertThrows(UnsupportedOperationException.class, () -> Onnx.export(m, target));
        assertTrue(e.getMessage().contains("'my_custom_layer'") && e.getMessage().contains("(Unmapped)"), e.getMessage());
        assertFalse(Files.exists(target));
        // an older file at the target stays as it was
        Files.writeString(target, "previous");
        assertThrows(UnsupportedOperationException.class, () -> Onnx.export(m, target));
        assertEquals("previous", Files.readString(target));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList(), "no temporary file is left behind");
        }
    }

    /** A layer type of which this module knows nothing. */
    static final class Unmapped extends Layer {
        Unmapped(String name) {
            super(name);
        }

        @Override
        public Shape computeOutputShape(List<Shape> in) {
            return in.get(0);
        }
    }
}
