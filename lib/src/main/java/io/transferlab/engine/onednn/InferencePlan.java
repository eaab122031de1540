package io.transferlab.engine.onednn;

import io.transferlab.engine.api.Forward;
import io.transferlab.graph.Functional;
import io.transferlab.layers.Activation;
import io.transferlab.layers.Add;
import io.transferlab.layers.AveragePooling2D;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Concatenate;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Dense;
import io.transferlab.layers.DepthwiseConv2D;
import io.transferlab.layers.Dropout;
import io.transferlab.layers.Flatten;
import io.transferlab.layers.GlobalAveragePooling2D;
import io.transferlab.layers.GlobalMaxPooling2D;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.Multiply;
import io.transferlab.layers.Node;
import io.transferlab.layers.Normalization;
import io.transferlab.layers.RandomAugmentation;
import io.transferlab.layers.ReLU;
import io.transferlab.layers.Rescaling;
import io.transferlab.layers.Reshape;
import io.transferlab.layers.SeparableConv2D;
import io.transferlab.layers.Tensor;
import io.transferlab.layers.Window;
import io.transferlab.layers.ZeroPadding2D;
import io.transferlab.runtime.FloatArrays;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.concat;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.inner_product_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_forward;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.softmax_forward;
import org.bytedeco.dnnl.sum;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MULTIPLE_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * A model's forward pass compiled for one input shape (batch size and image size) into a fixed sequence of oneDNN primitives, for inference
 * only (frozen weights, batch-norm statistics, no dropout, augmentation layers pass through).
 *
 * <p>What makes it faster than running the same layers one by one: weights are reordered into oneDNN's preferred
 * blocked layout once, when the plan is made, not on every call; activations stay in that blocked layout from
 * layer to layer (one reorder at the input, one at the output); a batch normalization that follows a
 * convolution is folded into the convolution's weights and bias; the activation after a convolution or dense
 * layer (relu, relu6, sigmoid, ...) and a ZeroPadding2D before a convolution are fused into it; buffers are
 * reused as soon as the values in them are no longer needed.
 *
 * <p>Supported layers: Conv2D, DepthwiseConv2D, SeparableConv2D, BatchNormalization after a convolution, Activation, ReLU,
 * MaxPooling2D, AveragePooling2D, ZeroPadding2D before a convolution, GlobalAverage/MaxPooling2D, Concatenate,
 * Add, Multiply (with broadcast), Reshape (to a vector or an image), Flatten, Dense, Dropout, Rescaling,
 * Normalization of images, the random augmentation layers, nested models
 * (the table {@code LOWERINGS}: one entry per layer type). Anything else makes
 * {@link #compile} throw an {@link UnsupportedOperationException} that names the layer; the caller then runs
 * the model on DL4J.
 *
 * <p>Under the {@code mixed_bfloat16} policy ({@link io.transferlab.runtime.MixedPrecision}, read when the plan is
 * compiled) convolutions, depthwise convolutions and inner products take bf16 inputs and weights and write bf16
 * outputs (oneDNN accumulates in f32; biases stay f32): the weights are folded (batch norm) in f32 and then converted
 * by the same one-time reorder that lays them out; the other steps (pooling, activations, concat, sum, multiply,
 * flatten, reshape) keep the data type of what they receive, so activations stay bf16 from layer to layer; the f32
 * input is converted by the first convolution's input reorder and the output reorder converts back to f32. The
 * engine keeps plans of the two precisions under different keys.
 */
final class InferencePlan implements Forward, AutoCloseable {
    private final long[] inputShape;
    private final List<primitive> primitives = new ArrayList<>();
    private final List<IntMemoryMap> arguments = new ArrayList<>();
    /** Everything that owns native memory, kept reachable for the plan's lifetime and closed with it. */
    private final List<Pointer> owned = new ArrayList<>();
    private final memory input;
    private final memory output;
    private final long[] outputShape;
    private final int steps;
    private int winogradSteps;
    /**
     * The data type of convolutions and inner products (their inputs, weights and outputs; biases stay f32):
     * f32, or bf16 under the mixed_bfloat16 policy (accumulation in f32 inside oneDNN).
     */
    private final memory.data_type compute;
    /**
     * The oneDNN implementations chosen for convolutions and inner products (e.g. "brg:avx512_core_amx"), and
     * "binary_mul per image: ..." where a broadcast multiply was split per image ({@link #perImage}).
     */
    private final java.util.Set<String> implementations = new java.util.TreeSet<>();

    /** One value flowing between layers: its memory (with oneDNN's logical dims: NCHW for images, NC for flat). */
    private record Value(memory mem, Buffer buffer) {
        memory.desc desc() {
            return mem.get_desc();
        }

        long[] dims() {
            return InferencePlan.dims(mem.get_desc());
        }

        memory.data_type type() {
            return mem.get_desc().data_type();
        }
    }

    /** A native buffer that values share; returned to the pool when no op needs it any more. */
    private static final class Buffer {
        final memory owner;
        final long bytes;
        int uses;

        Buffer(memory owner, long bytes) {
            this.owner = owner;
            this.bytes = bytes;
        }
    }

    /** A layer call of the model, nested models expanded. */
    private record Op(Layer layer, List<Tensor> inputs, Tensor output) {
    }

    private final List<Buffer> freeBuffers = new ArrayList<>();

    private InferencePlan(Functional model, long[] xShape, boolean bf16) {
        this.inputShape = xShape.clone();
        this.compute = bf16 ? memory.data_type.bf16 : memory.data_type.f32;
        long batch = xShape[0];
        List<Op> ops = flatten(model);
        Tensor in = model.input();
        Tensor out = model.output();
        Map<Tensor, Integer> uses = new IdentityHashMap<>();
        Map<Tensor, List<Integer>> consumers = new IdentityHashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            for (Tensor t : ops.get(i).inputs) {
                uses.merge(t, 1, Integer::sum);
                consumers.computeIfAbsent(t, k -> new ArrayList<>()).add(i);
            }
        }
        uses.merge(out, 1, Integer::sum);

        // the input, as the caller's channels-last array
        long[] inShape = java.util.Arrays.copyOfRange(xShape, 1, xShape.length);
        Map<Tensor, Value> values = new IdentityHashMap<>();
        memory.desc inDesc = userDesc(batch, inShape);
        input = new memory(inDesc, OneDnn.engine(), (Pointer) null);
        owned.add(input);
        Buffer inBuf = new Buffer(input, -1);
        inBuf.uses = uses.getOrDefault(in, 0);
        values.put(in, new Value(input, inBuf));

        this.ops = ops;
        this.consumers = consumers;
        this.uses = uses;
        this.out = out;
        this.done = new boolean[ops.size()];
        for (int i = 0; i < ops.size(); i++) {
            if (done[i]) {
                continue;
            }
            Op op = ops.get(i);
            Layer layer = op.layer;
            List<Value> args = new ArrayList<>();
            for (Tensor t : op.inputs) {
                Value v = values.get(t);
                if (v == null) {
                    throw new UnsupportedOperationException("layer '" + layer.name() + "' takes a tensor the plan has not computed");
                }
                args.add(v);
            }
            Lowering lowering = lowering(layer);
            if (lowering == null) {
                throw new UnsupportedOperationException("layer '" + layer.name() + "' (" + layer.typeName() + ")");
            }
            result = op.output;
            Value produced = lowering.lower(this, i, op, args);
            if (!PASS_THROUGH.contains(lowering)) {
                count++;
            }
            // identity steps hand the same buffer on: it now also serves the new tensor's consumers
            if (produced.buffer() == args.stream().map(Value::buffer).findFirst().orElse(null)) {
                produced.buffer().uses += uses.getOrDefault(result, 0);
            }
            values.put(result, produced);
            for (Value a : args) {
                release(a.buffer());
            }
        }
        Value last = values.get(out);
        if (last == null) {
            throw new UnsupportedOperationException("the model's output was not reached");
        }
        long[] d = last.dims();
        outputShape = d.length == 4 ? new long[]{d[0], d[2], d[3], d[1]} : d;
        output = new memory(userDesc(batch, java.util.Arrays.copyOfRange(outputShape, 1, outputShape.length)),
                OneDnn.engine(), (Pointer) null);
        owned.add(output);
        add(new reorder(new reorder.primitive_desc(OneDnn.engine(), last.desc(), OneDnn.engine(), output.get_desc())),
                new IntMemoryMap().put(DNNL_ARG_FROM, last.mem()).put(DNNL_ARG_TO, output));
        attachScratchpad();
        steps = count;
        this.ops = null;
        this.consumers = null;
        this.uses = null;
        this.done = null;
        this.result = null;
        this.extraPad.clear();
    }

    /** Compiles the model for inputs of the given shape (batch, ...), channels-last, in float32. */
    static InferencePlan compile(Functional model, long[] xShape) {
        return compile(model, xShape, false);
    }

    /**
     * Compiles the model for inputs of the given shape; with bf16, convolutions and dense layers compute in bfloat16
     * (weights converted once, here; activations bfloat16 between layers; input and output float32).
     */
    static InferencePlan compile(Functional model, long[] xShape, boolean bf16) {
        return new InferencePlan(model, xShape, bf16);
    }

    @Override
    public String describe() {
        return "oneDNN plan (" + steps + " fused steps" + (winogradSteps > 0 ? ", " + winogradSteps
                + " Winograd convolutions" : "") + (bfloat16() ? ", mixed_bfloat16" : "") + ", weights laid out once)";
    }

    /** Whether this plan's convolutions and dense layers compute in bfloat16. */
    boolean bfloat16() {
        return compute == memory.data_type.bf16;
    }

    /** The oneDNN implementations its convolutions and dense layers run (oneDNN's names, e.g. "jit:avx512_core_bf16"). */
    java.util.Set<String> implementations() {
        return java.util.Collections.unmodifiableSet(implementations);
    }

    /** Runs the plan on x (batch, ...input shape), channels-last; returns a new array (batch, ...output shape). */
    @Override
    public synchronized INDArray run(INDArray x) {
        INDArray in = x.dataType() == DataType.FLOAT && x.ordering() == 'c' && !x.isView() && x.offset() == 0
                ? x : x.castTo(DataType.FLOAT).dup('c');
        INDArray result = Nd4j.createUninitialized(DataType.FLOAT, outputShape, 'c');
        input.set_data_handle(in.data().addressPointer());
        output.set_data_handle(result.data().addressPointer());
        var stream = OneDnn.stream();
        synchronized (OneDnn.class) { // one stream for the process, and a stream is not thread-safe
            for (int i = 0; i < primitives.size(); i++) {
                primitives.get(i).execute(stream, arguments.get(i));
            }
            stream._wait();
        }
        return result;
    }

    @Override
    public synchronized void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            owned.get(i).close();
        }
        owned.clear();
        primitives.clear();
        arguments.clear();
    }

    // ---- the lowering of each layer type: the one place a layer's inference maths lives in this engine ----

    /**
     * Lowers the layer call at index i (its inputs computed: args) to primitives and returns the value it produces.
     * A lowering may fuse the calls that follow (an activation, a batch normalization): it marks them done and sets
     * {@link #result} to the last fused call's output.
     */
    private interface Lowering {
        Value lower(InferencePlan plan, int i, Op op, List<Value> args);
    }

    private static final Map<Class<?>, Lowering> LOWERINGS = new HashMap<>();
    /** Lowerings that add no primitive: the layer is the identity at inference, or fused into what follows. */
    private static final java.util.Set<Lowering> PASS_THROUGH = new java.util.HashSet<>();
    private static final Lowering IDENTITY = (plan, i, op, args) -> args.get(0);

    static {
        LOWERINGS.put(InputLayer.class, IDENTITY);
        LOWERINGS.put(Dropout.class, IDENTITY);
        LOWERINGS.put(RandomAugmentation.class, IDENTITY);
        PASS_THROUGH.add(IDENTITY);
        Lowering padding = InferencePlan::lowerZeroPadding;
        LOWERINGS.put(ZeroPadding2D.class, padding);
        PASS_THROUGH.add(padding);
        LOWERINGS.put(Conv2D.class, InferencePlan::lowerConvolution);
        LOWERINGS.put(DepthwiseConv2D.class, InferencePlan::lowerConvolution);
        LOWERINGS.put(BatchNormalization.class, InferencePlan::lowerBatchNormalization);
        LOWERINGS.put(MaxPooling2D.class, (plan, i, op, args) -> plan.pooling(args.get(0),
                ((MaxPooling2D) op.layer).window(), algorithm.pooling_max, plan.usesOfResult()));
        LOWERINGS.put(AveragePooling2D.class, (plan, i, op, args) -> plan.pooling(args.get(0),
                ((AveragePooling2D) op.layer).window(), algorithm.pooling_avg_exclude_padding, plan.usesOfResult()));
        LOWERINGS.put(GlobalAveragePooling2D.class, (plan, i, op, args) ->
                plan.globalPooling(args.get(0), args.get(0).dims(), false, plan.usesOfResult()));
        LOWERINGS.put(GlobalMaxPooling2D.class, (plan, i, op, args) ->
                plan.globalPooling(args.get(0), args.get(0).dims(), true, plan.usesOfResult()));
        LOWERINGS.put(Activation.class, (plan, i, op, args) -> plan.activationLayer(op.layer, args.get(0), plan.usesOfResult()));
        LOWERINGS.put(ReLU.class, (plan, i, op, args) -> plan.activationLayer(op.layer, args.get(0), plan.usesOfResult()));
        LOWERINGS.put(Concatenate.class, (plan, i, op, args) -> plan.concatenate(args, plan.usesOfResult()));
        LOWERINGS.put(Add.class, (plan, i, op, args) -> plan.add(args, plan.usesOfResult()));
        LOWERINGS.put(Flatten.class, (plan, i, op, args) -> plan.flatten(args.get(0), plan.usesOfResult()));
        LOWERINGS.put(Dense.class, InferencePlan::lowerDense);
        LOWERINGS.put(Rescaling.class, (plan, i, op, args) -> plan.eltwise(new Eltwise(algorithm.eltwise_linear,
                (float) ((Rescaling) op.layer).scale(), (float) ((Rescaling) op.layer).offset()), args.get(0), plan.usesOfResult()));
        LOWERINGS.put(Normalization.class, InferencePlan::lowerNormalization);
        LOWERINGS.put(Multiply.class, (plan, i, op, args) -> plan.multiply(args, plan.usesOfResult()));
        Lowering reshape = InferencePlan::lowerReshape;
        LOWERINGS.put(Reshape.class, reshape);
        PASS_THROUGH.add(reshape);
        LOWERINGS.put(SeparableConv2D.class, InferencePlan::lowerSeparableConvolution);
    }

    /** The lowering of a layer's type (or of the nearest supertype that has one), or null. */
    private static Lowering lowering(Layer layer) {
        for (Class<?> c = layer.getClass(); c != null; c = c.getSuperclass()) {
            Lowering l = LOWERINGS.get(c);
            if (l != null) {
                return l;
            }
        }
        return null;
    }

    /** While compiling: the model's layer calls, who consumes each tensor, and how often each tensor is used. */
    private List<Op> ops;
    private Map<Tensor, List<Integer>> consumers;
    private Map<Tensor, Integer> uses;
    private Tensor out;
    private boolean[] done;
    /** Padding of ZeroPadding2D layers folded into the convolution that follows them, by that convolution's index. */
    private final Map<Integer, long[]> extraPad = new HashMap<>();
    /** The tensor the current lowering produces (the last fused call's output). */
    private Tensor result;
    private int count;

    private int usesOfResult() {
        return uses.getOrDefault(result, 0);
    }

    /** The one call that consumes the current result, or null (none, several, or the model's output). */
    private Integer nextCall() {
        return single(consumers, result, out);
    }

    /** Fuses the next call into the current lowering: marks it done, and its output becomes the result. */
    private void fuseNext(int j) {
        done[j] = true;
        result = ops.get(j).output;
    }

    /**
     * A ZeroPadding2D before a convolution becomes that convolution's padding; elsewhere (before a pooling, say) it
     * runs as a 1x1 depthwise convolution with weights 1 and the padding, which copies the values into the padded
     * frame of zeros.
     */
    private static Value lowerZeroPadding(InferencePlan plan, int i, Op op, List<Value> args) {
        Integer j = plan.nextCall();
        int[] p = ((ZeroPadding2D) op.layer).padding();
        if (!paddingFeedsConv(plan.ops, j)) {
            long[] d = args.get(0).dims();
            ConvParts identity = new ConvParts();
            identity.outChannels = d[1];
            identity.kernel = new float[(int) d[1]];
            java.util.Arrays.fill(identity.kernel, 1f);
            identity.bias = new float[(int) d[1]];
            plan.count++; // a step of its own (the loop counts only lowerings that are not pass-through)
            return plan.convolution(new Window(1, 1, 1, 1, io.transferlab.layers.Padding.VALID), true, identity,
                    args.get(0), new long[]{p[0], p[1], p[2], p[3]}, null, plan.usesOfResult());
        }
        long[] before = plan.extraPad.getOrDefault(j, new long[4]);
        plan.extraPad.put(j, new long[]{before[0] + p[0], before[1] + p[1], before[2] + p[2], before[3] + p[3]});
        return args.get(0);
    }

    /** Conv2D or DepthwiseConv2D, with a following BatchNormalization folded in and the activation fused. */
    private static Value lowerConvolution(InferencePlan plan, int i, Op op, List<Value> args) {
        Layer layer = op.layer;
        ConvParts parts = convParts(layer, args.get(0).dims()[1]);
        String activation = layer instanceof Conv2D c ? c.activation() : ((DepthwiseConv2D) layer).activation();
        Eltwise post = activationOf(activation, layer);
        // fold a following BatchNormalization (only when the conv itself is linear)
        Integer j = plan.nextCall();
        if (post == null && j != null && plan.ops.get(j).layer instanceof BatchNormalization bn) {
            foldBatchNorm(parts, bn);
            plan.fuseNext(j);
            j = plan.nextCall();
        }
        if (post == null && j != null && fusable(plan.ops.get(j).layer)) {
            post = activationOf(plan.ops.get(j).layer);
            plan.fuseNext(j);
        }
        boolean depthwise = layer instanceof DepthwiseConv2D;
        Window w = depthwise ? ((DepthwiseConv2D) layer).window() : ((Conv2D) layer).window();
        return plan.convolution(w, depthwise, parts, args.get(0), plan.extraPad.getOrDefault(i, new long[4]), post,
                plan.usesOfResult());
    }

    /**
     * SeparableConv2D as two convolutions: the depthwise one (the layer's window, no bias) into a temporary value,
     * then a 1x1 convolution with the pointwise kernel and the bias, into which a following BatchNormalization is
     * folded and the activation fused, as for Conv2D.
     */
    private static Value lowerSeparableConvolution(InferencePlan plan, int i, Op op, List<Value> args) {
        SeparableConv2D layer = (SeparableConv2D) op.layer;
        List<INDArray> w = layer.getWeights();
        long[] ds = w.get(0).shape(); // (kh, kw, in, multiplier)
        ConvParts depthwise = new ConvParts();
        depthwise.kernel = FloatArrays.copyOf(w.get(0));
        depthwise.outChannels = ds[2] * ds[3];
        depthwise.bias = new float[(int) depthwise.outChannels];
        Value mid = plan.convolution(layer.window(), true, depthwise, args.get(0),
                plan.extraPad.getOrDefault(i, new long[4]), null, 1);
        ConvParts pointwise = new ConvParts();
        pointwise.kernel = FloatArrays.copyOf(w.get(1)); // (1, 1, in*multiplier, filters): Conv2D's layout
        pointwise.outChannels = layer.filters();
        pointwise.bias = layer.hasBias() ? FloatArrays.copyOf(w.get(2)) : new float[layer.filters()];
        Eltwise post = activationOf(layer.activation(), layer);
        Integer j = plan.nextCall();
        if (post == null && j != null && plan.ops.get(j).layer instanceof BatchNormalization bn) {
            foldBatchNorm(pointwise, bn);
            plan.fuseNext(j);
            j = plan.nextCall();
        }
        if (post == null && j != null && fusable(plan.ops.get(j).layer)) {
            post = activationOf(plan.ops.get(j).layer);
            plan.fuseNext(j);
        }
        Value out = plan.convolution(new Window(1, 1, 1, 1, io.transferlab.layers.Padding.VALID), false, pointwise, mid,
                new long[4], post, plan.usesOfResult());
        plan.release(mid.buffer());
        plan.count++; // two primitives
        return out;
    }

    /**
     * A BatchNormalization not after a linear convolution (Keras's conv-relu-BN, say): a per-channel scale and shift,
     * run as a 1x1 depthwise convolution, with the activation that follows fused.
     */
    private static Value lowerBatchNormalization(InferencePlan plan, int i, Op op, List<Value> args) {
        BatchNormalization bn = (BatchNormalization) op.layer;
        long[] d = args.get(0).dims();
        if (d.length != 4) {
            throw new UnsupportedOperationException("BatchNormalization '" + bn.name() + "' on flat vectors");
        }
        ConvParts parts = new ConvParts();
        parts.outChannels = d[1];
        parts.kernel = new float[(int) d[1]];
        java.util.Arrays.fill(parts.kernel, 1f);
        parts.bias = new float[(int) d[1]];
        foldBatchNorm(parts, bn);
        Integer j = plan.nextCall();
        Eltwise post = null;
        if (j != null && fusable(plan.ops.get(j).layer)) {
            post = activationOf(plan.ops.get(j).layer);
            plan.fuseNext(j);
        }
        return plan.convolution(new Window(1, 1, 1, 1, io.transferlab.layers.Padding.VALID), true, parts,
                args.get(0), new long[4], post, plan.usesOfResult());
    }

    /** Normalization: a per-channel scale and shift, run as a 1x1 depthwise convolution (images only). */
    private static Value lowerNormalization(InferencePlan plan, int i, Op op, List<Value> args) {
        Normalization n = (Normalization) op.layer;
        long[] d = args.get(0).dims();
        if (d.length != 4) {
            throw new UnsupportedOperationException("Normalization '" + n.name() + "' on flat vectors");
        }
        double[][] ss = n.scaleAndShift(d[1]);
        ConvParts parts = new ConvParts();
        parts.outChannels = d[1];
        parts.kernel = new float[(int) d[1]];
        parts.bias = new float[(int) d[1]];
        for (int c = 0; c < d[1]; c++) {
            parts.kernel[c] = (float) ss[0][c];
            parts.bias[c] = (float) ss[1][c];
        }
        return plan.convolution(new Window(1, 1, 1, 1, io.transferlab.layers.Padding.VALID), true, parts,
                args.get(0), new long[4], null, plan.usesOfResult());
    }

    /**
     * Reshape: the same values read in row-major, channels-last order, so the value is brought to a plain layout
     * (nhwc for images, nc for vectors; a reorder only when it is not already) and its buffer read with the new dims.
     * Only targets of rank 1 (a vector) and 3 (an image); others run on DL4J.
     */
    private static Value lowerReshape(InferencePlan plan, int i, Op op, List<Value> args) {
        Value src = args.get(0);
        long[] d = src.dims();
        long[] target = op.output.shape().dims();
        memory.desc want;
        if (target.length == 3) {
            want = new memory.desc(new long[]{d[0], target[2], target[0], target[1]}, src.type(), memory.format_tag.nhwc);
        } else if (target.length == 1) {
            want = new memory.desc(new long[]{d[0], target[0]}, src.type(), memory.format_tag.nc);
        } else {
            throw new UnsupportedOperationException("Reshape '" + op.layer.name() + "' to rank " + target.length);
        }
        memory.desc plain = d.length == 4 ? new memory.desc(d, src.type(), memory.format_tag.nhwc)
                : new memory.desc(d, src.type(), memory.format_tag.nc);
        plan.owned.add(want);
        plan.owned.add(plain);
        Value from = src;
        // the model's input has no buffer of the plan's (its address is set per call): reading it needs a copy
        if (!src.desc().equals(plain) || src.buffer().bytes < 0) {
            from = plan.allocate(plain, plan.usesOfResult());
            plan.add(new reorder(new reorder.primitive_desc(OneDnn.engine(), src.desc(), OneDnn.engine(), plain)),
                    new IntMemoryMap().put(DNNL_ARG_FROM, src.mem()).put(DNNL_ARG_TO, from.mem()));
            plan.count++; // a step of its own (the loop counts only lowerings that are not pass-through)
        }
        memory view = new memory(want, OneDnn.engine(), from.mem().get_data_handle());
        plan.owned.add(view);
        return new Value(view, from.buffer());
    }

    /** Dense as an inner product, its activation (or the activation layer that follows) fused; softmax after it. */
    private static Value lowerDense(InferencePlan plan, int i, Op op, List<Value> args) {
        Dense dense = (Dense) op.layer;
        Integer j = plan.nextCall();
        boolean softmax = "softmax".equals(dense.activation());
        Eltwise post = softmax ? null : activationOf(dense.activation(), dense);
        if (!softmax && post == null && j != null && fusable(plan.ops.get(j).layer)) {
            post = activationOf(plan.ops.get(j).layer);
            plan.fuseNext(j);
        }
        return plan.dense(dense, args.get(0), post, softmax, plan.usesOfResult());
    }

    // ---- graph ----

    private static List<Op> flatten(Functional model) {
        List<Op> ops = new ArrayList<>();
        flattenInto(model, ops, new IdentityHashMap<>());
        return ops;
    }

    private static void flattenInto(Functional model, List<Op> ops, Map<Tensor, Tensor> alias) {
        for (Node node : model.graphNodes()) {
            Layer layer = node.layer();
            if (layer instanceof InputLayer) {
                continue;
            }
            List<Tensor> ins = node.inputs().stream().map(t -> resolve(alias, t)).toList();
            if (layer instanceof Functional inner) {
                if (inner.input() != ins.get(0)) {
                    alias.put(inner.input(), ins.get(0));
                }
                flattenInto(inner, ops, alias);
                Tensor innerOut = resolve(alias, inner.output());
                if (innerOut != node.output()) {
                    alias.put(node.output(), innerOut);
                }
                continue;
            }
            ops.add(new Op(layer, ins, node.output()));
        }
    }

    private static Tensor resolve(Map<Tensor, Tensor> alias, Tensor t) {
        Tensor r = t;
        for (int guard = 0; alias.containsKey(r) && guard < 1000; guard++) {
            r = alias.get(r);
        }
        return r;
    }

    private static boolean paddingFeedsConv(List<Op> ops, Integer j) {
        return j != null && (ops.get(j).layer instanceof Conv2D || ops.get(j).layer instanceof DepthwiseConv2D
                || ops.get(j).layer instanceof SeparableConv2D);
    }

    /** The index of the only op that consumes t, or null (none, several, or t is the model's output). */
    private static Integer single(Map<Tensor, List<Integer>> consumers, Tensor t, Tensor out) {
        List<Integer> c = consumers.get(t);
        return t != out && c != null && c.size() == 1 ? c.get(0) : null;
    }

    // ---- memory ----

    static long[] dims(memory.desc desc) {
        var p = desc.dims();
        long n = p.limit() - p.position();
        long[] d = new long[(int) n];
        p.get(d);
        return d;
    }

    private static memory.desc userDesc(long batch, long[] shape) {
        if (shape.length == 3) {
            return new memory.desc(new long[]{batch, shape[2], shape[0], shape[1]}, memory.data_type.f32, memory.format_tag.nhwc);
        }
        if (shape.length == 1) {
            return new memory.desc(new long[]{batch, shape[0]}, memory.data_type.f32, memory.format_tag.nc);
        }
        throw new UnsupportedOperationException("input or output shape " + java.util.Arrays.toString(shape)
                + " (only images (h, w, c) and flat vectors)");
    }

    /** A value of the given layout, in a pooled buffer. */
    private Value allocate(memory.desc desc, int uses) {
        long bytes = desc.get_size();
        Buffer chosen = null;
        for (Buffer b : freeBuffers) {
            if (b.bytes >= bytes && (chosen == null || b.bytes < chosen.bytes)) {
                chosen = b;
            }
        }
        if (chosen != null) {
            freeBuffers.remove(chosen);
        } else {
            memory owner = new memory(new memory.desc(new long[]{bytes}, memory.data_type.u8, memory.format_tag.x), OneDnn.engine());
            owned.add(owner);
            chosen = new Buffer(owner, bytes);
        }
        chosen.uses = uses;
        memory m = new memory(desc, OneDnn.engine(), chosen.owner.get_data_handle());
        owned.add(m);
        return new Value(m, chosen);
    }

    private void release(Buffer b) {
        b.uses--;
        if (b.uses <= 0 && b.bytes >= 0 && !freeBuffers.contains(b)) {
            freeBuffers.add(b);
        }
    }

    /** The value in the given layout: itself, or a reordered copy (temporary: one use). */
    private Value as(Value v, memory.desc want) {
        if (v.desc().equals(want)) {
            return v;
        }
        Value r = allocate(want, 1);
        add(new reorder(new reorder.primitive_desc(OneDnn.engine(), v.desc(), OneDnn.engine(), want)),
                new IntMemoryMap().put(DNNL_ARG_FROM, v.mem()).put(DNNL_ARG_TO, r.mem()));
        return r;
    }

    /** A constant (weights) in the given layout, from data in a plain layout. */
    private memory constant(float[] data, long[] dims, memory.format_tag plain, memory.desc want) {
        FloatPointer host = new FloatPointer(data);
        owned.add(host);
        memory user = new memory(new memory.desc(dims, memory.data_type.f32, plain), OneDnn.engine(), host);
        owned.add(user);
        if (user.get_desc().equals(want)) {
            return user;
        }
        memory m = new memory(want, OneDnn.engine());
        owned.add(m);
        var r = new reorder(new reorder.primitive_desc(OneDnn.engine(), user.get_desc(), OneDnn.engine(), want));
        owned.add(r);
        synchronized (OneDnn.class) {
            r.execute(OneDnn.stream(), user, m);
            OneDnn.stream()._wait();
        }
        return m;
    }

    private final List<IntMemoryMap> scratchpadUsers = new ArrayList<>();
    private final List<memory.desc> scratchpadDescs = new ArrayList<>();

    private void needsScratchpad(IntMemoryMap args, memory.desc desc) {
        owned.add(desc);
        if (desc.get_size() > 0) {
            scratchpadUsers.add(args);
            scratchpadDescs.add(desc);
        }
    }

    /** Gives every primitive that asked for one a view of a single scratchpad buffer, as large as the largest ask. */
    private void attachScratchpad() {
        long bytes = scratchpadDescs.stream().mapToLong(memory.desc::get_size).max().orElse(0);
        if (bytes == 0) {
            return;
        }
        memory shared = new memory(new memory.desc(new long[]{bytes}, memory.data_type.u8, memory.format_tag.x), OneDnn.engine());
        owned.add(shared);
        for (int i = 0; i < scratchpadUsers.size(); i++) {
            memory view = new memory(scratchpadDescs.get(i), OneDnn.engine(), shared.get_data_handle());
            owned.add(view);
            scratchpadUsers.get(i).put(org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCRATCHPAD, view);
        }
    }

    private void add(primitive p, IntMemoryMap args) {
        owned.add(p);
        owned.add(args);
        primitives.add(p);
        arguments.add(args);
    }

    /** A layout for oneDNN to choose, in the plan's compute type (f32, or bf16 under mixed_bfloat16). */
    private memory.desc any(long... dims) {
        return new memory.desc(dims, compute, memory.format_tag.any);
    }

    /** A layout for oneDNN to choose, of the given data type. */
    private static memory.desc any(memory.data_type type, long... dims) {
        return new memory.desc(dims, type, memory.format_tag.any);
    }

    /** Notes the implementation oneDNN picked for a convolution or inner product (for describe and the tests). */
    private void noteImplementation(org.bytedeco.dnnl.primitive_desc_base pd) {
        var info = pd.impl_info_str();
        if (info != null) {
            implementations.add(info.getString());
        }
    }

    // ---- layers ----

    /** Convolution weights in Keras's layout, as plain float arrays, ready for folding. */
    private static final class ConvParts {
        float[] kernel;   // Keras layout: (kh, kw, in, out) or depthwise (kh, kw, in, multiplier)
        float[] bias;     // per output channel
        long outChannels;
    }

    private static ConvParts convParts(Layer layer, long inChannels) {
        List<INDArray> w = layer.getWeights();
        ConvParts p = new ConvParts();
        p.kernel = FloatArrays.copyOf(w.get(0));
        long[] ks = w.get(0).shape();
        p.outChannels = layer instanceof DepthwiseConv2D ? ks[2] * ks[3] : ks[3];
        p.bias = w.size() > 1 ? FloatArrays.copyOf(w.get(1)) : new float[(int) p.outChannels];
        return p;
    }

    /** y = gamma * (conv - mean) / sqrt(var + eps) + beta, folded into the convolution's kernel and bias. */
    private static void foldBatchNorm(ConvParts p, BatchNormalization bn) {
        List<INDArray> w = bn.getWeights();
        int k = 0;
        float[] gamma = bn.scale() ? FloatArrays.copyOf(w.get(k++)) : null;
        float[] beta = bn.center() ? FloatArrays.copyOf(w.get(k++)) : null;
        float[] mean = FloatArrays.copyOf(w.get(k++));
        float[] var = FloatArrays.copyOf(w.get(k));
        int c = (int) p.outChannels;
        double[] scale = new double[c];
        for (int o = 0; o < c; o++) {
            scale[o] = (gamma == null ? 1.0 : gamma[o]) / Math.sqrt(var[o] + bn.epsilon());
            p.bias[o] = (float) ((p.bias[o] - mean[o]) * scale[o] + (beta == null ? 0 : beta[o]));
        }
        // the output channel is the fastest-varying index of Keras's kernel layout, for Conv2D and depthwise alike
        for (int i = 0; i < p.kernel.length; i++) {
            p.kernel[i] = (float) (p.kernel[i] * scale[i % c]);
        }
    }

    private Value convolution(Window w, boolean depthwise, ConvParts parts, Value src, long[] extraPad, Eltwise post,
                              int uses) {
        long[] d = src.dims(); // n, c, h, w (already padded by nothing: extraPad is applied here)
        long inH = d[2] + extraPad[0] + extraPad[1];
        long inW = d[3] + extraPad[2] + extraPad[3];
        long[] outHW = w.outputSize(inH, inW);
        long[] pads = w.pads(inH, inW);
        long[] padL = {pads[0] + extraPad[0], pads[2] + extraPad[2]};
        long[] padR = {pads[1] + extraPad[1], pads[3] + extraPad[3]};
        long oc = parts.outChannels;
        long[] wDims = depthwise ? new long[]{d[1], oc / d[1], 1, w.kernelH(), w.kernelW()}
                : new long[]{oc, d[1], w.kernelH(), w.kernelW()};
        primitive_attr attr = attributes(post);
        convolution_forward.primitive_desc pd = null;
        boolean vggStyle = !depthwise && w.kernelH() == 3 && w.kernelW() == 3 && w.strideH() == 1 && w.strideW() == 1
                && winograd() && compute == memory.data_type.f32;
        if (vggStyle && d[1] >= WINOGRAD_MIN_CHANNELS) {
            // Winograd F(4x4, 3x3): 2-3x fewer multiplications for VGG-style 3x3 convolutions; oneDNN has it only for
            // some shapes and CPUs (AVX-512), so a refusal just means the direct algorithm
            try {
                pd = convolutionPd(algorithm.convolution_winograd, d, wDims, oc, outHW, w, padL, padR, attr);
                winogradSteps++;
            } catch (RuntimeException e) {
                pd = null;
            }
        } else if (vggStyle && oc % 16 == 0) {
            // the first layer of a VGG-style network, on the image's channels: direct, writing the blocked layout
            // (nChw16c) the Winograd layers after it read, which spares a reorder of its whole output (VGG16 at
            // 150x150, batch 20: first layer and reorders 58 ms with Winograd, 28 ms direct in channels-last, 7 ms so)
            try {
                pd = convolutionPd(algorithm.convolution_direct, d, wDims, oc, outHW, w, padL, padR, attr,
                        memory.format_tag.nChw16c);
            } catch (RuntimeException e) {
                pd = null;
            }
        }
        if (pd == null) {
            pd = convolutionPd(algorithm.convolution_direct, d, wDims, oc, outHW, w, padL, padR, attr);
        }
        noteImplementation(pd);
        memory weights = constant(parts.kernel, wDims, depthwise ? memory.format_tag.hwigo : memory.format_tag.hwio,
                pd.weights_desc());
        memory bias = constant(parts.bias, new long[]{oc}, memory.format_tag.x, pd.bias_desc());
        return withWeights(pd, new convolution_forward(pd), weights, bias, src, uses);
    }

    /** Adds a convolution or dense primitive: its input reordered if need be, its output in a pooled buffer. */
    private Value withWeights(org.bytedeco.dnnl.primitive_desc_base pd, primitive p, memory weights, memory bias,
                              Value src, int uses) {
        Value in = as(src, pd.src_desc());
        Value out = allocate(pd.dst_desc(), uses);
        IntMemoryMap args = new IntMemoryMap().put(DNNL_ARG_SRC, in.mem()).put(DNNL_ARG_WEIGHTS, weights)
                .put(DNNL_ARG_BIAS, bias).put(DNNL_ARG_DST, out.mem());
        needsScratchpad(args, pd.scratchpad_desc());
        add(p, args);
        if (in != src) {
            release(in.buffer());
        }
        return out;
    }

    private convolution_forward.primitive_desc convolutionPd(algorithm alg, long[] d, long[] wDims, long oc, long[] outHW,
                                                            Window w, long[] padL, long[] padR, primitive_attr attr) {
        return convolutionPd(alg, d, wDims, oc, outHW, w, padL, padR, attr, memory.format_tag.any);
    }

    /** The same with the output's layout given (any: oneDNN's choice). */
    private convolution_forward.primitive_desc convolutionPd(algorithm alg, long[] d, long[] wDims, long oc, long[] outHW,
                                                            Window w, long[] padL, long[] padR, primitive_attr attr,
                                                            memory.format_tag dstLayout) {
        var dst = new memory.desc(new long[]{d[0], oc, outHW[0], outHW[1]}, compute, dstLayout);
        owned.add(dst);
        var desc = new convolution_forward.desc(prop_kind.forward_inference, alg, any(d), any(wDims),
                new memory.desc(new long[]{oc}, memory.data_type.f32, memory.format_tag.x),
                dst, new long[]{w.strideH(), w.strideW()}, padL, padR);
        owned.add(desc);
        var pd = new convolution_forward.primitive_desc(desc, attr, OneDnn.engine());
        owned.add(pd);
        return pd;
    }

    /**
     * Fewer input channels than this take the direct algorithm: on an image's 3 channels oneDNN's Winograd ran 4-7x
     * slower than its direct convolution (VGG16's first layer at 150x150, batch 20: 51 ms against 7; notebook 07's
     * small CNN's first layer, batch 32: 47 ms against 11), its transforms costing more than the few products save.
     */
    static final int WINOGRAD_MIN_CHANNELS = 16;

    /** Winograd convolutions unless TL_WINOGRAD=0 (or the system property transferlab.winograd=false). */
    static boolean winograd() {
        return io.transferlab.runtime.Backend.switchedOn("transferlab.winograd", "TL_WINOGRAD");
    }

    private Value pooling(Value src, Window w, algorithm alg, int uses) {
        long[] d = src.dims();
        long[] outHW = w.outputSize(d[2], d[3]);
        long[] pads = w.pads(d[2], d[3]);
        var desc = new pooling_forward.desc(prop_kind.forward_inference, alg, src.desc(), any(src.type(), d[0], d[1], outHW[0], outHW[1]),
                new long[]{w.strideH(), w.strideW()}, new long[]{w.kernelH(), w.kernelW()},
                new long[]{pads[0], pads[2]}, new long[]{pads[1], pads[3]});
        owned.add(desc);
        var pd = new pooling_forward.primitive_desc(desc, OneDnn.engine());
        return unary(pd, new pooling_forward(pd), src, uses);
    }

    /** Pools each channel over the whole image; the result is a flat (batch, channels) value. */
    private Value globalPooling(Value src, long[] d, boolean max, int uses) {
        memory.desc dst = new memory.desc(new long[]{d[0], d[1], 1, 1}, src.type(), memory.format_tag.nhwc);
        var desc = new pooling_forward.desc(prop_kind.forward_inference, max ? algorithm.pooling_max : algorithm.pooling_avg_exclude_padding,
                src.desc(), dst, new long[]{1, 1}, new long[]{d[2], d[3]}, new long[]{0, 0}, new long[]{0, 0});
        owned.add(desc);
        var pd = new pooling_forward.primitive_desc(desc, OneDnn.engine());
        owned.add(pd);
        Value out = allocate(new memory.desc(new long[]{d[0], d[1]}, src.type(), memory.format_tag.nc), uses);
        memory as4d = new memory(dst, OneDnn.engine(), out.mem().get_data_handle());
        owned.add(as4d);
        add(new pooling_forward(pd), new IntMemoryMap().put(DNNL_ARG_SRC, src.mem()).put(DNNL_ARG_DST, as4d));
        return out;
    }

    private Value activationLayer(Layer layer, Value src, int uses) {
        if (layer instanceof Activation a && "softmax".equals(a.activation())) {
            return softmax(src, uses);
        }
        Eltwise post = activationOf(layer);
        if (post == null) {
            return copy(src, uses);
        }
        return eltwise(post, src, uses);
    }

    /** An elementwise function of any shape (oneDNN's eltwise: relu, clip, linear...). */
    private Value eltwise(Eltwise post, Value src, int uses) {
        var desc = new eltwise_forward.desc(prop_kind.forward_inference, post.alg(), src.desc(), post.alpha(), post.beta());
        owned.add(desc);
        var pd = new eltwise_forward.primitive_desc(desc, OneDnn.engine());
        return unary(pd, new eltwise_forward(pd), src, uses);
    }

    private Value softmax(Value src, int uses) {
        if (src.dims().length != 2) {
            throw new UnsupportedOperationException("softmax on an image (only on flat vectors)");
        }
        var desc = new softmax_forward.desc(prop_kind.forward_inference, src.desc(), 1);
        owned.add(desc);
        var pd = new softmax_forward.primitive_desc(desc, OneDnn.engine());
        return unary(pd, new softmax_forward(pd), src, uses);
    }

    /** Adds a one-input primitive (pooling, activation, softmax) whose output goes to a pooled buffer. */
    private Value unary(org.bytedeco.dnnl.primitive_desc_base pd, primitive p, Value src, int uses) {
        owned.add(pd);
        Value out = allocate(pd.dst_desc(), uses);
        add(p, new IntMemoryMap().put(DNNL_ARG_SRC, src.mem()).put(DNNL_ARG_DST, out.mem()));
        return out;
    }

    private Value concatenate(List<Value> inputs, int uses) {
        List<Value> srcs = sameType(inputs);
        var pd = new concat.primitive_desc(1, descs(srcs), OneDnn.engine());
        owned.add(pd);
        Value out = allocate(pd.dst_desc(), uses);
        add(new concat(pd), multipleSources(srcs, out));
        releaseConverted(inputs, srcs);
        return out;
    }

    private Value add(List<Value> inputs, int uses) {
        List<Value> srcs = sameType(inputs);
        float[] ones = new float[srcs.size()];
        java.util.Arrays.fill(ones, 1f);
        var pd = new sum.primitive_desc(ones, descs(srcs), OneDnn.engine());
        owned.add(pd);
        Value out = allocate(pd.dst_desc(), uses);
        add(new sum(pd), multipleSources(srcs, out));
        releaseConverted(inputs, srcs);
        return out;
    }

    /**
     * The values all of one data type, for concat and sum: under mixed_bfloat16 a float32 value among bfloat16 ones
     * (the model's input, say) is converted into a temporary copy.
     */
    private List<Value> sameType(List<Value> srcs) {
        boolean mixed = srcs.stream().map(Value::type).distinct().count() > 1;
        if (!mixed) {
            return srcs;
        }
        List<Value> out = new ArrayList<>();
        for (Value v : srcs) {
            if (v.type() == compute) {
                out.add(v);
            } else {
                memory.desc want = new memory.desc(v.dims(), compute, v.dims().length == 4 ? memory.format_tag.nhwc
                        : memory.format_tag.nc);
                owned.add(want);
                out.add(as(v, want));
            }
        }
        return out;
    }

    /** Frees the temporary copies {@link #sameType} made, once the primitive that reads them is added. */
    private void releaseConverted(List<Value> inputs, List<Value> used) {
        for (int k = 0; k < used.size(); k++) {
            if (used.get(k) != inputs.get(k)) {
                release(used.get(k).buffer());
            }
        }
    }

    /**
     * Multiply: oneDNN's binary_mul, one input at a time onto the largest; an input with axes of size 1 (the
     * (batch, c, 1, 1) weights of squeeze-and-excitation) is broadcast by oneDNN, in a plain layout.
     */
    private Value multiply(List<Value> srcs, int uses) {
        int full = 0;
        for (int k = 1; k < srcs.size(); k++) {
            if (elements(srcs.get(k).dims()) > elements(srcs.get(full).dims())) {
                full = k;
            }
        }
        Value acc = srcs.get(full);
        int left = srcs.size() - 1;
        for (int k = 0; k < srcs.size(); k++) {
            if (k == full) {
                continue;
            }
            Value other = srcs.get(k);
            long[] d = other.dims();
            if (d.length != acc.dims().length) {
                throw new UnsupportedOperationException("Multiply of values of different ranks");
            }
            memory.desc want = java.util.Arrays.equals(d, acc.dims()) ? acc.desc()
                    : new memory.desc(d, acc.type(), d.length == 4 ? memory.format_tag.nchw : memory.format_tag.nc);
            owned.add(want);
            Value b = as(other, want);
            var desc = new binary.desc(algorithm.binary_mul, acc.desc(), b.desc(), acc.desc());
            owned.add(desc);
            var pd = new binary.primitive_desc(desc, OneDnn.engine());
            owned.add(pd);
            left--;
            Value out = allocate(pd.dst_desc(), left == 0 ? uses : 1);
            if (!perImage(pd, acc, b, out)) {
                add(new binary(pd), new IntMemoryMap().put(DNNL_ARG_SRC_0, acc.mem()).put(DNNL_ARG_SRC_1, b.mem())
                        .put(DNNL_ARG_DST, out.mem()));
            }
            if (b != other) {
                release(b.buffer());
            }
            if (acc != srcs.get(full)) {
                release(acc.buffer());
            }
            acc = out;
        }
        return acc;
    }

    /**
     * oneDNN 2.5's vectorised binary does not take a (batch, c, 1, 1) broadcast onto channels-last images at most sizes
     * (EfficientNet's squeeze-and-excitation scales at 228x228 or 300x300, for instance) and falls back to its
     * reference loop, ~100x slower: 0.5 s for one multiply of 4x48x228x228, a fifth of EfficientNetB5's whole
     * forward pass (a single photo's predict included). One image seen as a (h*w, c) matrix times a (1, c) row is a
     * broadcast it does vectorise. Adds those per-image multiplies (views into the same buffers) and returns true
     * when pd is the reference implementation and the split applies; false leaves pd to the caller.
     */
    private boolean perImage(binary.primitive_desc pd, Value acc, Value b, Value out) {
        long[] a = acc.dims();
        long[] d = b.dims();
        if (!pd.impl_info_str().getString().startsWith("ref") || a.length != 4 || d[0] != a[0]
                || d[1] != a[1] || d[2] != 1 || d[3] != 1
                || !isDense(acc.desc(), a, memory.format_tag.nhwc) || !isDense(out.desc(), a, memory.format_tag.nhwc)
                || !isDense(b.desc(), d, memory.format_tag.nchw)) {
            return false;
        }
        long pixels = a[2] * a[3];
        memory.desc image = new memory.desc(new long[]{pixels, a[1]}, acc.type(), memory.format_tag.ab);
        memory.desc scale = new memory.desc(new long[]{1, a[1]}, b.type(), memory.format_tag.ab);
        memory.desc imageOut = new memory.desc(new long[]{pixels, a[1]}, out.type(), memory.format_tag.ab);
        var desc = new binary.desc(algorithm.binary_mul, image, scale, imageOut);
        var single = new binary.primitive_desc(desc, OneDnn.engine());
        owned.add(image);
        owned.add(scale);
        owned.add(imageOut);
        owned.add(desc);
        owned.add(single);
        if (single.impl_info_str().getString().startsWith("ref")) {
            return false;
        }
        implementations.add("binary_mul per image: " + single.impl_info_str().getString());
        binary p = new binary(single);
        for (long n = 0; n < a[0]; n++) {
            IntMemoryMap args = new IntMemoryMap()
                    .put(DNNL_ARG_SRC_0, view(acc, image, n))
                    .put(DNNL_ARG_SRC_1, view(b, scale, n))
                    .put(DNNL_ARG_DST, view(out, imageOut, n));
            if (n == 0) {
                add(p, args);
            } else { // the same primitive again, on the next image's views (owned once, by the first add)
                primitives.add(p);
                owned.add(args);
                arguments.add(args);
            }
        }
        return true;
    }

    private static boolean isDense(memory.desc desc, long[] dims, memory.format_tag tag) {
        return desc.equals(new memory.desc(dims, desc.data_type(), tag));
    }

    /** A memory over image n of v, whose per-image layout is image (v dense, batch outermost). */
    private memory view(Value v, memory.desc image, long n) {
        Pointer at = new org.bytedeco.javacpp.BytePointer(v.mem().get_data_handle()).position(n * image.get_size());
        owned.add(at);
        memory m = new memory(image, OneDnn.engine(), at);
        owned.add(m);
        return m;
    }

    private static long elements(long[] dims) {
        long n = 1;
        for (long x : dims) {
            n *= x;
        }
        return n;
    }

    /** The layouts of several values as the native array of descriptors that concat and sum take. */
    private memory.desc descs(List<Value> srcs) {
        memory.desc all = new memory.desc(srcs.size());
        owned.add(all);
        for (int k = 0; k < srcs.size(); k++) {
            all.getPointer(k).put(srcs.get(k).desc());
        }
        return all;
    }

    private static IntMemoryMap multipleSources(List<Value> srcs, Value out) {
        IntMemoryMap args = new IntMemoryMap().put(DNNL_ARG_DST, out.mem());
        for (int k = 0; k < srcs.size(); k++) {
            args.put(DNNL_ARG_MULTIPLE_SRC + k, srcs.get(k).mem());
        }
        return args;
    }

    /** A copy of the value in a new buffer (for layers that change nothing but must produce a new value). */
    private Value copy(Value src, int uses) {
        Value out = allocate(src.desc(), uses);
        add(new reorder(new reorder.primitive_desc(OneDnn.engine(), src.desc(), OneDnn.engine(), src.desc())),
                new IntMemoryMap().put(DNNL_ARG_FROM, src.mem()).put(DNNL_ARG_TO, out.mem()));
        return out;
    }

    /** Keras's Flatten of a channels-last image: (h, w, c) order, as one row per example. */
    private Value flatten(Value src, int uses) {
        long[] d = src.dims();
        if (d.length == 2) {
            return copy(src, uses);
        }
        Value out = allocate(new memory.desc(new long[]{d[0], d[1] * d[2] * d[3]}, src.type(), memory.format_tag.nc), uses);
        memory asImage = new memory(new memory.desc(d, src.type(), memory.format_tag.nhwc), OneDnn.engine(),
                out.mem().get_data_handle());
        owned.add(asImage);
        add(new reorder(new reorder.primitive_desc(OneDnn.engine(), src.desc(), OneDnn.engine(), asImage.get_desc())),
                new IntMemoryMap().put(DNNL_ARG_FROM, src.mem()).put(DNNL_ARG_TO, asImage));
        return out;
    }

    private Value dense(Dense layer, Value src, Eltwise post, boolean softmax, int uses) {
        long[] d = src.dims();
        if (d.length != 2) {
            throw new UnsupportedOperationException("Dense '" + layer.name() + "' on an image (only on flat vectors)");
        }
        List<INDArray> w = layer.getWeights();
        long units = layer.units();
        float[] kernel = FloatArrays.copyOf(w.get(0)); // (in, units)
        float[] bias = w.size() > 1 ? FloatArrays.copyOf(w.get(1)) : new float[(int) units];
        memory.desc srcDesc = src.type() == compute ? src.desc() : any(d);
        owned.add(srcDesc);
        var desc = new inner_product_forward.desc(prop_kind.forward_inference, srcDesc, any(units, d[1]),
                new memory.desc(new long[]{units}, memory.data_type.f32, memory.format_tag.x), any(d[0], units));
        owned.add(desc);
        var pd = new inner_product_forward.primitive_desc(desc, attributes(post), OneDnn.engine());
        owned.add(pd);
        noteImplementation(pd);
        memory wm = constant(kernel, new long[]{units, d[1]}, memory.format_tag.io, pd.weights_desc());
        memory bm = constant(bias, new long[]{units}, memory.format_tag.x, pd.bias_desc());
        Value out = withWeights(pd, new inner_product_forward(pd), wm, bm, src, softmax ? 1 : uses);
        if (softmax) {
            Value s = softmax(out, uses);
            release(out.buffer());
            return s;
        }
        return out;
    }

    // ---- activations ----

    /** An element-wise activation as oneDNN takes it: algorithm and its two parameters. */
    private record Eltwise(algorithm alg, float alpha, float beta) {
    }

    private static boolean fusable(Layer layer) {
        try {
            return (layer instanceof Activation || layer instanceof ReLU) && activationOf(layer) != null;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    /** The oneDNN form of an activation layer, or null for the identity. */
    private static Eltwise activationOf(Layer layer) {
        if (layer instanceof ReLU r) {
            if (r.threshold() != 0) {
                throw new UnsupportedOperationException("ReLU '" + r.name() + "' with a threshold");
            }
            if (r.maxValue() == null) {
                return new Eltwise(algorithm.eltwise_relu, (float) r.negativeSlope(), 0);
            }
            if (r.negativeSlope() != 0) {
                throw new UnsupportedOperationException("ReLU '" + r.name() + "' with both max_value and negative_slope");
            }
            return new Eltwise(algorithm.eltwise_clip, 0, r.maxValue().floatValue());
        }
        return activationOf(((Activation) layer).activation(), layer);
    }

    private static Eltwise activationOf(String name, Layer layer) {
        return switch (name) {
            case "linear" -> null;
            case "relu" -> new Eltwise(algorithm.eltwise_relu, 0, 0);
            case "relu6" -> new Eltwise(algorithm.eltwise_clip, 0, 6);
            case "sigmoid" -> new Eltwise(algorithm.eltwise_logistic, 0, 0);
            case "tanh" -> new Eltwise(algorithm.eltwise_tanh, 0, 0);
            case "elu" -> new Eltwise(algorithm.eltwise_elu, 1, 0);
            case "swish" -> new Eltwise(algorithm.eltwise_swish, 1, 0);
            case "softplus" -> new Eltwise(algorithm.eltwise_soft_relu, 0, 0);
            default -> throw new UnsupportedOperationException("activation '" + name + "' of layer '" + layer.name() + "'");
        };
    }

    private primitive_attr attributes(Eltwise post) {
        primitive_attr attr = new primitive_attr();
        owned.add(attr);
        // one scratchpad shared by all convolutions and dense layers (they run one after the other) instead of one
        // per primitive: Winograd's transform buffers are large
        attr.set_scratchpad_mode(org.bytedeco.dnnl.global.dnnl.scratchpad_mode.user);
        if (post != null) {
            post_ops ops = new post_ops();
            owned.add(ops);
            ops.append_eltwise(1f, post.alg(), post.alpha(), post.beta());
            attr.set_post_ops(ops);
        }
        return attr;
    }
}
