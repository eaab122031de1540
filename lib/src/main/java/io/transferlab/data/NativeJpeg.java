package io.transferlab.data;

import io.transferlab.runtime.Backend;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;

import java.io.IOException;

/**
 * Native JPEG decoding, used by {@link Images#load} for JPEG files when OpenCV's native library (the JavaCPP preset
 * org.bytedeco:opencv) loads. Two decoders, both libjpeg-turbo with libjpeg's default settings (accurate integer DCT,
 * fancy upsampling), so their pixels are the same to the bit:
 * <ul>
 *   <li>{@link TurboJpeg}: the system's (or the conda environment's) libturbojpeg, built with libjpeg-turbo's SIMD
 *   code, about twice as fast. Used when it loads (apt-get install libturbojpeg0, or conda install
 *   libjpeg-turbo; one note on stderr when it does not), unless {@code TL_TURBOJPEG=0} (or
 *   {@code -Dtransferlab.turboJpeg=false}).</li>
 *   <li>OpenCV's imdecode, whose bundled libjpeg-turbo lacks the SIMD code: without libturbojpeg, and for every image
 *   TurboJPEG does not decode cleanly (an error, or a warning about corrupt data), so that such files are treated
 *   exactly as before.</li>
 * </ul>
 * ImageIO stays the decoder for every other format, for JPEGs this class does not take (CMYK/YCCK, not 8-bit, a
 * header it cannot walk), and for everything when {@code TL_NATIVE_JPEG=0} (or {@code -Dtransferlab.nativeJpeg=false}).
 * EXIF orientation is ignored, as on the ImageIO path and in Keras's load_img.
 *
 * <p>DCT-domain downscaling: when the target is at most half the photo in both dimensions, libjpeg decodes at 1/2,
 * 1/4 or 1/8 scale (the largest reduction still at least the target size) and the result is resized as requested.
 * This is a box-filtered decode (as PIL's draft mode), so pixels differ slightly from a full decode followed by the
 * resize; {@code TL_JPEG_DCT_SCALING=0} (or {@code -Dtransferlab.jpegDctScaling=false}) turns it off.
 *
 * <p>Known difference from the ImageIO path: OpenCV hands libjpeg's warnings (partly corrupt entropy data, e.g.
 * "Corrupt JPEG data: premature end of data segment") to stderr instead of reporting them, so such a file is decoded
 * (the missing part gray) instead of refused; a file libjpeg cannot decode at all, and a JPEG cut off before its
 * end-of-image marker, are refused as before.
 */
final class NativeJpeg {
    private NativeJpeg() {
    }

    /** BGR bytes, (height, width, 3) row-major, as libjpeg wrote them. */
    record Decoded(byte[] bgr, int height, int width) {
    }

    /** The native decoder loaded once; false (after one line on stderr) when it cannot be. */
    private static final class Holder {
        static final boolean LOADED = load();

