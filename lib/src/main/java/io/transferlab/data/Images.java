package io.transferlab.data;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;

/**
 * Image decoding and resizing for the data pipeline. Every image ends as RGB: grayscale is repeated over the three
 * channels, an alpha channel is dropped (as PIL's convert("RGB") does), CMYK JPEGs are converted (TwelveMonkeys'
 * JPEG reader). Pixels are floats in 0..255, channels-last (height, width, 3).
 */
public final class Images {
    /** File extensions read as images (lower case), as Keras's white list. */
    public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif");

    private Images() {
    }

    public static boolean hasImageExtension(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = n.lastIndexOf('.');
        return dot >= 0 && EXTENSIONS.contains(n.substring(dot + 1));
    }

    /** Reads only the header (and a JPEG's last bytes): throws if the file is not an image ImageIO can decode whole. */
    static void checkHeader(Path file) throws IOException {
        checkJpegEnd(file);
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new IOException("cannot open");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException("not a known image format");
            }
            ImageReader r = readers.next();
            try {
                r.setInput(in);
                if (r.getWidth(0) <= 0 || r.getHeight(0) <= 0) {
                    throw new IOException("empty image");
                }
            } finally {
                r.dispose();
            }
        }
    }

    /**
     * Decodes an image file to a BufferedImage; the error names the file. A file the decoder could read only in part
     * is refused as PIL refuses it: a JPEG without its end-of-image marker (cut off), or any image whose decoder
     * warned about corrupt or missing data (Java's decoders would otherwise fill the missing rows with gray). An
     * image too large for the Java heap is refused with its size and the heap's.
     */
    public static BufferedImage read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("No such image file: " + file);
        }
        checkJpegEnd(file);
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            return decode(in, file.toString());
        }
    }

    /**
     * Decodes an image from its bytes (a file's content read elsewhere, e.g. by Spark's binaryFile source) with the
     * same checks as {@link #read(Path)}; {@code name} (the file's path or URI) names it in errors.
     */
    public static BufferedImage read(byte[] content, String name) throws IOException {
        if (content == null || content.length == 0) {
            throw new IOException("Image " + name + " is empty (0 bytes)");
        }
        checkJpegEnd(content, name);
        try (ImageInputStream in = ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(content))) {
            return decode(in, name);
        }
    }

    private static BufferedImage decode(ImageInputStream in, String file) throws IOException {
        Iterator<ImageReader> readers = in == null ? java.util.Collections.emptyIterator() : ImageIO.getImageReaders(in);
        if (!readers.hasNext()) {
            throw new IOException("Not an image (or an unsupported format): " + file);
        }
        ImageReader r = readers.next();
        java.util.List<String> warnings = new java.util.ArrayList<>();
        try {
            r.setInput(in, true, true);
            r.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            BufferedImage img = r.read(0);
            if (!warnings.isEmpty()) {
                throw new IOException("Image " + file + " is truncated or corrupt (" + warnings.get(0) + ")");
            }
            return img;
        } catch (OutOfMemoryError e) {
            long pixels = (long) r.getWidth(0) * r.getHeight(0);
            throw new IOException("Image " + file + " (" + r.getWidth(0) + "x" + r.getHeight(0) + ", " + pixels / 1_000_000
                    + " megapixels) is too large for the Java heap (" + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MB): give Java more memory (-Xmx, or TL_KERNEL_XMX for the notebook kernel) or resize the image", e);
        } catch (javax.imageio.IIOException e) {
            // the decoder's own message ("Unsupported marker type 0x55") does not name the file
            throw new IOException("Image " + file + " is truncated or corrupt (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            throw new IOException("Cannot decode image " + file + ": " + e, e);
        } finally {
            r.dispose();
        }
    }

    /** A JPEG must end with its end-of-image marker (FF D9), allowing a little padding after it. */
    static void checkJpegEnd(Path file) throws IOException {
        long size = Files.size(file);
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            java.nio.ByteBuffer head = java.nio.ByteBuffer.allocate(2);
            ch.read(head, 0);
            if (size < 4 || !isJpeg(head.array())) {
                return; // not a JPEG
            }
            int tail = (int) Math.min(size, 4096);
            java.nio.ByteBuffer end = java.nio.ByteBuffer.allocate(tail);
            ch.read(end, size - tail);
            if (hasEndMarker(end.array(), 0, tail)) {
                return;
            }
        }
        throw new IOException("Image " + file + " is truncated (the JPEG data ends without its end-of-image marker)");
    }

    /** {@link #checkJpegEnd(Path)} on a file's bytes. */
    static void checkJpegEnd(byte[] content, String name) throws IOException {
        if (content.length < 4 || !isJpeg(content)) {
            return;
        }
        int tail = Math.min(content.length, 4096);
        if (!hasEndMarker(content, content.length - tail, tail)) {
            throw new IOException("Image " + name + " is truncated (the JPEG data ends without its end-of-image marker)");
        }
    }

    private static boolean isJpeg(byte[] head) {
        return (head[0] & 0xff) == 0xFF && (head[1] & 0xff) == 0xD8;
    }

    private static boolean hasEndMarker(byte[] b, int from, int length) {
        for (int i = from + length - 2; i >= from; i--) {
            if ((b[i] & 0xff) == 0xFF && (b[i + 1] & 0xff) == 0xD9) {
                return true;
            }
        }
        return false;
    }

    /** An image as RGB floats 0..255, (height, width, 3) row-major. */
    public static float[] toRgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[h * w * 3];
        Raster raster = img.getRaster();
        int bands = raster.getNumBands();
        boolean gray = img.getColorModel().getColorSpace().getNumComponents() == 1 && bands <= 2
                && img.getColorModel().getComponentSize(0) <= 8;
        if (gray) {
            // gray samples as they are (getRGB would pass them through a linear-to-sRGB conversion)
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int i = (y * w + x) * 3;
                    out[i] = out[i + 1] = out[i + 2] = row[x];
                }
            }
            return out;
        }
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int p = 0; p < argb.length; p++) {
            int v = argb[p];
            out[3 * p] = (v >> 16) & 0xff;
            out[3 * p + 1] = (v >> 8) & 0xff;
            out[3 * p + 2] = v & 0xff;
        }
        return out;
    }

    /** How to resize. Keras's flow_from_directory defaults to nearest; bilinear is smoother. */
    public enum Interpolation { NEAREST, BILINEAR }

    /**
     * Resizes an (h, w, 3) RGB float image to (th, tw, 3). Pixel centres are mapped onto the source; nearest takes
     * the source pixel containing the mapped centre, bilinear interpolates the four around it (clamped at the edges).
     * The source rows and columns, and the bilinear weights, are computed once per row and column.
     */
    public static float[] resize(float[] src, int h, int w, int th, int tw, Interpolation mode) {
        if (h == th && w == tw) {
            return src;
        }
        float[] out = new float[th * tw * 3];
        if (mode == Interpolation.NEAREST) {
            int[] rows = nearestIndex(h, th);
            int[] cols = nearestIndex(w, tw);
            int o = 0;
            for (int y = 0; y < th; y++) {
                int rowBase = rows[y] * w;
                for (int x = 0; x < tw; x++, o += 3) {
                    int s = (rowBase + cols[x]) * 3;
                    out[o] = src[s];
                    out[o + 1] = src[s + 1];
                    out[o + 2] = src[s + 2];
                }
            }
            return out;
        }
        Taps ys = Taps.of(h, th);
        Taps xs = Taps.of(w, tw);
        int o = 0;
        for (int y = 0; y < th; y++) {
            int r0 = ys.i0[y] * w, r1 = ys.i1[y] * w;
            double fy = ys.f[y], gy = ys.g[y];
            for (int x = 0; x < tw; x++, o += 3) {
                int p00 = (r0 + xs.i0[x]) * 3, p01 = (r0 + xs.i1[x]) * 3;
                int p10 = (r1 + xs.i0[x]) * 3, p11 = (r1 + xs.i1[x]) * 3;
                double fx = xs.f[x], gx = xs.g[x];
                for (int c = 0; c < 3; c++) {
                    double a = src[p00 + c] * gx + src[p01 + c] * fx;
                    double b = src[p10 + c] * gx + src[p11 + c] * fx;
                    out[o + c] = (float) (a * gy + b * fy);
                }
            }
        }
        return out;
    }

    /**
     * Resizes (and converts) a (h, w, 3) BGR byte image, as a native JPEG decoder gives it, to (th, tw, 3) RGB floats
     * 0..255: the same pixels as {@link #resize} on the image converted to RGB floats first.
     */
    static float[] resizeBgr(byte[] bgr, int h, int w, int th, int tw, Interpolation mode) {
        float[] out = new float[th * tw * 3];
        if (h == th && w == tw) {
            for (int p = 0; p < out.length; p += 3) {
                out[p] = bgr[p + 2] & 0xff;
                out[p + 1] = bgr[p + 1] & 0xff;
                out[p + 2] = bgr[p] & 0xff;
            }
            return out;
        }
        if (mode == Interpolation.NEAREST) {
            int[] rows = nearestIndex(h, th);
            int[] cols = nearestIndex(w, tw);
            int o = 0;
            for (int y = 0; y < th; y++) {
                int rowBase = rows[y] * w;
                for (int x = 0; x < tw; x++, o += 3) {
                    int s = (rowBase + cols[x]) * 3;
                    out[o] = bgr[s + 2] & 0xff;
                    out[o + 1] = bgr[s + 1] & 0xff;
                    out[o + 2] = bgr[s] & 0xff;
                }
            }
            return out;
        }
        // separable: each source row a target row needs is interpolated along x once (and kept while the next
        // target rows still use it), then pairs of such rows are blended along y: the arithmetic of the per-pixel
        // formula, in the same order, so the result is bit-identical to it (tested), at a fraction of its cost
        Taps ys = Taps.of(h, th);
        Taps xs = Taps.of(w, tw);
        int[] c0 = new int[tw], c1 = new int[tw];
        for (int x = 0; x < tw; x++) {
            c0[x] = xs.i0[x] * 3;
            c1[x] = xs.i1[x] * 3;
        }
        double[] rowA = new double[tw * 3], rowB = new double[tw * 3];
        int haveA = -1, haveB = -1;
        int o = 0;
        for (int y = 0; y < th; y++) {
            int s0 = ys.i0[y], s1 = ys.i1[y];
            if (haveA != s0) {
                if (haveB == s0) { // the previous second row is this first row
                    double[] t = rowA;
                    rowA = rowB;
                    rowB = t;
                    haveB = haveA;
                } else {
                    horizontal(bgr, s0 * w * 3, c0, c1, xs.f, xs.g, rowA);
                }
                haveA = s0;
            }
            if (haveB != s1) {
                horizontal(bgr, s1 * w * 3, c0, c1, xs.f, xs.g, rowB);
                haveB = s1;
            }
            double fy = ys.f[y], gy = ys.g[y];
            for (int i = 0; i < tw * 3; i++, o++) {
                out[o] = (float) (rowA[i] * gy + rowB[i] * fy);
            }
        }
        return out;
    }

    /** The byte values 0..255 as doubles: a table lookup instead of two conversions per sample (same values). */
    private static final double[] BYTE_VALUE = new double[256];

    static {
        for (int i = 0; i < 256; i++) {
            BYTE_VALUE[i] = i;
        }
    }

    /** One BGR byte row interpolated along x into RGB doubles: v0 * g + v1 * f per target column and channel. */
    private static void horizontal(byte[] bgr, int base, int[] c0, int[] c1, double[] f, double[] g, double[] row) {
        double[] v = BYTE_VALUE;
        for (int x = 0, o = 0; x < c0.length; x++, o += 3) {
            int p0 = base + c0[x], p1 = base + c1[x];
            double fx = f[x], gx = g[x];
            row[o] = v[bgr[p0 + 2] & 0xff] * gx + v[bgr[p1 + 2] & 0xff] * fx;
            row[o + 1] = v[bgr[p0 + 1] & 0xff] * gx + v[bgr[p1 + 1] & 0xff] * fx;
            row[o + 2] = v[bgr[p0] & 0xff] * gx + v[bgr[p1] & 0xff] * fx;
        }
    }

    /** Nearest-neighbour source index of each target index: floor((i + 0.5) * n / tn), clamped. */
    private static int[] nearestIndex(int n, int tn) {
        double s = (double) n / tn;
        int[] idx = new int[tn];
        for (int i = 0; i < tn; i++) {
            idx[i] = Math.min(n - 1, (int) Math.floor((i + 0.5) * s));
        }
        return idx;
    }

    /** Bilinear taps along one axis: the two source indices, the weight f of the second and g = 1 - f of the first. */
    private record Taps(int[] i0, int[] i1, double[] f, double[] g) {
        static Taps of(int n, int tn) {
            double s = (double) n / tn;
            int[] i0 = new int[tn], i1 = new int[tn];
            double[] f = new double[tn], g = new double[tn];
            for (int i = 0; i < tn; i++) {
                double pos = Math.max(0, Math.min(n - 1, (i + 0.5) * s - 0.5));
                i0[i] = (int) pos;
                i1[i] = Math.min(n - 1, i0[i] + 1);
                f[i] = pos - i0[i];
                g[i] = 1 - f[i];
            }
            return new Taps(i0, i1, f, g);
        }
    }

    /** Samples an (h, w, 3) image at a position inside it (0 <= y <= h-1, 0 <= x <= w-1), bilinearly, into out[o..o+2]. */
    static void bilinear(float[] px, int h, int w, double y, double x, float[] out, int o) {
        int y0 = (int) y, x0 = (int) x;
        int y1 = Math.min(h - 1, y0 + 1), x1 = Math.min(w - 1, x0 + 1);
        double fy = y - y0, fx = x - x0;
        for (int c = 0; c < 3; c++) {
            double a = px[(y0 * w + x0) * 3 + c] * (1 - fx) + px[(y0 * w + x1) * 3 + c] * fx;
            double b = px[(y1 * w + x0) * 3 + c] * (1 - fx) + px[(y1 * w + x1) * 3 + c] * fx;
            out[o + c] = (float) (a * (1 - fy) + b * fy);
        }
    }

    /**
     * Reads, converts to RGB and resizes: (th, tw, 3) floats 0..255. A JPEG is decoded natively when the native
     * decoder loads ({@link NativeJpeg}: libjpeg-turbo, through libturbojpeg when installed, else OpenCV's; with
     * DCT-domain downscaling when the target is at most half the photo; TL_NATIVE_JPEG=0, TL_TURBOJPEG=0 and
     * TL_JPEG_DCT_SCALING=0 switch these off), anything else with ImageIO.
     */
    public static float[] load(Path file, int th, int tw, Interpolation mode) throws IOException {
        if (NativeJpeg.enabled() && Files.isRegularFile(file) && Files.size(file) >= 4 && startsAsJpeg(file)) {
            return load(Files.readAllBytes(file), file.toString(), th, tw, mode);
        }
        BufferedImage img = read(file);
        try {
            return resize(toRgb(img), img.getHeight(), img.getWidth(), th, tw, mode);
        } catch (OutOfMemoryError e) {
            throw new IOException("Image " + file + " (" + img.getWidth() + "x" + img.getHeight() + ") is too large for the "
                    + "Java heap (" + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB): give Java more memory (-Xmx, "
                    + "or TL_KERNEL_XMX for the notebook kernel) or resize the image", e);
        }
    }

    /** {@link #load(Path, int, int, Interpolation)} on a file's bytes: reads, converts to RGB and resizes. */
    public static float[] load(byte[] content, String name, int th, int tw, Interpolation mode) throws IOException {
        if (content != null && NativeJpeg.enabled()) {
            NativeJpeg.Header hd = NativeJpeg.header(content);
            // a JPEG whose structure shows damage goes to ImageIO, whose warnings refuse it (the native decoder's are lost)
            if (NativeJpeg.takes(hd) && JpegStructure.problem(content) == null) {
                checkJpegEnd(content, name);
                int reduction = NativeJpeg.reduction(hd.height(), hd.width(), th, tw, NativeJpeg.dctScaling());
                try {
                    NativeJpeg.Decoded d = NativeJpeg.decode(content, name, reduction);
                    return resizeBgr(d.bgr(), d.height(), d.width(), th, tw, mode);
                } catch (OutOfMemoryError e) {
                    throw new IOException("Image " + name + " (" + hd.width() + "x" + hd.height() + ") is too large for the "
                            + "Java heap (" + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB): give Java more memory "
                            + "(-Xmx) or resize the image", e);
                }
            }
        }
        BufferedImage img = read(content, name);
        try {
            return resize(toRgb(img), img.getHeight(), img.getWidth(), th, tw, mode);
        } catch (OutOfMemoryError e) {
            throw new IOException("Image " + name + " (" + img.getWidth() + "x" + img.getHeight() + ") is too large for the "
                    + "Java heap (" + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB): give Java more memory (-Xmx) "
                    + "or resize the image", e);
        }
    }

    private static boolean startsAsJpeg(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(2);
            return head.length == 2 && isJpeg(head);
        }
    }
}
