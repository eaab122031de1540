package io.transferlab.runtime;

import io.transferlab.engine.dl4j.ContiguousGradientConvolution;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.Flatten;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.TreeMap;

import static io.transferlab.layers.Layers.Input;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Training convolutions under Keras's {@code mixed_bfloat16} policy: oneDNN's training primitives compute in
 * bfloat16 while weights, gradients and optimizer state stay float32. Checked against the same network's float32
 * path (itself checked against double precision in {@link OneDnnPathTest}): outputs and gradients within bfloat16's
 * precision, training lowers the loss as in float32, a change of policy makes new primitives (float32 again gives
 * bit-identical gradients), and on a CPU without native bfloat16 nothing changes.
 */
class MixedPrecisionTrainingTest {
    private static final String[] CONVS = {"conv1", "conv2_nobias", "conv3_valid"};

    @AfterEach
    void reset() throws Exception {
        setCpuBf16(null); // checked again from /proc/cpuinfo
        MixedPrecision.set(MixedPrecision.FLOAT32);
    }

    /** Three trainable convolutions (with and without bias, "same" and "valid"), a pool and a dense layer. */
    private static Model convStack() {
        Tensor in = Input(12, 12, 16);
        Tensor x = new Conv2D(32, 3, 3, "conv1").padding("same").activation("relu").on(in);
        x = new Conv2D(32, 3, 3, "conv2_nobias").padding("same").useBias(false).activation("relu").on(x);
        x = new MaxPooling2D(2, 2, "pool").on(x);
        x = new Conv2D(24, 3, 3, "conv3_valid").activation("tanh").on(x);
        x = new Flatten("flat").on(x);
        Model m = Model.of("conv_stack", in, new Dense(3, "softmax", "out").on(x));
        m.compile(Optimizer.RMSprop(1e-3), "categorical_crossentropy", "accuracy");
        return m;
    }

