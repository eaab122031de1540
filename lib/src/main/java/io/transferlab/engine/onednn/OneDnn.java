package io.transferlab.engine.onednn;

import io.transferlab.runtime.FloatArrays;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * oneDNN through its own Java bindings (the JavaCPP "dnnl" preset): one CPU engine and one stream for the
 * process, loaded on first use. When the native library cannot be loaded (a platform without a build, say),
 * {@link #unavailable()} says why and inference runs on DL4J instead. Shared by the inference plan, {@link MatMul}
 * and the DL4J engine's convolution training primitives ({@link ConvolutionTrainingPrimitives}); a caller runs primitives on the stream
 * while holding the lock on this class, since one stream is not thread-safe.
 */
public final class OneDnn {
    private static engine engine;
    private static stream stream;
    private static String unavailable;
    private static boolean tried;

    private OneDnn() {
    }

    /** Null when oneDNN is loaded and ready; otherwise the reason it is not. */
    public static synchronized String unavailable() {
        if (!tried) {
            tried = true;
            try {
                // ND4J first: both use the same OpenMP runtime, loaded once by ND4J's own native library
                org.nd4j.linalg.factory.Nd4j.getBackend();
                engine = new engine(org.bytedeco.dnnl.engine.kind.cpu, 0);
                stream = new stream(engine);
            } catch (Throwable t) {
                unavailable = "oneDNN's Java bindings could not be loaded (" + t + ")";
            }
        }
        return unavailable;
    }

    public static engine engine() {
        if (unavailable() != null) {
            throw new IllegalStateException(unavailable);
        }
        return engine;
    }

    public static stream stream() {
        engine();
        return stream;
    }

    /**
     * Points a user memory (made with a null handle) at an array, which must be dense float in C order, of the given
     * shape where one is given, and of the memory's size.
     */
    static void bind(memory m, INDArray a, long[] shape) {
        if (a.dataType() != DataType.FLOAT || !FloatArrays.denseInCOrder(a)
                || (shape != null && !java.util.Arrays.equals(shape, a.shape()))) {
            throw new IllegalArgumentException("expected a dense float array in C order"
                    + (shape == null ? "" : " of shape " + java.util.Arrays.toString(shape)) + ", got "
                    + a.shapeInfoToString().replace('\n', ' '));
        }
        if (m.get_desc().get_size() != a.length() * Float.BYTES) {
            throw new IllegalArgumentException("array of " + a.length() + " floats for a memory of "
                    + m.get_desc().get_size() + " bytes");
        }
        m.set_data_handle(a.data().addressPointer()); // a view's buffer starts at the view's first element
    }
}
