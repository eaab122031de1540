package io.transferlab.engine.onednn;

import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.stream;

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
}