    private static INDArray[] batch() {
        Nd4j.getRandom().setSeed(21);
        INDArray x = Nd4j.rand(DataType.FLOAT, 12, 12, 12, 16);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 12, 3);
        for (int i = 0; i < 12; i++) {
            y.putScalar(i, i % 3, 1f);
        }
        return new INDArray[]{x, y};
    }

    private static ComputationGraph network(Model model) {
        Backend.setHelpersEnabled(true);
        return Dl4jEngine.get().newNetwork(model, model.optimizer(), model.loss());
    }

    /** Every parameter's gradient, and every layer's activation (inference mode), on the batch. */
    private static Map<String, INDArray> gradientsAndOutputs(ComputationGraph net, INDArray[] xy) {
        net.setInputs(xy[0].dup());
        net.setLabels(xy[1].dup());
        net.computeGradientAndScore();
        Map<String, INDArray> r = new TreeMap<>();
        net.gradient().gradientForVariable().forEach((k, v) -> r.put("gradient " + k, v.dup()));
        net.feedForward(new INDArray[]{xy[0].dup()}, false, false).forEach((k, v) -> r.put("output " + k, v.dup()));
        return r;
    }

    private static void assertPrecision(ComputationGraph net, boolean bf16) {
        for (String name : CONVS) {
            var layer = (ContiguousGradientConvolution.Impl) net.getLayer(name);
            assertTrue(layer.onTrainingPrimitives(), name + " should run on oneDNN's training primitives");
            assertEquals(bf16, layer.onBfloat16Primitives(), name + ": bfloat16 primitives " + (bf16 ? "expected" : "not expected"));
        }
    }

    /**
     * The whole stack under the policy against float32, array by array. Outputs and the last layers' gradients
     * agree to about 1e-2; the first layers' gradients less well, as in float32 itself: relu and max-pool masks flip
     * where a value sits near a tie, and a weight gradient summed over a batch cancels, so the same float32 network
     * fed an input perturbed by bfloat16's rounding (relative 2^-8) moves them by several percent (measured 4-6%).
     * Each array must be within max(1e-2, 2 x that sensitivity) of float32.
     */
    @Test
    void bfloat16GradientsAndOutputsAreWithinBfloat16PrecisionOfFloat32() {
        Assumptions.assumeTrue(MixedPrecision.bf16Unsupported() == null,
                "skipped: " + MixedPrecision.bf16Unsupported());
        INDArray[] xy = batch();
        ComputationGraph net = network(convStack());
        var f32 = gradientsAndOutputs(net, xy);
        assertPrecision(net, false);
        Nd4j.getRandom().setSeed(99);
        INDArray noise = Nd4j.rand(DataType.FLOAT, xy[0].shape()).subi(0.5).muli(2.0 / 256).addi(1);
        var perturbed = gradientsAndOutputs(net, new INDArray[]{xy[0].mul(noise), xy[1]});

        assertEquals(MixedPrecision.MIXED_BFLOAT16, MixedPrecision.set(MixedPrecision.MIXED_BFLOAT16));
        var bf16 = gradientsAndOutputs(net, xy);
        assertPrecision(net, true);
        assertEquals(DataType.FLOAT, net.params().dataType(), "master weights stay float32");
        StringBuilder report = new StringBuilder();
        StringBuilder wrong = new StringBuilder();
        int compared = 0;
        for (String k : f32.keySet()) {
            if (k.startsWith("output input")) { // the input itself (its name counts the models made so far)
                continue;
            }
            INDArray a = f32.get(k);
            INDArray b = bf16.get(k);
            assertEquals(DataType.FLOAT, b.dataType(), k + " should be float32");
            assertArrayEquals(a.shape(), b.shape(), k);
            double scale = a.norm2Number().doubleValue();
            assertTrue(scale > 1e-6, k + " should not vanish");
            double rel = b.sub(a).norm2Number().doubleValue() / scale;
            double sensitivity = perturbed.get(k).sub(a).norm2Number().doubleValue() / scale;
            double allowed = Math.max(1e-2, 2 * sensitivity);
            report.append(String.format("%n  %s: %.3g (float32 input-perturbation sensitivity %.3g)", k, rel,
                    sensitivity));
            if (!(rel <= allowed)) {
                wrong.append(String.format("%n  %s: %.3g > %.3g", k, rel, allowed));
            }
            compared++;
        }
        assertEquals(13, compared, "arrays compared");
        assertTrue(wrong.length() == 0, "bfloat16 differs from float32 beyond tolerance:" + wrong + report);
        for (String k : new String[]{"output conv1", "output conv2_nobias", "output conv3_valid", "output out",
                "gradient conv3_valid_W", "gradient conv3_valid_b", "gradient out_W", "gradient out_b"}) {
            double rel = bf16.get(k).sub(f32.get(k)).norm2Number().doubleValue() / f32.get(k).norm2Number().doubleValue();
            assertTrue(rel <= 1e-2, k + ": " + rel + report);
        }
        // bfloat16 keeps 8 significant bits: a difference of zero would mean float32 ran under the bf16 label
        double conv1Rel = bf16.get("gradient conv1_W").sub(f32.get("gradient conv1_W")).norm2Number().doubleValue()
                / f32.get("gradient conv1_W").norm2Number().doubleValue();
        assertTrue(conv1Rel > 1e-4, "conv1's weight gradient should show bfloat16 rounding, relative " + conv1Rel);
        System.out.println("bfloat16 vs float32, relative L2 differences:" + report);

        // back to float32: new float32 primitives, bit-identical to the first pass
        MixedPrecision.set(MixedPrecision.FLOAT32);
        var again = gradientsAndOutputs(net, xy);
        assertPrecision(net, false);
        for (String k : f32.keySet()) {
            assertBitIdentical(f32.get(k), again.get(k), k + " should be bit-identical to float32's first pass");
        }
    }

    /** Round to the nearest bfloat16 (ties to even), kept as a float: what oneDNN's f32 -> bf16 reorder computes. */
    private static INDArray toBf16(INDArray a) {
        float[] v = a.dup('c').data().asFloat();
        for (int i = 0; i < v.length; i++) {
            int bits = Float.floatToRawIntBits(v[i]);
            bits += 0x7fff + ((bits >>> 16) & 1);
            v[i] = Float.intBitsToFloat(bits & 0xffff0000);
        }
        return Nd4j.create(v, a.shape(), 'c');
    }

    /** The three results of one primitive set: output, input gradient, weight gradient, bias gradient. */
    private static INDArray[] runPrimitives(INDArray x, INDArray w, INDArray b, INDArray delta, boolean bf16) {
        MixedPrecision.set(bf16 ? MixedPrecision.MIXED_BFLOAT16 : MixedPrecision.FLOAT32);
        long[] in = x.shape();
        try (var p = new io.transferlab.engine.onednn.ConvolutionTrainingPrimitives(in, w.size(0), new int[]{3, 3},
                new int[]{1, 1}, new int[]{1, 1}, new long[]{1, 1}, new long[]{1, 1}, new long[]{in[1], in[2]}, true)) {
            assertEquals(bf16, p.bfloat16());
            INDArray z = Nd4j.createUninitialized(DataType.FLOAT, p.outputShape());
            INDArray eps = Nd4j.createUninitialized(DataType.FLOAT, in);
            INDArray gw = Nd4j.createUninitialized(DataType.FLOAT, w.shape());
            INDArray gb = Nd4j.createUninitialized(DataType.FLOAT, b.shape());
            p.forward(x, w, b, z);
            p.backward(x, w, delta, eps, gw, gb);
            return new INDArray[]{z, eps, gw, gb};
        } finally {
            MixedPrecision.set(MixedPrecision.FLOAT32);
        }
    }

    /**
     * One convolution's primitives under the bf16 policy compute exactly what float32 primitives compute from the
     * input, weights and output gradient rounded to bfloat16 (float32 accumulation, float32 results, float32 bias):
     * equal up to the order of float32 sums.
     */
    @Test
    void bfloat16PrimitivesRoundTheirInputsAndAccumulateInFloat32() {
        Assumptions.assumeTrue(MixedPrecision.bf16Unsupported() == null,
                "skipped: " + MixedPrecision.bf16Unsupported());
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 9, 9, 32).subi(0.5);
        INDArray w = Nd4j.rand(DataType.FLOAT, 48, 32, 3, 3).subi(0.5).muli(0.2);
        INDArray b = Nd4j.rand(DataType.FLOAT, 48).subi(0.5).muli(0.1);
        INDArray delta = Nd4j.rand(DataType.FLOAT, 4, 9, 9, 48).subi(0.5);
        INDArray[] bf16 = runPrimitives(x, w, b, delta, true);
        INDArray[] rounded = runPrimitives(toBf16(x), toBf16(w), b, toBf16(delta), false);
        INDArray[] f32 = runPrimitives(x, w, b, delta, false);
        String[] names = {"output", "input gradient", "weight gradient", "bias gradient"};
        StringBuilder report = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            double scale = f32[i].norm2Number().doubleValue();
            double exact = bf16[i].sub(rounded[i]).norm2Number().doubleValue() / scale;
            double vsF32 = bf16[i].sub(f32[i]).norm2Number().doubleValue() / scale;
            report.append(String.format("%n  %s: vs rounded inputs in float32 %.3g, vs float32 %.3g", names[i], exact,
                    vsF32));
            assertTrue(exact <= 1e-5, names[i] + report);
            assertTrue(vsF32 <= 1e-2, names[i] + report);
            assertTrue(vsF32 > 1e-4, names[i] + " should show bfloat16 rounding" + report);
        }
        System.out.println("one convolution under mixed_bfloat16, relative L2 differences:" + report);
    }

    /** RMSprop steps on one batch: per step the loss, under float32 or under the bf16 policy, on a fresh network. */
    private static double[] trainingLosses(boolean bf16, int steps) {
        MixedPrecision.set(bf16 ? MixedPrecision.MIXED_BFLOAT16 : MixedPrecision.FLOAT32);
        INDArray[] xy = batch();
        ComputationGraph net = network(convStack());
        double[] losses = new double[steps + 1];
        for (int i = 0; i < steps; i++) {
            net.fit(new INDArray[]{xy[0]}, new INDArray[]{xy[1]});
            losses[i] = net.score();
        }
        assertPrecision(net, bf16);
        net.setInputs(xy[0]);
        net.setLabels(xy[1]);
        net.computeGradientAndScore();
        losses[steps] = net.score();
        assertEquals(DataType.FLOAT, net.params().dataType());
        assertEquals(DataType.FLOAT, net.getUpdater().getStateViewArray().dataType(), "optimizer state stays float32");
        return losses;
    }

    @Test
    void trainingUnderBfloat16LowersTheLossLikeFloat32() {
        Assumptions.assumeTrue(MixedPrecision.bf16Unsupported() == null,
                "skipped: " + MixedPrecision.bf16Unsupported());
        int steps = 15;
        double[] f32 = trainingLosses(false, steps);
        double[] bf16 = trainingLosses(true, steps);
        System.out.printf("loss float32 %.4f -> %.4f, mixed_bfloat16 %.4f -> %.4f%n", f32[0], f32[steps], bf16[0],
                bf16[steps]);
        assertEquals(f32[0], bf16[0], 1e-2 * f32[0], "first loss (same initial weights)");
        double dropF32 = f32[0] - f32[steps];
        double dropBf16 = bf16[0] - bf16[steps];
        assertTrue(dropF32 > 0.2 * f32[0], "float32 should learn the batch: " + f32[0] + " -> " + f32[steps]);
        assertTrue(dropBf16 > 0.8 * dropF32 && dropBf16 < 1.25 * dropF32,
                "bfloat16 loss drop " + dropBf16 + " vs float32's " + dropF32);
        assertNotEquals(f32[steps], bf16[steps], "the bf16 run should not be the float32 run");
    }

    @Test
    void withoutNativeBfloat16NothingChanges() throws Exception {
        INDArray[] xy = batch();
        Model model = convStack();
        ComputationGraph net = network(model);
        var f32 = gradientsAndOutputs(net, xy);
        setCpuBf16(false); // a CPU with neither AVX512-BF16 nor AMX-BF16
        assertEquals(MixedPrecision.FLOAT32, MixedPrecision.set(MixedPrecision.MIXED_BFLOAT16));
        var again = gradientsAndOutputs(net, xy);
        assertPrecision(net, false);
        for (String k : f32.keySet()) {
            assertBitIdentical(f32.get(k), again.get(k), k);
        }
    }

    private static void assertBitIdentical(INDArray a, INDArray b, String what) {
        assertArrayEquals(a.shape(), b.shape(), what);
        assertArrayEquals(a.dup('c').data().asFloat(), b.dup('c').data().asFloat(), 0f, what);
    }

    /** MixedPrecision's cached answer to "does this CPU compute bf16 natively" (null: look again). */
    private static void setCpuBf16(Boolean value) throws Exception {
        var f = MixedPrecision.class.getDeclaredField("cpuBf16");
        f.setAccessible(true);
        f.set(null, value);
    }
}