        private static boolean load() {
            try {
                Loader.load(opencv_imgcodecs.class);
                return true;
            } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError, ...: fall back to ImageIO
                System.err.println("Note: native JPEG decoder (OpenCV) not available, decoding JPEGs with ImageIO: " + e);
                return false;
            }
        }
    }

    /** Whether JPEGs are decoded natively: switched on and the library loaded. */
    static boolean enabled() {
        return Backend.switchedOn("transferlab.nativeJpeg", "TL_NATIVE_JPEG") && Holder.LOADED;
    }

    /** Whether JPEGs are decoded with libturbojpeg (see the class comment): switched on and the library loaded. */
    static boolean turboJpeg() {
        return Backend.switchedOn("transferlab.turboJpeg", "TL_TURBOJPEG") && TurboJpeg.available();
    }

    /** Whether DCT-domain downscaling may be used (see the class comment). */
    static boolean dctScaling() {
        return Backend.switchedOn("transferlab.jpegDctScaling", "TL_JPEG_DCT_SCALING");
    }

    /** Describes the decoding in force, for fingerprints of decoded data (feature caches). */
    static String mode() {
        return enabled() ? (dctScaling() ? "native-jpeg+dct" : "native-jpeg") : "imageio";
    }

    /** A JPEG's frame header: size and number of components, bits per sample. */
    record Header(int height, int width, int components, int precision) {
    }

    /**
     * Walks the markers of a JPEG up to its frame header (SOFn); null when the bytes are not a JPEG or the walk fails
     * (the ImageIO path then decodes, or refuses, the file as before).
     */
    static Header header(byte[] b) {
        if (b.length < 4 || (b[0] & 0xff) != 0xFF || (b[1] & 0xff) != 0xD8) {
            return null;
        }
        int p = 2;
        while (p + 4 <= b.length) {
            if ((b[p] & 0xff) != 0xFF) {
                return null;
            }
            int m = b[p + 1] & 0xff;
            if (m == 0xFF) { // fill byte
                p++;
                continue;
            }
            if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { // markers without a length
                p += 2;
                continue;
            }
            if (m == 0xDA || m == 0xD9) { // scan or end before any frame header
                return null;
            }
            int len = ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
            if (len < 2) {
                return null;
            }
            boolean sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
            if (sof) {
                if (p + 10 > b.length) {
                    return null;
                }
                int precision = b[p + 4] & 0xff;
                int h = ((b[p + 5] & 0xff) << 8) | (b[p + 6] & 0xff);
                int w = ((b[p + 7] & 0xff) << 8) | (b[p + 8] & 0xff);
                int comps = b[p + 9] & 0xff;
                return new Header(h, w, comps, precision);
            }
            p += 2 + len;
        }
        return null;
    }

    /**
     * The reduction (1, 2, 4 or 8) libjpeg decodes at for a target size: the largest whose output (the size divided
     * and rounded up, as libjpeg's scale_denom) is at least the target in both dimensions; 1 when DCT scaling is off.
     */
    static int reduction(int h, int w, int th, int tw, boolean dctScaling) {
        if (!dctScaling) {
            return 1;
        }
        for (int s = 8; s >= 2; s /= 2) {
            if ((h + s - 1) / s >= th && (w + s - 1) / s >= tw) {
                return s;
            }
        }
        return 1;
    }

    /** Whether this class decodes a JPEG with this header (8-bit, gray or 3-component colour). */
    static boolean takes(Header hd) {
        return hd != null && hd.precision() == 8 && (hd.components() == 1 || hd.components() == 3)
                && hd.height() > 0 && hd.width() > 0;
    }

    /**
     * Decodes at 1/reduction scale: with TurboJPEG when it is in use and decodes the image cleanly, else with OpenCV
     * (the same pixels either way); the error names the file when libjpeg cannot decode it.
     */
    static Decoded decode(byte[] content, String name, int reduction) throws IOException {
        if (reduction != 1 && reduction != 2 && reduction != 4 && reduction != 8) {
            throw new IllegalArgumentException("reduction must be 1, 2, 4 or 8, got " + reduction);
        }
        if (turboJpeg()) {
            Decoded d = TurboJpeg.decode(content, reduction);
            if (d != null) {
                return d;
            }
        }
        return decodeOpenCv(content, name, reduction);
    }

    /** OpenCV's imdecode at 1/reduction scale. */
    private static Decoded decodeOpenCv(byte[] content, String name, int reduction) throws IOException {
        int flags = opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION | switch (reduction) {
            case 1 -> opencv_imgcodecs.IMREAD_COLOR;
            case 2 -> opencv_imgcodecs.IMREAD_REDUCED_COLOR_2;
            case 4 -> opencv_imgcodecs.IMREAD_REDUCED_COLOR_4;
            case 8 -> opencv_imgcodecs.IMREAD_REDUCED_COLOR_8;
            default -> throw new IllegalArgumentException("reduction must be 1, 2, 4 or 8, got " + reduction);
        };
        try (BytePointer data = new BytePointer(content);
             Mat buf = new Mat(1, content.length, opencv_core.CV_8UC1, data);
             Mat img = opencv_imgcodecs.imdecode(buf, flags)) {
            if (img == null || img.empty() || img.type() != opencv_core.CV_8UC3 || !img.isContinuous()) {
                throw new IOException("Image " + name + " is truncated or corrupt (the JPEG decoder could not decode it)");
            }
            int h = img.rows();
            int w = img.cols();
            byte[] px = new byte[Math.multiplyExact(Math.multiplyExact(h, w), 3)];
            img.data().get(px);
            return new Decoded(px, h, w);
        } catch (RuntimeException e) {
            throw new IOException("Cannot decode image " + name + ": " + e, e);
        }
    }
}
