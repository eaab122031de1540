package io.transferlab.engine.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_backward;
import org.bytedeco.dnnl.pooling_forward;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;


import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WORKSPACE;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * oneDNN's training primitives for one 2D pooling layer and one channels-last (NHWC) input shape: the forward pass
 * and the backward pass to the input, made once and run on every step. Max pooling's forward pass records in a
 * workspace of its own where each window's maximum was, and the backward pass routes each output gradient there;
 * so a backward pass belongs to the latest forward pass on the same primitives, which the caller makes sure of.
 * Average pooling divides by the number of values inside the image (Keras's rule, and DL4J's with
 * {@code avgPoolIncludePadInDivisor(false)}).
 *
 * <p>Why: DL4J M2.1's pooling helper copies the input and the gradient, then runs ND4J's {@code maxpool2d_bp},
 * which finds every maximum again: about 15% of notebook 07's small-CNN step, as much as half the time of its
 * convolutions' backward passes.
 */
public final class PoolingTrainingPrimitives extends NativeObjects {
    private final long[] inShape;    // n, h, w, c
    private final long[] outShape;   // n, oh, ow, c
    private final primitive forward;
    private final IntMemoryMap forwardArgs = new IntMemoryMap();
    private final memory src;
    private final memory dst;
    private final memory workspace;  // max pooling only
    private final primitive backward;
    private final IntMemoryMap backwardArgs = new IntMemoryMap();
    private final memory diffDst;
    private final memory diffSrc;

    /**
     * Primitives for an NHWC float input of {@code inShape}, max (or average) pooling with the given window,
     * strides and padding (before: top, left; after: bottom, right), giving {@code outSize} (oh, ow). Throws
     * UnsupportedOperationException where oneDNN is unavailable or has no implementation for it.
     */
    public PoolingTrainingPrimitives(long[] inShape, boolean max, int[] kernel, int[] strides, long[] padBefore,
                                     long[] padAfter, long[] outSize) {
        String why = OneDnn.unavailable();
        if (why != null) {
            throw new UnsupportedOperationException(why);
        }
        try {
            var engine = OneDnn.engine();
            this.inShape = inShape.clone();
            this.outShape = new long[]{inShape[0], outSize[0], outSize[1], inShape[3]};
            var srcDesc = new memory.desc(new long[]{inShape[0], inShape[3], inShape[1], inShape[2]},
                    memory.data_type.f32, memory.format_tag.nhwc);
            var dstDesc = new memory.desc(new long[]{inShape[0], inShape[3], outSize[0], outSize[1]},
                    memory.data_type.f32, memory.format_tag.nhwc);
            var alg = max ? algorithm.pooling_max : algorithm.pooling_avg_exclude_padding;
            long[] st = {strides[0], strides[1]};
            long[] k = {kernel[0], kernel[1]};
            var forwardPd = own(new pooling_forward.primitive_desc(new pooling_forward.desc(prop_kind.forward_training,
                    alg, srcDesc, dstDesc, st, k, padBefore.clone(), padAfter.clone()), engine));
            var backwardPd = own(new pooling_backward.primitive_desc(new pooling_backward.desc(alg, srcDesc, dstDesc,
                    st, k, padBefore.clone(), padAfter.clone()), engine, forwardPd));
            src = own(new memory(srcDesc, engine, (Pointer) null));
            dst = own(new memory(dstDesc, engine, (Pointer) null));
            workspace = max ? own(new memory(forwardPd.workspace_desc(), engine)) : null;
            diffDst = own(new memory(dstDesc, engine, (Pointer) null));
            diffSrc = own(new memory(srcDesc, engine, (Pointer) null));
            forward = own(new pooling_forward(forwardPd));
            forwardArgs.put(DNNL_ARG_SRC, src);
            forwardArgs.put(DNNL_ARG_DST, dst);
            backward = own(new pooling_backward(backwardPd));
            backwardArgs.put(DNNL_ARG_DIFF_DST, diffDst);
            backwardArgs.put(DNNL_ARG_DIFF_SRC, diffSrc);
            if (workspace != null) {
                forwardArgs.put(DNNL_ARG_WORKSPACE, workspace);
                backwardArgs.put(DNNL_ARG_WORKSPACE, workspace);
            }
        } catch (RuntimeException e) {
            close();
            throw new UnsupportedOperationException("oneDNN has no training primitives for this pooling ("
                    + e.getMessage() + ")", e);
        }
    }

    /** Whether these primitives were made for this NHWC input shape. */
    public boolean fits(long[] shape) {
        return java.util.Arrays.equals(shape, inShape);
    }

    /** The NHWC output shape (n, oh, ow, c). */
    public long[] outputShape() {
        return outShape.clone();
    }

    /** The pooled input x into y (both dense NHWC float), recording where the maxima were. */
    public void forward(INDArray x, INDArray y) {
        OneDnn.bind(src, x, inShape);
        OneDnn.bind(dst, y, outShape);
        run(forward, forwardArgs);
    }

    /** The gradient at the input, dx, from the gradient at the output, dy, of the latest {@link #forward}. */
    public void backward(INDArray dy, INDArray dx) {
        OneDnn.bind(diffDst, dy, outShape);
        OneDnn.bind(diffSrc, dx, inShape);
        run(backward, backwardArgs);
    }

    private static void run(primitive p, IntMemoryMap args) {
        var stream = OneDnn.stream();
        synchronized (OneDnn.class) { // one stream for the process, and a stream is not thread-safe
            p.execute(stream, args);
            stream._wait();
        }
    }
}
