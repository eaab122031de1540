package io.transferlab.engine.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.batch_normalization_backward;
import org.bytedeco.dnnl.batch_normalization_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_scale;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_shift;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * oneDNN's training primitives for one batch normalization over the channels of a channels-last (NHWC) float
 * input, made once per input shape and run on every step: the forward pass in training mode (statistics of the
 * batch, over batch, height and width) and the backward pass to the input, gamma and beta.
 *
 * <p>The arithmetic is the one Keras and DL4J train with: y = gamma (x - mean) / sqrt(var + epsilon) + beta, with
 * the batch's biased variance (divided by the number of values per channel). The forward pass keeps the batch's
 * mean and variance (read with {@link #batchMean()} and {@link #batchVariance()}); the backward pass uses them, so it
 * belongs to the latest forward pass on the same primitives, which the caller makes sure of.
 *
 * <p>Why: DL4J M2.1 trains batch normalization with ND4J's reductions over the batch, height and width axes of a
 * channels-last array, which walk the array once per channel with a stride of the channel count (and run twice,
 * since the backward pass computes the statistics again): about a fifth of MobileNet's fine-tuning step with its
 * last block open (two batch norms on 32 x 7 x 7 x 1024), against a few milliseconds on these primitives.
 */
public final class BatchNormTrainingPrimitives extends NativeObjects {
    private final long[] shape;      // n, h, w, c
    private final primitive forward;
    private final IntMemoryMap forwardArgs = new IntMemoryMap();
    private final primitive backward;
    private final IntMemoryMap backwardArgs = new IntMemoryMap();
    private final memory src;
    private final memory dst;
    private final memory scale;
    private final memory shift;
    private final memory diffDst;
    private final memory diffSrc;
    private final memory diffScale;
    private final memory diffShift;
    private final INDArray mean;     // the latest forward pass's batch statistics, [c]
    private final INDArray variance;

    /**
     * Primitives for an NHWC float input of {@code shape} (n, h, w, c) and this epsilon. Throws
     * UnsupportedOperationException where oneDNN is unavailable or has no implementation for it.
     */
    public BatchNormTrainingPrimitives(long[] shape, double epsilon) {
        String why = OneDnn.unavailable();
        if (why != null) {
            throw new UnsupportedOperationException(why);
        }
        if (shape.length != 4) {
            throw new IllegalArgumentException("expected an NHWC shape, got " + java.util.Arrays.toString(shape));
        }
        try {
            var engine = OneDnn.engine();
            this.shape = shape.clone();
            long c = shape[3];
            var data = new memory.desc(new long[]{shape[0], c, shape[1], shape[2]}, memory.data_type.f32,
                    memory.format_tag.nhwc);
            var perChannel = new memory.desc(new long[]{c}, memory.data_type.f32, memory.format_tag.x);
            int flags = dnnl_use_scale | dnnl_use_shift;
            var forwardPd = own(new batch_normalization_forward.primitive_desc(new batch_normalization_forward.desc(
                    prop_kind.forward_training.value, data, (float) epsilon, flags), engine));
            var backwardPd = own(new batch_normalization_backward.primitive_desc(
                    new batch_normalization_backward.desc(prop_kind.backward.value, data, data, (float) epsilon,
                            flags), engine, forwardPd));
            if (!forwardPd.mean_desc().equals(perChannel) || !forwardPd.variance_desc().equals(perChannel)) {
                throw new UnsupportedOperationException("oneDNN wants the statistics in another layout");
            }
            src = own(new memory(data, engine, (Pointer) null));
            dst = own(new memory(data, engine, (Pointer) null));
            scale = own(new memory(perChannel, engine, (Pointer) null));
            shift = own(new memory(perChannel, engine, (Pointer) null));
            memory meanMemory = own(new memory(perChannel, engine, (Pointer) null));
            memory varianceMemory = own(new memory(perChannel, engine, (Pointer) null));
            diffDst = own(new memory(data, engine, (Pointer) null));
            diffSrc = own(new memory(data, engine, (Pointer) null));
            diffScale = own(new memory(perChannel, engine, (Pointer) null));
            diffShift = own(new memory(perChannel, engine, (Pointer) null));
            try (var ws = org.nd4j.linalg.factory.Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                mean = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, c);
                variance = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, c);
            }
            OneDnn.bind(meanMemory, mean, null);
            OneDnn.bind(varianceMemory, variance, null);
            forward = own(new batch_normalization_forward(forwardPd));
            forwardArgs.put(DNNL_ARG_SRC, src);
            forwardArgs.put(DNNL_ARG_DST, dst);
            forwardArgs.put(DNNL_ARG_SCALE, scale);
            forwardArgs.put(DNNL_ARG_SHIFT, shift);
            forwardArgs.put(DNNL_ARG_MEAN, meanMemory);
            forwardArgs.put(DNNL_ARG_VARIANCE, varianceMemory);
            backward = own(new batch_normalization_backward(backwardPd));
            backwardArgs.put(DNNL_ARG_SRC, src);
            backwardArgs.put(DNNL_ARG_DIFF_DST, diffDst);
            backwardArgs.put(DNNL_ARG_SCALE, scale);
            backwardArgs.put(DNNL_ARG_SHIFT, shift);  // unused by the arithmetic, but oneDNN 2.5 checks it is there
            backwardArgs.put(DNNL_ARG_MEAN, meanMemory);
            backwardArgs.put(DNNL_ARG_VARIANCE, varianceMemory);
            backwardArgs.put(DNNL_ARG_DIFF_SRC, diffSrc);
            backwardArgs.put(DNNL_ARG_DIFF_SCALE, diffScale);
            backwardArgs.put(DNNL_ARG_DIFF_SHIFT, diffShift);
        } catch (RuntimeException e) {
            close();
            if (e instanceof UnsupportedOperationException u) {
                throw u;
            }
            throw new UnsupportedOperationException("oneDNN has no training primitives for this batch normalization ("
                    + e.getMessage() + ")", e);
        }
    }

    /** Whether these primitives were made for this NHWC input shape. */
    public boolean fits(long[] s) {
        return java.util.Arrays.equals(s, shape);
    }

    /**
     * y = gamma (x - mean) / sqrt(var + epsilon) + beta with the batch's statistics, which are kept; x and y dense
     * NHWC float arrays of this shape, gamma and beta dense float arrays of c values (views into DL4J's parameters
     * will do).
     */
    public void forward(INDArray x, INDArray gamma, INDArray beta, INDArray y) {
        OneDnn.bind(src, x, shape);
        OneDnn.bind(dst, y, shape);
        OneDnn.bind(scale, gamma, null);
        OneDnn.bind(shift, beta, null);
        run(forward, forwardArgs);
    }

    /**
     * From the gradient at the output dy of the latest {@link #forward} (whose input x is handed in again): the
     * gradient at the input into dx, and the gradients of gamma and beta into dGamma and dBeta (c values each).
     */
    public void backward(INDArray x, INDArray gamma, INDArray beta, INDArray dy, INDArray dx, INDArray dGamma,
                         INDArray dBeta) {
        OneDnn.bind(src, x, shape);
        OneDnn.bind(scale, gamma, null);
        OneDnn.bind(shift, beta, null);
        OneDnn.bind(diffDst, dy, shape);
        OneDnn.bind(diffSrc, dx, shape);
        OneDnn.bind(diffScale, dGamma, null);
        OneDnn.bind(diffShift, dBeta, null);
        run(backward, backwardArgs);
    }

    /** The latest forward pass's mean per channel (an array these primitives own and overwrite). */
    public INDArray batchMean() {
        return mean;
    }

    /** The latest forward pass's biased variance per channel (an array these primitives own and overwrite). */
    public INDArray batchVariance() {
        return variance;
    }

    private static void run(primitive p, IntMemoryMap args) {
        var stream = OneDnn.stream();
        synchronized (OneDnn.class) { // one stream for the process, and a stream is not thread-safe
            p.execute(stream, args);
            stream._wait();
        }
    }
}
