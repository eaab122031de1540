package io.transferlab.engine.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.eltwise_backward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;


import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * oneDNN's three training primitives for one 2D convolution and one input shape, made once and run on every step:
 * forward, backward to the input and backward to the weights and bias. Activations and their gradients stay in
 * the channels-last (NHWC) arrays DL4J's layer holds; the weights and their gradient stay in DL4J's layout
 * ([out, in, kH, kW]) and are reordered, on each call, into and out of the blocked layout oneDNN's kernels choose
 * (a few microseconds for a small CNN's kernels).
 *
 * <p>Why: DL4J M2.1 runs a training step's convolutions through ND4J's {@code conv2d}/{@code conv2d_bp} ops, which
 * spent about 70% of the small CNN's step (notebook 07) at about a tenth of the machine's peak; these primitives
 * run the same work at 250-500 GFLOP/s here. Every array handed in must be dense and in C order (see
 * the DL4J engine's DenseArrays); the weight and gradient arrays may be views into DL4J's flattened parameters.
 *
 * <p>3x3 stride-1 convolutions on {@value #WINOGRAD_MIN_CHANNELS} or more input channels run Winograd F(4x4, 3x3)
 * where oneDNN has it (AVX-512, float32): forward, backward to the input and to the weights, with reorders between
 * the NHWC arrays and the blocked layout Winograd reads and writes; VGG16's block 5 trains in about 0.6x the time of
 * the direct algorithm. {@code TL_WINOGRAD_TRAINING=0} (or {@code TL_WINOGRAD=0}) keeps the direct algorithm.
 *
 * <p>Under Keras's {@code mixed_bfloat16} policy ({@link io.transferlab.runtime.MixedPrecision}, read when the
 * primitives are made) they compute in bfloat16 and keep the variables in float32, as Keras's policy does: the
 * input, the weights and the output gradient are converted to bf16 (oneDNN reorders made once, run on each call;
 * the weights from DL4J's float32 master copy on every call), while the output, the input gradient, the weight
 * gradient and the bias gradient are written in float32 (oneDNN accumulates in float32) and the bias is read in
 * float32. Under {@code float32} every memory is float32 and no conversion runs.
 */
public final class ConvolutionTrainingPrimitives extends NativeObjects {
    private final long[] inShape;    // n, h, w, c (NHWC)
    private final long[] outShape;   // n, oh, ow, oc (NHWC)
    private final boolean hasBias;
    private final boolean bf16;      // compute in bfloat16 (mixed_bfloat16 policy when made)
    // what the backward primitives are made from, on the first backward pass (a frozen layer never makes them)
    private final convolution_forward.primitive_desc forwardPd;
    private final memory.desc srcDesc;     // DL4J's arrays: f32 NHWC
    private final memory.desc dstDesc;
    private final memory.desc srcCompute;  // what the primitives read: srcDesc (f32) or bf16 NHWC
    private final memory.desc dstCompute;  // the output gradient the backward primitives read: dstDesc or bf16
    private final memory.desc weightsAny;
    private final long[] weightDims;       // out, in, kH, kW
    private final memory.desc biasDesc;
    private final long[][] geometry;  // strides, dilations (gaps), padding before, padding after
    // forward: user memories (handles set per call) and the primitive's own weights
    private final primitive forward;
    private final IntMemoryMap forwardArgs = new IntMemoryMap();
    private final memory src;
    private final memory dst;
    private final memory userWeights;
    private final memory bias;
    private final Reorder srcIn;           // f32 -> bf16 under bf16, NHWC -> blocked for Winograd, else nothing
    private final Reorder dstOut;          // blocked -> NHWC for Winograd, else nothing
    private final algorithm convolution;   // direct, or Winograd F(4x4, 3x3) where oneDNN has it
    private final Reorder weightsForForward;
    private Backward backward;
    private ReluBackward reluBackward;
    private FusedForward fusedRelu;          // made on the first call of forwardRelu; refusedFused when oneDNN has none
    private boolean refusedFused;

    /** The forward convolution with ReLU applied to its output as it is written, and its arguments. */
    private record FusedForward(primitive step, IntMemoryMap args) {
    }

    /** ReLU's backward primitive on this convolution's output shape, and its memories (handles set per call). */
    private record ReluBackward(primitive step, IntMemoryMap args, memory out, memory diffOut, memory diffIn) {
    }

    /** A reorder between a user memory and a primitive's memory, or nothing when their layouts agree. */
    private record Reorder(primitive step, IntMemoryMap args, memory target) {
        void run(org.bytedeco.dnnl.stream stream) {
            if (step != null) {
                step.execute(stream, args);
            }
        }
    }

    /** The two backward primitives, their arguments and the memories they need beyond the forward's. */
    private record Backward(primitive data, IntMemoryMap dataArgs, primitive weights, IntMemoryMap weightsArgs,
                            memory diffDst, memory diffSrc, memory userWeightGrad, memory biasGrad,
                            Reorder diffDstIn, Reorder weightsIn, Reorder weightGradOut, Reorder diffSrcOut,
                            Reorder diffDstForWeights, Reorder srcForWeights) {
    }

    /**
     * Primitives for an NHWC input {@code inShape} (n, h, w, c), {@code outChannels} filters of {@code kernel}
     * (kH, kW), {@code strides}, {@code dilation} (1 = none), paddings before and after (top/left, bottom/right)
     * and the resulting output size (oh, ow). Computes in bfloat16 when the policy is {@code mixed_bfloat16} now
     * (see {@link #bfloat16()}). Throws when oneDNN has no implementation for it.
     */
    public ConvolutionTrainingPrimitives(long[] inShape, long outChannels, int[] kernel, int[] strides, int[] dilation,
                                  long[] padBefore, long[] padAfter, long[] outSize, boolean hasBias) {
        String why = OneDnn.unavailable();
        if (why != null) {
            throw new UnsupportedOperationException(why);
        }
        var engine = OneDnn.engine();
        this.inShape = inShape.clone();
        this.outShape = new long[]{inShape[0], outSize[0], outSize[1], outChannels};
        this.hasBias = hasBias;
        this.bf16 = io.transferlab.runtime.MixedPrecision.bfloat16();
        long n = inShape[0];
        long ic = inShape[3];
        srcDesc = nhwc(n, ic, inShape[1], inShape[2]);
        dstDesc = nhwc(n, outChannels, outSize[0], outSize[1]);
        srcCompute = bf16 ? nhwc(n, ic, inShape[1], inShape[2], memory.data_type.bf16) : srcDesc;
        dstCompute = bf16 ? nhwc(n, outChannels, outSize[0], outSize[1], memory.data_type.bf16) : dstDesc;
        long[] wDims = {outChannels, ic, kernel[0], kernel[1]};
        weightDims = wDims;
        weightsAny = new memory.desc(wDims, bf16 ? memory.data_type.bf16 : memory.data_type.f32,
                memory.format_tag.any);
        memory.desc wUser = new memory.desc(wDims, memory.data_type.f32, memory.format_tag.oihw);
        biasDesc = new memory.desc(new long[]{outChannels}, memory.data_type.f32, memory.format_tag.x);
        geometry = new long[][]{{strides[0], strides[1]}, {dilation[0] - 1L, dilation[1] - 1L}, // oneDNN counts gaps
                padBefore.clone(), padAfter.clone()};
        boolean winogradShape = !bf16 && kernel[0] == 3 && kernel[1] == 3 && strides[0] == 1 && strides[1] == 1
                && dilation[0] == 1 && dilation[1] == 1 && ic >= WINOGRAD_MIN_CHANNELS
                && InferencePlan.winograd()
                && io.transferlab.runtime.Backend.switchedOn("transferlab.winogradTraining", "TL_WINOGRAD_TRAINING");
        convolution_forward.primitive_desc pd = null;
        if (winogradShape) {
            // Winograd F(4x4, 3x3) reads and writes oneDNN's blocked layout: reorders from and to the NHWC arrays
            // around it. oneDNN has it for some shapes and CPUs only (AVX-512): a refusal means direct
            try {
                pd = new convolution_forward.primitive_desc(forwardDesc(algorithm.convolution_winograd,
                        any(srcCompute), any(dstDesc)), engine);
            } catch (RuntimeException e) {
                pd = null;
            }
        }
        convolution = pd != null ? algorithm.convolution_winograd : algorithm.convolution_direct;
        forwardPd = own(pd != null ? pd : new convolution_forward.primitive_desc(
                forwardDesc(algorithm.convolution_direct, srcCompute, dstDesc), engine));
        src = own(new memory(srcDesc, engine, (Pointer) null));
        dst = own(new memory(dstDesc, engine, (Pointer) null));
        userWeights = own(new memory(wUser, engine, (Pointer) null));
        bias = hasBias ? own(new memory(biasDesc, engine, (Pointer) null)) : null;
        srcIn = reorder(src, forwardPd.src_desc(), true, null);
        dstOut = reorder(dst, forwardPd.dst_desc(), false, null);
        weightsForForward = reorder(userWeights, forwardPd.weights_desc(), true, null);
        forward = own(new convolution_forward(forwardPd));
        forwardArgs.put(DNNL_ARG_SRC, srcIn.target());
        forwardArgs.put(DNNL_ARG_WEIGHTS, weightsForForward.target());
        forwardArgs.put(DNNL_ARG_DST, dstOut.target());
        if (hasBias) {
            forwardArgs.put(DNNL_ARG_BIAS, bias);
        }
    }

    /** The forward convolution's description with this algorithm and these input and output memories. */
    private convolution_forward.desc forwardDesc(algorithm alg, memory.desc in, memory.desc out) {
        long[][] g = geometry;
        return hasBias
                ? new convolution_forward.desc(prop_kind.forward_training, alg, in, weightsAny, biasDesc, out, g[0],
                g[1], g[2], g[3])
                : new convolution_forward.desc(prop_kind.forward_training, alg, in, weightsAny, out, g[0], g[1], g[2],
                g[3]);
    }

    /** The same dimensions and data type, in whatever layout the primitive prefers. */
    private static memory.desc any(memory.desc d) {
        var raw = d.data();
        long[] dims = new long[raw.ndims()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = raw.dims().get(i);
        }
        return new memory.desc(dims, d.data_type(), memory.format_tag.any);
    }

    /**
     * The backward primitives, made on the first backward pass; UnsupportedOperationException where oneDNN has
     * none for this convolution.
     */
    private Backward backwardPrimitives() {
        if (backward == null) {
            try {
                backward = makeBackward();
            } catch (UnsupportedOperationException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new UnsupportedOperationException("oneDNN has no backward primitive for it (" + e.getMessage()
                        + ")", e);
            }
        }
        return backward;
    }

    private Backward makeBackward() {
        var engine = OneDnn.engine();
        long[] st = geometry[0];
        long[] dil = geometry[1];
        long[] pl = geometry[2];
        long[] pr = geometry[3];
        boolean wino = convolution == algorithm.convolution_winograd;
        memory.desc diffDstAny = wino ? any(dstCompute) : dstCompute;
        var dataPd = own(new convolution_backward_data.primitive_desc(new convolution_backward_data.desc(
                convolution, wino ? any(srcDesc) : srcDesc, weightsAny, diffDstAny, st, dil, pl, pr), engine,
                forwardPd));
        // the weight gradient is a variable's gradient: float32 under either policy
        var gradAny = bf16 ? new memory.desc(weightDims, memory.data_type.f32,
                memory.format_tag.any) : weightsAny;
        memory.desc srcForW = wino ? any(srcCompute) : srcCompute;
        var weightsDesc = hasBias
                ? new convolution_backward_weights.desc(convolution, srcForW, gradAny, biasDesc, diffDstAny, st, dil,
                pl, pr)
                : new convolution_backward_weights.desc(convolution, srcForW, gradAny, diffDstAny, st, dil, pl, pr);
        var weightsPd = own(new convolution_backward_weights.primitive_desc(weightsDesc, engine, forwardPd));
        if (hasBias && !weightsPd.diff_bias_desc().equals(biasDesc)) {
            throw new UnsupportedOperationException("oneDNN wants the bias gradient in a blocked layout");
        }
        memory diffDst = own(new memory(dstDesc, engine, (Pointer) null));
        memory diffSrc = own(new memory(srcDesc, engine, (Pointer) null));
        memory userWeightGrad = own(new memory(userWeights.get_desc(), engine, (Pointer) null));
        memory biasGrad = hasBias ? own(new memory(biasDesc, engine, (Pointer) null)) : null;
        Reorder diffDstIn = reorder(diffDst, dataPd.diff_dst_desc(), true, null);
        // the weights' backward pass reads what the data's and the forward's already have where the layouts agree
        Reorder diffDstForWeights = weightsPd.diff_dst_desc().equals(dataPd.diff_dst_desc()) ? null
                : reorder(diffDst, weightsPd.diff_dst_desc(), true, null);
        Reorder srcForWeights = weightsPd.src_desc().equals(forwardPd.src_desc()) ? null
                : reorder(src, weightsPd.src_desc(), true, null);
        Reorder diffSrcOut = reorder(diffSrc, dataPd.diff_src_desc(), false, null);
        // the backward-data primitive shares the forward's copy of the weights where it wants the same layout
        Reorder weightsIn = reorder(userWeights, dataPd.weights_desc(), true, weightsForForward.target());
        Reorder weightGradOut = reorder(userWeightGrad, weightsPd.diff_weights_desc(), false, null);
        IntMemoryMap dataArgs = new IntMemoryMap();
        dataArgs.put(DNNL_ARG_DIFF_DST, diffDstIn.target());
        dataArgs.put(DNNL_ARG_WEIGHTS, weightsIn.target());
        dataArgs.put(DNNL_ARG_DIFF_SRC, diffSrcOut.target());
        IntMemoryMap weightsArgs = new IntMemoryMap();
        weightsArgs.put(DNNL_ARG_SRC, (srcForWeights != null ? srcForWeights : srcIn).target());
        weightsArgs.put(DNNL_ARG_DIFF_DST, (diffDstForWeights != null ? diffDstForWeights : diffDstIn).target());
        weightsArgs.put(DNNL_ARG_DIFF_WEIGHTS, weightGradOut.target());
        if (hasBias) {
            weightsArgs.put(DNNL_ARG_DIFF_BIAS, biasGrad);
        }
        return new Backward(own(new convolution_backward_data(dataPd)), dataArgs,
                own(new convolution_backward_weights(weightsPd)), weightsArgs, diffDst, diffSrc, userWeightGrad,
                biasGrad, diffDstIn, weightsIn, weightGradOut, diffSrcOut, diffDstForWeights, srcForWeights);
    }

    private static memory.desc nhwc(long n, long c, long h, long w) {
        return nhwc(n, c, h, w, memory.data_type.f32);
    }

    private static memory.desc nhwc(long n, long c, long h, long w, memory.data_type type) {
        return new memory.desc(new long[]{n, c, h, w}, type, memory.format_tag.nhwc);
    }

    /**
     * The primitive's memory for {@code want} and a reorder between it and the user memory: user to primitive
     * when {@code in}, primitive to user otherwise. Where the layouts agree, the user memory itself, no reorder;
     * {@code reuse}, when given and of that layout, serves as the primitive's memory.
     */
    private Reorder reorder(memory user, memory.desc want, boolean in, memory reuse) {
        if (want.equals(user.get_desc())) {
            return new Reorder(null, null, user);
        }
        memory target = reuse != null && reuse.get_desc().equals(want) ? reuse : own(new memory(want, OneDnn.engine()));
        IntMemoryMap args = own(new IntMemoryMap());
        args.put(DNNL_ARG_FROM, in ? user : target);
        args.put(DNNL_ARG_TO, in ? target : user);
        return new Reorder(own(in ? new reorder(user, target) : new reorder(target, user)), args, target);
    }

    /**
     * Whether these compute in bfloat16 (made under the {@code mixed_bfloat16} policy); primitives of the other
     * precision than the policy's now must not be reused.
     */
    public boolean bfloat16() {
        return bf16;
    }

    /**
     * Fewer input channels than this train with the direct algorithm. Measured per call on notebook 07's small CNN
     * (batch 32, ONEDNN_VERBOSE): on 16 channels (74x74 to 32) Winograd's forward, backward-data and
     * backward-weights passes took 9.3 + 5.9 + 4.2 ms against the direct 5.4 + 7.7 + 10.6 ms, about even once the
     * reorders to and from the blocked layout are counted; on 32 channels (36x36 to 64) about 10 ms against 17; on
     * VGG16's block 5 (512 channels at 9x9, batch 20) 195 ms against 335.
     */
    static final int WINOGRAD_MIN_CHANNELS = 32;

    /** Whether these convolutions run Winograd F(4x4, 3x3) (else the direct algorithm). */
    public boolean winograd() {
        return convolution == algorithm.convolution_winograd;
    }

    /** Whether these primitives were made for this NHWC input shape. */
    public boolean fits(long[] shape) {
        return java.util.Arrays.equals(shape, inShape);
    }

    /** The NHWC output shape (n, oh, ow, oc). */
    public long[] outputShape() {
        return outShape.clone();
    }

    /** z = x * W + b into {@code z} (NHWC, of {@link #outputShape()}). */
    public void forward(INDArray x, INDArray weights, INDArray b, INDArray z) {
        runForward(forward, forwardArgs, x, weights, b, z);
    }

    /** A forward primitive of these (plain or fused) on these arrays, after the reorders it reads. */
    private void runForward(primitive step, IntMemoryMap args, INDArray x, INDArray weights, INDArray b, INDArray z) {
        OneDnn.bind(src, x, inShape);
        OneDnn.bind(userWeights, weights, null);
        OneDnn.bind(dst, z, outShape);
        if (hasBias) {
            OneDnn.bind(bias, b, null);
        }
        var stream = OneDnn.stream();
        synchronized (OneDnn.class) { // one stream for the process, and a stream is not thread-safe
            srcIn.run(stream);
            weightsForForward.run(stream);
            step.execute(stream, args);
            dstOut.run(stream);
            stream._wait();
        }
    }

    /**
     * y = relu(x * W + b) into {@code y} (NHWC, of {@link #outputShape()}) in one pass: ReLU as a post-operation of
     * the convolution, on the output while it is still in the cache, instead of a second pass over it. Returns false,
     * writing nothing, where oneDNN has no such primitive with the weights in the layout the plain forward pass uses
     * (the caller then runs {@link #forward} and the activation apart).
     */
    public boolean forwardRelu(INDArray x, INDArray weights, INDArray b, INDArray y) {
        FusedForward f = fusedRelu();
        if (f == null) {
            return false;
        }
        runForward(f.step(), f.args(), x, weights, b, y);
        return true;
    }

    private FusedForward fusedRelu() {
        if (fusedRelu != null || refusedFused) {
            return fusedRelu;
        }
        try {
            var engine = OneDnn.engine();
            var ops = own(new org.bytedeco.dnnl.post_ops());
            ops.append_eltwise(1f, algorithm.eltwise_relu, 0f, 0f);
            var attr = own(new org.bytedeco.dnnl.primitive_attr());
            attr.set_post_ops(ops);
            boolean wino = convolution == algorithm.convolution_winograd;
            var desc = forwardDesc(convolution, wino ? any(srcCompute) : srcCompute, wino ? any(dstDesc) : dstDesc);
            var pd = own(new convolution_forward.primitive_desc(desc, attr, engine));
            // the fused primitive shares the plain one's copy of the weights (and of the input under bf16)
            if (!pd.weights_desc().equals(forwardPd.weights_desc()) || !pd.src_desc().equals(forwardPd.src_desc())
                    || !pd.dst_desc().equals(forwardPd.dst_desc())) {
                refusedFused = true;
                return null;
            }
            IntMemoryMap args = own(new IntMemoryMap());
            args.put(DNNL_ARG_SRC, srcIn.target());
            args.put(DNNL_ARG_WEIGHTS, weightsForForward.target());
            args.put(DNNL_ARG_DST, dstOut.target());
            if (hasBias) {
                args.put(DNNL_ARG_BIAS, bias);
            }
            fusedRelu = new FusedForward(own(new convolution_forward(pd)), args);
        } catch (RuntimeException e) {
            refusedFused = true;   // no fused primitive here: the plain forward pass and the activation apart
        }
        return fusedRelu;
    }

    /**
     * From the gradient at the pre-activation {@code delta} (NHWC): the gradient at the input into {@code epsilon}
     * (NHWC, the input's shape; null: not wanted, not computed) and the weight and bias gradients into DL4J's
     * gradient views.
     */
    public void backward(INDArray x, INDArray weights, INDArray delta, INDArray epsilon, INDArray weightGrad,
                  INDArray biasGrad) {
        // first, so that a refusal (UnsupportedOperationException) comes before anything is written
        Backward p = backwardPrimitives();
        OneDnn.bind(src, x, inShape);
        OneDnn.bind(userWeights, weights, null);
        OneDnn.bind(p.diffDst(), delta, outShape);
        if (epsilon != null) {
            OneDnn.bind(p.diffSrc(), epsilon, inShape);
        }
        OneDnn.bind(p.userWeightGrad(), weightGrad, null);
        if (hasBias) {
            OneDnn.bind(p.biasGrad(), biasGrad, null);
        }
        var stream = OneDnn.stream();
        synchronized (OneDnn.class) { // one stream for the process, and a stream is not thread-safe
            srcIn.run(stream);
            p.diffDstIn().run(stream);
            if (epsilon != null) {
                p.weightsIn().run(stream);
                p.data().execute(stream, p.dataArgs());
                p.diffSrcOut().run(stream);
            }
            if (p.srcForWeights() != null) {
                p.srcForWeights().run(stream);
            }
            if (p.diffDstForWeights() != null) {
                p.diffDstForWeights().run(stream);
            }
            p.weights().execute(stream, p.weightsArgs());
            p.weightGradOut().run(stream);
            stream._wait();
        }
    }

    /**
     * ReLU's backward pass from its output, on oneDNN: {@code delta = out > 0 ? eps : 0}, all three NHWC arrays of
     * {@link #outputShape()} (delta a separate array). The same numbers as ND4J's ReLU derivative on the
     * pre-activation (the output is positive exactly where the pre-activation was), in one vectorised pass on
     * every core.
     */
    public void reluBackward(INDArray out, INDArray eps, INDArray delta) {
        if (reluBackward == null) {
            var engine = OneDnn.engine();
            var alg = algorithm.eltwise_relu_use_dst_for_bwd;
            var hint = own(new eltwise_forward.primitive_desc(new eltwise_forward.desc(prop_kind.forward_training,
                    alg, dstDesc, 0f, 0f), engine));
            var pd = own(new eltwise_backward.primitive_desc(new eltwise_backward.desc(alg, dstDesc, dstDesc, 0f, 0f),
                    engine, hint));
            memory o = own(new memory(dstDesc, engine, (Pointer) null));
            memory dOut = own(new memory(dstDesc, engine, (Pointer) null));
            memory dIn = own(new memory(dstDesc, engine, (Pointer) null));
            IntMemoryMap args = own(new IntMemoryMap());
            args.put(DNNL_ARG_DST, o);
            args.put(DNNL_ARG_DIFF_DST, dOut);
            args.put(DNNL_ARG_DIFF_SRC, dIn);
            reluBackward = new ReluBackward(own(new eltwise_backward(pd)), args, o, dOut, dIn);
        }
        ReluBackward r = reluBackward;
        OneDnn.bind(r.out(), out, outShape);
        OneDnn.bind(r.diffOut(), eps, outShape);
        OneDnn.bind(r.diffIn(), delta, outShape);
        var stream = OneDnn.stream();
        synchronized (OneDnn.class) { // one stream for the process, and a stream is not thread-safe
            r.step().execute(stream, r.args());
            stream._wait();
        }
    }
}
