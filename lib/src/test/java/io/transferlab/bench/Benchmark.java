package io.transferlab.bench;

import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.applications.Applications;
import io.transferlab.data.ClassMode;
import io.transferlab.data.ImageFolder;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.inference.Features;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import io.transferlab.layers.GlobalAveragePooling2D;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.Dropout;
import io.transferlab.layers.Flatten;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.Tensor;
import io.transferlab.runtime.Backend;
import io.transferlab.runtime.MixedPrecision;
import io.transferlab.optimizers.Optimizer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import static io.transferlab.layers.Layers.Input;

/**
 * The project side of bench/run.sh: a worker that sets up one workload, then runs one timed round per request,
 * so that the driver can interleave its rounds with the peer's (PyTorch) on a shared machine.
 *
 * <p>Protocol (stdin, one command per line; answers are the stdout lines starting with {@code @@}, everything else
 * on stdout/stderr is log): {@code round} runs one round and answers {@code @@ ok SECONDS ITEMS};
 * {@code round VARIANT} runs that variant (the forward workloads "vgg", "inception", "mobilenet" run "ours", the
 * library's oneDNN inference plan behind Model.predict; "vgg-dl4j" etc. run "dl4j", the model's DL4J network; the
 * head runs both); {@code check} answers {@code @@ ok CHECKSUM}; {@code mem} answers {@code @@ ok VmHWM_KB}; {@code quit}.
 *
 * <p>Workloads (first argument): {@code vgg} (our VGG16 conv base, 150x150, batch 20), {@code vgg-plain} (a plain
 * DL4J VGG16 conv base: NHWC ConvolutionLayer/SubsamplingLayer in a MultiLayerNetwork, the reference FINDINGS.md
 * measured), {@code inception} (InceptionV3 up to mixed7, 150x150, batch 20), {@code mobilenet} (MobileNet
 * alpha 1.0, 224x224, batch 20), {@code head} (one epoch of Dense(256,relu)+Dropout(0.5)+Dense(1,sigmoid) on
 * 2000 x 8192 random features, batch 20, RMSprop, through Model.fit), {@code cnn} (notebook 07's small CNN trained
 * from scratch: one pass over 320 random 150x150 images, batch 32, RMSprop, through Model.fit; DL4J's layers with
 * its oneDNN helpers), {@code pipeline} (decode+resize JPEGs to
 * 150x150 through ImageFolder; second argument the train folder, third the number of images per round).
 *
 * <p>bfloat16: the workloads vgg, extract-vgg, extract-mobilenet, finetune-vgg and finetune-mobilenet also have a
 * variant "bf16", the same calls on a model of its own under Keras's {@code mixed_bfloat16} policy
 * ({@code MixedPrecision.set("mixed_bfloat16")} before the round, {@code set("float32")} after it), so that the
 * rounds of "ours" and "bf16" can alternate in one worker without one serving the other (plans are per model and
 * per policy, and the feature cache is off). Where the CPU has no native bfloat16 the variant is left out and the
 * worker says why on a line {@code @@ note ...} before its ready line; {@code TL_BENCH_BF16=0} leaves it out too
 * (the worker's peak memory then counts the float32 model alone).
 */
public final class Benchmark {
    private static final int BATCH = 20;

    private interface Round {
        /** Runs once; returns the number of items (images, examples) it processed. */
        long run() throws Exception;
    }

    private Benchmark() {
    }

