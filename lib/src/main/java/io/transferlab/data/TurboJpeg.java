package io.transferlab.data;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import java.lang.ref.Cleaner;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JPEG decoding through libjpeg-turbo's TurboJPEG 2.x C API (libturbojpeg.so.0: Debian's libturbojpeg0, conda-forge's
 * libjpeg-turbo), bound with JNA. Unlike the libjpeg-turbo bundled in OpenCV's JavaCPP preset, these builds have their
 * SIMD code and decode about twice as fast (measured on the cats-and-dogs photos); the output is the same to the bit
 * (same IDCT, upsampling and colour conversion, whose SIMD versions match libjpeg-turbo's C code exactly; tested).
 * {@link NativeJpeg} uses it and falls back to OpenCV for every image this class does not decode cleanly.
 *
 * <p>The library is loaded once, on first use, from {@code $CONDA_PREFIX/lib} when that is set and holds it, else
 * from the system's library path. Each decode gets a fresh TurboJPEG handle (under a microsecond to make): a handle
 * keeps the quantization and Huffman tables of the JPEGs it decoded, and would use them for a later JPEG that lacks
 * its own, where OpenCV's fresh decoder refuses the file or uses the standard tables. The native buffers are kept per
 * thread and freed when the thread ends (its thread-local state becomes unreachable).
 */
final class TurboJpeg {
    private TurboJpeg() {
    }

    /** turbojpeg.h: pixel format TJPF_BGR (3 bytes a pixel, B G R). */
    private static final int TJPF_BGR = 1;
    /** turbojpeg.h: tjGetErrorCode's value for a warning (libjpeg went on; the image may be damaged). */
    private static final int TJERR_WARNING = 0;
    /** Native buffers larger than this are freed after each decode instead of being kept for the thread's next one. */
    private static final long KEEP_BYTES = 16L << 20;

    /** The C functions (turbojpeg.h), bound by JNA's direct mapping: the native methods are registered on this class. */
    private static final class Lib {
        static native Pointer tjInitDecompress();

        static native int tjDecompressHeader3(Pointer handle, Pointer jpegBuf, NativeLong jpegSize, int[] width,
                                              int[] height, int[] jpegSubsamp, int[] jpegColorspace);

        static native int tjDecompress2(Pointer handle, Pointer jpegBuf, NativeLong jpegSize, Pointer dstBuf,
                                        int width, int pitch, int height, int pixelFormat, int flags);

        static native Pointer tjGetScalingFactors(int[] numScalingFactors);

        static native String tjGetErrorStr2(Pointer handle);

        static native int tjGetErrorCode(Pointer handle);

        static native int tjDestroy(Pointer handle);
    }

    /** The library, loaded on first use: its scaling factors ({num, denom}, in its order), or null when not loaded. */
    private static final class Holder {
        static final int[][] SCALING_FACTORS = load();

        private static int[][] load() {
            String name = Platform.isLinux() ? "libturbojpeg.so.0" : "turbojpeg";
            String conda = System.getenv("CONDA_PREFIX");
            try {
                // JNA's own native part first, so that a failure there is not reported as a missing libturbojpeg
                Class.forName(Native.class.getName(), true, TurboJpeg.class.getClassLoader());
                if (conda != null && !conda.isBlank() && Files.isDirectory(Path.of(conda, "lib"))) {
                    NativeLibrary.addSearchPath(name, Path.of(conda, "lib").toString()); // searched before the system
                }
                NativeLibrary lib;
                try {
                    lib = NativeLibrary.getInstance(name);
                } catch (UnsatisfiedLinkError e) {
                    System.err.println("Note: libturbojpeg not found (apt-get install libturbojpeg0, or conda install "
                            + "libjpeg-turbo); decoding JPEGs with OpenCV's libjpeg-turbo without SIMD");
                    return null;
                }
                Native.register(Lib.class, lib);
                int[] n = new int[1];
                Pointer sf = Lib.tjGetScalingFactors(n);
                if (sf == null || n[0] <= 0) {
                    throw new IllegalStateException("tjGetScalingFactors failed");
                }
                int[][] factors = new int[n[0]][];
                for (int i = 0; i < n[0]; i++) { // tjscalingfactor: {int num; int denom;}
                    factors[i] = new int[]{sf.getInt(8L * i), sf.getInt(8L * i + 4)};
                }
                return factors;
            } catch (LinkageError | ClassNotFoundException | RuntimeException e) { // JNA broken, a TurboJPEG 1.x, ...
                System.err.println("Note: libturbojpeg not usable (" + e + "); decoding JPEGs with OpenCV's "
                        + "libjpeg-turbo without SIMD");
                return null;
            }
        }
    }

    /** Whether the library loaded (loads it on the first call). */
    static boolean available() {
        return Holder.SCALING_FACTORS != null;
    }

    /** What {@link State} frees: the native buffers, as they stand when the thread's state is dropped. */
    private static final class Resources implements Runnable {
        long in, inCap, out, outCap;

        @Override
        public void run() {
            freeIn();
            freeOut();
        }

        void freeIn() {
            if (in != 0) {
                Native.free(in);
            }
            in = inCap = 0;
        }

        void freeOut() {
            if (out != 0) {
                Native.free(out);
            }
            out = outCap = 0;
        }
    }

    /** One thread's native buffers and header outputs. */
    private static final class State {
        private static final Cleaner CLEANER = Cleaner.create();

        final Resources res = new Resources();
        final int[] width = new int[1], height = new int[1], subsamp = new int[1], colorspace = new int[1];
        /** Why the last decode on this thread gave up; null when it succeeded. */
        String lastError;

        State() {
            CLEANER.register(this, res); // res does not refer back to this state, so the state can become unreachable
        }

        /** The JPEG's bytes in native memory. */
        Pointer input(byte[] jpeg) {
            if (res.inCap < jpeg.length) {
                res.freeIn();
                res.in = malloc(jpeg.length);
                res.inCap = jpeg.length;
            }
            Pointer p = new Pointer(res.in);
            p.write(0, jpeg, 0, jpeg.length);
            return p;
        }

        /** A native output buffer of at least n bytes. */
        Pointer output(long n) {
            if (res.outCap < n) {
                res.freeOut();
                res.out = malloc(n);
                res.outCap = n;
            }
            return new Pointer(res.out);
        }

        /** Keeps the buffers for the next decode unless they are large (one huge photo should not pin its memory). */
        void trim() {
            if (res.inCap > KEEP_BYTES) {
                res.freeIn();
            }
            if (res.outCap > KEEP_BYTES) {
                res.freeOut();
            }
        }

        /** Records why TurboJPEG gave up, from its handle. */
        void failed(Pointer handle, String what) {
            int code = Lib.tjGetErrorCode(handle);
            lastError = what + (code == TJERR_WARNING ? " warned: " : " failed: ") + Lib.tjGetErrorStr2(handle);
        }

        private static long malloc(long n) {
            long p = Native.malloc(Math.max(1, n));
            if (p == 0) {
                throw new OutOfMemoryError("cannot allocate " + n + " bytes of native memory for a JPEG");
            }
            return p;
        }
    }

    private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

    /**
     * Decodes a JPEG at 1/reduction scale (1, 2, 4 or 8; the size divided and rounded up, as libjpeg's scale_denom)
     * into BGR bytes, with libjpeg's default (and OpenCV's) settings: accurate integer DCT, fancy upsampling. Null
     * when TurboJPEG does not decode it cleanly: an error, a warning (corrupt data, which it would decode in part),
     * or a size at which it would choose a scaling other than 1/reduction, or the library not loaded;
     * {@link #lastError()} then says why.
     */
    static NativeJpeg.Decoded decode(byte[] jpeg, int reduction) {
        if (!available()) {
            return null;
        }
        State s = STATE.get();
        s.lastError = null;
        Pointer handle = Lib.tjInitDecompress();
        if (handle == null) {
            s.lastError = "tjInitDecompress failed";
            return null;
        }
        try {
            Pointer in = s.input(jpeg);
            NativeLong size = new NativeLong(jpeg.length);
            if (Lib.tjDecompressHeader3(handle, in, size, s.width, s.height, s.subsamp, s.colorspace) != 0) {
                s.failed(handle, "tjDecompressHeader3");
                return null;
            }
            int w = s.width[0], h = s.height[0];
            int tw = scaled(w, 1, reduction), th = scaled(h, 1, reduction);
            if (!choosesExactly(w, h, tw, th, reduction)) {
                s.lastError = "TurboJPEG would not decode " + w + "x" + h + " at 1/" + reduction;
                return null;
            }
            long n = 3L * tw * th;
            if (n > Integer.MAX_VALUE - 16) {
                s.lastError = "too large for a Java array: " + w + "x" + h;
                return null;
            }
            Pointer out = s.output(n);
            if (Lib.tjDecompress2(handle, in, size, out, tw, tw * 3, th, TJPF_BGR, 0) != 0) {
                s.failed(handle, "tjDecompress2");
                return null;
            }
            byte[] px = new byte[(int) n];
            out.read(0, px, 0, px.length);
            return new NativeJpeg.Decoded(px, th, tw);
        } finally {
            Lib.tjDestroy(handle);
            s.trim();
        }
    }

    /** Why the last {@link #decode} on this thread returned null (null after a successful one); for tests and probes. */
    static String lastError() {
        return available() ? STATE.get().lastError : "libturbojpeg not loaded";
    }

    /** TJSCALED: a dimension scaled by num/denom, rounded up. */
    private static int scaled(int dim, int num, int denom) {
        return (int) (((long) dim * num + denom - 1) / denom);
    }

    /**
     * Whether tjDecompress2, asked for a tw x th output, scales by exactly 1/reduction: it takes the first of its
     * scaling factors (largest first) whose output fits, which for a tiny image can be a larger factor giving the same
     * size, and so different pixels from OpenCV's 1/reduction decode.
     */
    private static boolean choosesExactly(int w, int h, int tw, int th, int reduction) {
        for (int[] f : Holder.SCALING_FACTORS) {
            if (scaled(w, f[0], f[1]) <= tw && scaled(h, f[0], f[1]) <= th) {
                return (long) f[0] * reduction == f[1];
            }
        }
        return false;
    }
}