    public static void main(String[] args) throws Exception {
        Backend.init();
        // "ours" is float32 whatever TL_MIXED_PRECISION says; only the "bf16" variant switches the policy
        MixedPrecision.set(MixedPrecision.FLOAT32);
        String workload = args[0];
        INDArray[] last = new INDArray[1];
        Map<String, Round> variants = switch (workload) {
            case "vgg" -> withBf16(forward(Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build(),
                    150, false, last), () -> forwardRound(Applications.vgg16().includeTop(false).inputShape(150, 150, 3)
                    .build(), 150, last));
            case "vgg-dl4j" -> forward(Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build(), 150,
                    true, last);
            case "vgg-plain" -> Map.of("ours", plainVgg(last));
            case "inception", "inception-dl4j" -> forward(Applications.inceptionV3().includeTop(false)
                    .inputShape(150, 150, 3).build().upTo("mixed7"), 150, workload.endsWith("-dl4j"), last);
            case "mobilenet", "mobilenet-dl4j" -> forward(Applications.mobileNet().alpha(1.0).includeTop(false)
                    .inputShape(224, 224, 3).build(), 224, workload.endsWith("-dl4j"), last);
            case "head" -> head();
            case "cnn" -> Map.of("ours", smallCnn());
            case "pipeline" -> Map.of("ours", pipeline(Path.of(args[1]), Integer.parseInt(args[2])));
            // the notebooks' own paths (bench/run.sh's default workloads)
            case "head03" -> Map.of("ours", headFitWithValidation(new long[]{4, 4, 512}, 256, 0.5, 2e-5,
                    Integer.parseInt(args[1])));
            case "head02" -> Map.of("ours", headFitWithValidation(new long[]{7, 7, 768}, 1024, 0.2, 1e-4,
                    Integer.parseInt(args[1])));
            case "extract-mobilenet" -> withBf16(Map.of("ours", extractMobileNet(Path.of(args[1]), Integer.parseInt(args[2]))),
                    () -> extractMobileNet(Path.of(args[1]), Integer.parseInt(args[2])));
            case "extract-vgg" -> withBf16(Map.of("ours", extractVgg(Path.of(args[1]), Integer.parseInt(args[2]))),
                    () -> extractVgg(Path.of(args[1]), Integer.parseInt(args[2])));
            case "finetune-vgg" -> withBf16(Map.of("ours", fineTuneVgg(Integer.parseInt(args[1]))),
                    () -> fineTuneVgg(Integer.parseInt(args[1])));
            case "finetune-mobilenet" -> withBf16(Map.of("ours", fineTuneMobileNet(Integer.parseInt(args[1]))),
                    () -> fineTuneMobileNet(Integer.parseInt(args[1])));
            case "isa" -> {
                isaProbe();
                System.exit(0);
                yield Map.of();
            }
            default -> throw new IllegalArgumentException("unknown workload " + workload);
        };
        System.err.println("benchmark worker " + workload + ": " + Backend.describe() + "; BLAS " + loadedBlas());
        answer("ready " + String.join(",", variants.keySet()));
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] cmd = line.trim().split("\\s+");
            switch (cmd[0]) {
                case "round" -> {
                    Round round = variants.get(cmd.length > 1 ? cmd[1] : "ours");
                    if (round == null) {
                        answer("error unknown variant " + cmd[1]);
                        continue;
                    }
                    long t0 = System.nanoTime();
                    long items = round.run();
                    double s = (System.nanoTime() - t0) / 1e9;
                    answer(String.format(java.util.Locale.ROOT, "%.6f %d", s, items));
                }
                case "check" -> answer(last[0] == null ? "nan"
                        : String.format(java.util.Locale.ROOT, "%.6g", last[0].sumNumber().doubleValue()));
                case "mem" -> answer(String.valueOf(vmHwmKb()));
                case "quit" -> {
                    answer("bye");
                    System.exit(0);
                }
                default -> answer("error unknown command " + line);
            }
        }
    }

    /**
     * The workload's variants with "bf16" added after them: a round built by {@code bf16} (on models of its own),
     * run under the {@code mixed_bfloat16} policy, which is set back to float32 after the round. Left out, with a
     * note, where the CPU computes bfloat16 only by emulation ({@link MixedPrecision#bf16Unsupported()}): such a
     * round would time float32 under a bf16 label.
     */
    private static Map<String, Round> withBf16(Map<String, Round> fp32, Supplier<Round> bf16) throws Exception {
        Map<String, Round> v = new LinkedHashMap<>();
        fp32.forEach((name, round) -> v.put(name, () -> {
            if (MixedPrecision.bfloat16()) {
                throw new IllegalStateException("variant " + name + " would run under the mixed_bfloat16 policy");
            }
            return round.run();
        }));
        String why = !Backend.switchedOn("transferlab.benchBf16", "TL_BENCH_BF16")
                ? "off (TL_BENCH_BF16=0; the float32 rounds' peak memory is then their own)"
                : MixedPrecision.bf16Unsupported();
        if (why != null) {
            System.out.println("@@ note bf16 variant skipped: " + why);
            System.out.flush();
            return v;
        }
        // built under bf16, so that a plan compiled while building (forwardRound's first predict) is a bf16 one
        Round round = underBf16(bf16::get);
        v.put("bf16", () -> underBf16(round::run));
        return v;
    }

    private interface Work<T> {
        T call() throws Exception;
    }

    private static <T> T underBf16(Work<T> work) throws Exception {
        String p = MixedPrecision.set(MixedPrecision.MIXED_BFLOAT16);
        if (!MixedPrecision.MIXED_BFLOAT16.equals(p)) {
            throw new IllegalStateException("MixedPrecision.set(\"mixed_bfloat16\") left the policy at " + p);
        }
        try {
            return work.call();
        } finally {
            MixedPrecision.set(MixedPrecision.FLOAT32);
        }
    }

    private static void answer(String s) {
        System.out.println("@@ ok " + s);
        System.out.flush();
    }

    /** The same fixed input every round (seeded), channels-last, as Model.predict takes it. */
    private static INDArray input(int size) {
        Nd4j.getRandom().setSeed(123);
        return Nd4j.rand(DataType.FLOAT, BATCH, size, size, 3).muli(255);
    }

    /**
     * "ours": the library's inference path (Model.predict: the oneDNN plan); or, for the "-dl4j" workloads, "dl4j":
     * the same model's DL4J network (DL4J's layers with its oneDNN helpers). Separate processes, so that each
     * path's peak memory is its own.
     */
    private static Map<String, Round> forward(Model model, int size, boolean dl4j, INDArray[] last) {
        var net = Dl4jEngine.get().network(model);
        INDArray x = input(size);
        if (dl4j) {
            return Map.of("dl4j", () -> {
                last[0] = net.outputSingle(false, x);
                return BATCH;
            });
        }
        return Map.of("ours", forwardRound(model, size, last));
    }

    /** Model.predict on the fixed input, the plan compiled now (under the policy in force) and named on stderr. */
    private static Round forwardRound(Model model, int size, INDArray[] last) {
        INDArray x = input(size);
        model.predict(x); // compiles the plan for this batch, which describe then names
        System.err.println("inference path (" + MixedPrecision.policy() + "): "
                + io.transferlab.inference.Inference.describe(model));
        return () -> {
            last[0] = model.predict(x);
            return BATCH;
        };
    }

    /** The round, which after its first run names the inference path the model took (under the policy in force). */
    private static Round namingPath(Model model, Round round) {
        boolean[] named = {false};
        return () -> {
            long n = round.run();
            if (!named[0]) {
                named[0] = true;
                System.err.println("inference path (" + MixedPrecision.policy() + "): "
                        + io.transferlab.inference.Inference.describe(model));
            }
            return n;
        };
    }

    /** VGG16's conv base written directly against DL4J, NHWC, explicit padding: the reference in FINDINGS.md. */
    private static Round plainVgg(INDArray[] last) {
        int[][] blocks = {{64, 2}, {128, 2}, {256, 3}, {512, 3}, {512, 3}};
        var lb = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).seed(42).list();
        long nIn = 3;
        for (int[] b : blocks) {
            for (int c = 0; c < b[1]; c++) {
                lb.layer(new ConvolutionLayer.Builder(3, 3).nIn(nIn).nOut(b[0]).padding(1, 1)
                        .dataFormat(CNN2DFormat.NHWC).activation(Activation.RELU).build());
                nIn = b[0];
            }
            lb.layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                    .dataFormat(CNN2DFormat.NHWC).build());
        }
        lb.setInputType(InputType.convolutional(150, 150, 3, CNN2DFormat.NHWC));
        var net = new MultiLayerNetwork(lb.build());
        net.init();
        INDArray x = input(150);
        return () -> {
            last[0] = net.output(x, false);
            return BATCH;
        };
    }

    /**
     * Two variants: "ours", Model.fit as it runs by default (the dense-head fast path), and "dl4j", the same fit on
     * DL4J's own training step (TL_FAST_HEAD=0). Each has its own model, so neither trains the other's weights.
     */
    private static Map<String, Round> head() {
        Map<String, Round> v = new LinkedHashMap<>();
        Round fast = headFit();
        Round dl4j = headFit();
        v.put("ours", fast);
        v.put("dl4j", () -> {
            System.setProperty("transferlab.fastHead", "false");
            try {
                return dl4j.run();
            } finally {
                System.clearProperty("transferlab.fastHead");
            }
        });
        return v;
    }

    private static Round headFit() {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2000, 8192);
        INDArray y = Nd4j.rand(DataType.FLOAT, 2000, 1).gt(0.5).castTo(DataType.FLOAT);
        Tensor in = Input(8192);
        Tensor h = new Dense(256, "relu", "fc").on(in);
        h = new Dropout(0.5, "dropout").on(h);
        Tensor out = new Dense(1, "sigmoid", "out").on(h);
        Model m = Model.of("head", in, out);
        m.compile(Optimizer.RMSprop(2e-5), "binary_crossentropy", "accuracy");
        return () -> {
            m.fit(x, y, 1, BATCH, null, null);
            return 2000;
        };
    }

    /** Notebook 07's small CNN (the tutorial's model from scratch), trained one pass over 320 images per round. */
    private static Round smallCnn() {
        int n = 320;
        Nd4j.getRandom().setSeed(6);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, 150, 150, 3);
        INDArray y = Nd4j.rand(DataType.FLOAT, n, 1).gt(0.5).castTo(DataType.FLOAT);
        Tensor in = Input(150, 150, 3);
        Tensor h = in;
        for (int filters : new int[]{16, 32, 64}) {
            h = new Conv2D(filters, 3, 3, "conv_" + filters).activation("relu").on(h);
            h = new MaxPooling2D(2, 2, "pool_" + filters).on(h);
        }
        h = new Flatten("flatten").on(h);
        h = new Dense(128, "relu", "fc").on(h);
        Model m = Model.of("small_cnn", in, new Dense(1, "sigmoid", "out").on(h));
        m.compile(Optimizer.RMSprop(1e-3), "binary_crossentropy", "accuracy");
        return () -> {
            m.fit(x, y, 1, 32, null, null);
            return n;
        };
    }

    /** The first perRound/2 images of each class, decoded and resized every round (the files stay in the page cache). */
    private static Round pipeline(Path train, int perRound) {
        noImageCache();
        var folder = ImageFolder.at(train).targetSize(150, 150).batchSize(BATCH).shuffle(false)
                .limitPerClass(Math.max(1, perRound / 2)).build();
        return () -> {
            long n = 0;
            for (var b : folder) {
                n += b.size();
            }
            return n;
        };
    }

    // ---- the notebooks' paths ----

    /**
     * A classifier head on extracted features, trained the way notebooks 02 and 03 train it: ONE call of
     * {@code fit(x, y, epochs, 20, xVal, yVal)} (shuffled batches, a validation pass after every epoch), on 2000
     * training and 1000 validation examples of the given feature shape (random values; speed does not depend on
     * them). Notebook 03: (4, 4, 512) flattened by {@code train.flat()}, Dense(256, relu), Dropout(0.5), Dense(1,
     * sigmoid), RMSprop(2e-5). Notebook 02: InceptionV3's mixed7 (7, 7, 768), Flatten, Dense(1024, relu),
     * Dropout(0.2), Dense(1, sigmoid), RMSprop(1e-4): 38,537,217 parameters. Each round compiles a fresh optimizer
     * state (as a notebook's compile cell does) and answers the number of epochs as its items: s/item is s/epoch.
     */
    private static Round headFitWithValidation(long[] featureShape, int units, double dropout, double lr, int epochs) {
        Nd4j.getRandom().setSeed(5);
        long[] trainShape = new long[featureShape.length + 1];
        long[] valShape = new long[featureShape.length + 1];
        trainShape[0] = 2000;
        valShape[0] = 1000;
        System.arraycopy(featureShape, 0, trainShape, 1, featureShape.length);
        System.arraycopy(featureShape, 0, valShape, 1, featureShape.length);
        INDArray x = Nd4j.rand(DataType.FLOAT, trainShape);
        INDArray y = Nd4j.rand(DataType.FLOAT, 2000, 1).gt(0.5).castTo(DataType.FLOAT);
        INDArray xv = Nd4j.rand(DataType.FLOAT, valShape);
        INDArray yv = Nd4j.rand(DataType.FLOAT, 1000, 1).gt(0.5).castTo(DataType.FLOAT);
        Model m;
        if (featureShape[0] == 4) {
            // notebook 03: Sequential.withInput(4 * 4 * 512) on train.flat()
            long flat = featureShape[0] * featureShape[1] * featureShape[2];
            x = x.reshape(2000, flat);
            xv = xv.reshape(1000, flat);
            m = Sequential.withInput(flat).add(new Dense(units, "relu", "dense"))
                    .add(new Dropout(dropout, "dropout")).add(new Dense(1, "sigmoid", "dense_1"));
        } else {
            // notebook 02: model.after("mixed7") of Flatten, Dense(1024), Dropout(0.2), Dense(1)
            Tensor in = Input(featureShape);
            Tensor h = new Flatten("flatten").on(in);
            h = new Dense(units, "relu", "dense").on(h);
            h = new Dropout(dropout, "dropout").on(h);
            m = Model.of("head", in, new Dense(1, "sigmoid", "dense_1").on(h));
        }
        System.err.printf("head: %,d parameters, %d epochs per fit%n", m.countParams(), epochs);
        INDArray fx = x, fxv = xv;
        return () -> {
            m.compile(Optimizer.RMSprop(lr), "binary_crossentropy", "accuracy");
            m.fit(fx, y, epochs, BATCH, fxv, yv);
            return epochs;
        };
    }

    /** The first perRound/2 images of each class of a JPEG folder, as the notebooks' flow(...) builders read them. */
    private static ImageFolder.Builder folder(Path train, int perRound, int size, int batch) {
        return ImageFolder.at(train).targetSize(size, size).batchSize(batch).classMode(ClassMode.BINARY)
                .shuffle(false).limitPerClass(Math.max(1, perRound / 2));
    }

    /**
     * Notebook 07's extraction: MobileNet alpha 0.25 at 224 with its real ImageNet weights (found through
     * TL_SHARED or the weight cache), GlobalAveragePooling2D("features"), {@code Features.extract(model.upTo("features"),
     * images)} over JPEG files (decode, bilinear resize, "tf" preprocessing, batch 32). The feature cache is off, so
     * every round decodes and runs the network.
     */
    private static Round extractMobileNet(Path train, int perRound) {
        System.setProperty("transferlab.featureCache", "false");
        noImageCache();
        Model base = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(224, 224, 3)
                .weights("imagenet").build();
        base.freeze();
        Tensor x = new GlobalAveragePooling2D("features").on(base.output());
        x = new Dropout(0.2, "dropout").on(x);
        Model model = Model.of(base.input(), new Dense(1, "sigmoid", "dense").on(x));
        Model features = model.upTo("features");
        ImageFolder images = folder(train, perRound, 224, 32).preprocessing(Preprocessing.TF)
                .interpolation(Images.Interpolation.BILINEAR).build();
        return namingPath(features, () -> Features.extract(features, images).features().size(0));
    }

    /** Notebook 03's extraction: VGG16's conv base at 150x150 (random weights), batch 20, rescale 1/255, over JPEGs. */
    private static Round extractVgg(Path train, int perRound) {
        System.setProperty("transferlab.featureCache", "false");
        noImageCache();
        Model convBase = Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build();
        ImageFolder images = folder(train, perRound, 150, 20).preprocessing(Preprocessing.RESCALE).build();
        return namingPath(convBase, () -> Features.extract(convBase, images).features().size(0));
    }

    /**
     * Rounds read the same images again, which the in-memory cache of decoded images (DecodedImages) would serve
     * without decoding; a notebook's extraction is a first pass over its folder, so decoding is timed with it off.
     */
    private static void noImageCache() {
        System.setProperty("transferlab.imageCacheMb", "0");
    }

    private static INDArray[] randomImages(int n, int size, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, size, size, 3);
        INDArray y = Nd4j.rand(DataType.FLOAT, n, 1).gt(0.5).castTo(DataType.FLOAT);
        return new INDArray[]{x, y};
    }

    /**
     * Fine-tuning VGG16's block 5 with notebook 03's head (Flatten, Dense(256, relu), Dropout(0.5), Dense(1,
     * sigmoid)) at 150x150, batch 20, RMSprop(1e-5): one {@code fit} of one epoch over n random images per round
     * (random weights; decoding is timed by the extraction workloads).
     */
    private static Round fineTuneVgg(int n) {
        Model base = Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build();
        base.freeze();
        base.unfreezeFrom("block5_conv1");
        Tensor h = new Flatten("flatten").on(base.output());
        h = new Dense(256, "relu", "dense").on(h);
        h = new Dropout(0.5, "dropout").on(h);
        Model model = Model.of(base.input(), new Dense(1, "sigmoid", "dense_1").on(h));
        model.compile(Optimizer.RMSprop(1e-5), "binary_crossentropy", "accuracy");
        System.err.printf("fine-tune VGG16: %,d of %,d parameters trainable%n", model.trainableParams(), model.countParams());
        INDArray[] xy = randomImages(n, 150, 7);
        return () -> {
            model.fit(xy[0], xy[1], 1, BATCH, null, null);
            return n;
        };
    }

    /**
     * Notebook 07's fine-tuning: MobileNet alpha 1.0 at 224 (random weights), frozen, then
     * {@code unfreezeFrom("conv_dw_13")}, GlobalAveragePooling2D, Dropout(0.2), Dense(1, sigmoid), Adam(1e-5),
     * batch 32: one {@code fit} of one epoch over n random images per round.
     */
    private static Round fineTuneMobileNet(int n) {
        Model base = Applications.mobileNet().alpha(1.0).includeTop(false).inputShape(224, 224, 3).build();
        base.freeze();
        base.unfreezeFrom("conv_dw_13");
        Tensor h = new GlobalAveragePooling2D("features").on(base.output());
        h = new Dropout(0.2, "dropout").on(h);
        Model model = Model.of(base.input(), new Dense(1, "sigmoid", "dense").on(h));
        model.compile(Optimizer.Adam(1e-5), "binary_crossentropy", "accuracy");
        System.err.printf("fine-tune MobileNet: %,d of %,d parameters trainable%n", model.trainableParams(),
                model.countParams());
        INDArray[] xy = randomImages(n, 224, 8);
        return () -> {
            model.fit(xy[0], xy[1], 1, 32, null, null);
            return n;
        };
    }

    /**
     * Run by bench/run.sh with ONEDNN_VERBOSE=1 (and DNNL_VERBOSE=1): one prediction on the inference plan and one
     * training step, so that both oneDNN copies in the process (the dnnl preset's, ND4J's) print the ISA they
     * dispatch to; then the BLAS library ND4J loaded.
     */
    private static void isaProbe() {
        Tensor in = Input(16, 16, 3);
        Tensor h = new Conv2D(8, 3, 3, "conv").activation("relu").on(in);
        h = new Flatten("flatten").on(h);
        Model m = Model.of("probe", in, new Dense(1, "sigmoid", "out").on(h));
        m.compile(Optimizer.RMSprop(1e-3), "binary_crossentropy", "accuracy");
        INDArray[] xy = randomImages(4, 16, 9);
        m.predict(xy[0]);
        m.fit(xy[0], xy[1], 1, 4, null, null);
        Nd4j.getExecutioner().commit();
        System.out.println("@@ ok " + Backend.describe() + "; inference path: "
                + io.transferlab.inference.Inference.describe(m) + "; BLAS " + loadedBlas() + "; " + Backend.cpuName());
        System.out.flush();
    }

    /** The BLAS shared libraries mapped into this process (ND4J's OpenBLAS, normally). */
    private static String loadedBlas() {
        try {
            var libs = new java.util.TreeSet<String>();
            for (String l : Files.readAllLines(Path.of("/proc/self/maps"))) {
                String f = l.substring(l.lastIndexOf(' ') + 1);
                String name = f.isEmpty() ? "" : Path.of(f).getFileName().toString();
                if (name.toLowerCase(java.util.Locale.ROOT).contains("blas")) {
                    libs.add(name);
                }
            }
            return libs.isEmpty() ? "none mapped" : String.join(",", libs);
        } catch (Exception e) {
            return "unknown";
        }
    }

    private static long vmHwmKb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmHWM:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception e) {
            // not Linux
        }
        return -1;
    }
}
