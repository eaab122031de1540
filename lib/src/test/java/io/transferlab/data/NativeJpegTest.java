package io.transferlab.data;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The native JPEG path (OpenCV's libjpeg-turbo) against the ImageIO path it replaces, the DCT-scaled decode against a
 * full decode followed by a box filter, and the table-driven resize against the per-pixel loop it replaced.
 */
class NativeJpegTest {
    @TempDir
    Path tmp;

    /** A photo-like test image: smooth gradients plus noise (JPEG's worst case is noise, its usual case smoothness). */
    private static BufferedImage picture(int w, int h, int type, long seed) {
        BufferedImage img = new BufferedImage(w, h, type);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int red = clamp(x * 255 / w + r.nextInt(21) - 10);
                int green = clamp(y * 255 / h + r.nextInt(21) - 10);
                int blue = clamp(128 + (int) (100 * Math.sin((x + y) / 9.0)) + r.nextInt(21) - 10);
                img.setRGB(x, y, (red << 16) | (green << 8) | blue);
            }
        }
        return img;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    private static byte[] jpeg(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, "jpg", out));
        return out.toByteArray();
    }

    /** The pixels the ImageIO path gives (full size, RGB floats). */
    private static float[] imageIo(byte[] jpeg) throws IOException {
        return Images.toRgb(Images.read(jpeg, "test.jpg"));
    }

    private static float[] nativeFull(byte[] jpeg) throws IOException {
        NativeJpeg.Decoded d = NativeJpeg.decode(jpeg, "test.jpg", 1);
        return Images.resizeBgr(d.bgr(), d.height(), d.width(), d.height(), d.width(), Images.Interpolation.NEAREST);
    }

    private static double maxAbs(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static double meanAbs(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs(a[i] - b[i]);
        }
        return s / a.length;
    }

    private static <T> T withProperty(String key, String value, Callable<T> body) throws Exception {
        String old = System.getProperty(key);
        System.setProperty(key, value);
        try {
            return body.call();
        } finally {
            if (old == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, old);
            }
        }
    }

    private static void assumeNative() {
        Assumptions.assumeTrue(NativeJpeg.enabled(), "native JPEG decoder not loaded (or TL_NATIVE_JPEG=0)");
    }

    // ------------------------------------------------------------------ resize

    /** The per-pixel resize Images used before the row/column tables (kept here as the reference). */
    private static float[] oldResize(float[] src, int h, int w, int th, int tw, Images.Interpolation mode) {
        if (h == th && w == tw) {
            return src;
        }
        float[] out = new float[th * tw * 3];
        double sy = (double) h / th;
        double sx = (double) w / tw;
        for (int y = 0; y < th; y++) {
            double fy = (y + 0.5) * sy - 0.5;
            for (int x = 0; x < tw; x++) {
                double fx = (x + 0.5) * sx - 0.5;
                int o = (y * tw + x) * 3;
                if (mode == Images.Interpolation.NEAREST) {
                    int iy = Math.min(h - 1, (int) Math.floor((y + 0.5) * sy));
                    int ix = Math.min(w - 1, (int) Math.floor((x + 0.5) * sx));
                    System.arraycopy(src, (iy * w + ix) * 3, out, o, 3);
                } else {
                    Images.bilinear(src, h, w, Math.max(0, Math.min(h - 1, fy)), Math.max(0, Math.min(w - 1, fx)), out, o);
                }
            }
        }
        return out;
    }

    @Test
    void tableResizeIsBitIdenticalToThePerPixelLoop() {
        Random r = new Random(11);
        int cases = 0;
        for (int t = 0; t < 60; t++) {
            int h = 1 + r.nextInt(70), w = 1 + r.nextInt(70), th = 1 + r.nextInt(90), tw = 1 + r.nextInt(90);
            byte[] bgr = new byte[h * w * 3];
            r.nextBytes(bgr);
            float[] rgb = new float[bgr.length];
            for (int p = 0; p < bgr.length; p += 3) {
                rgb[p] = bgr[p + 2] & 0xff;
                rgb[p + 1] = bgr[p + 1] & 0xff;
                rgb[p + 2] = bgr[p] & 0xff;
            }
            float[] noise = new float[h * w * 3];
            for (int i = 0; i < noise.length; i++) {
                noise[i] = (float) (r.nextDouble() * 255);
            }
            for (Images.Interpolation mode : Images.Interpolation.values()) {
                String what = h + "x" + w + " -> " + th + "x" + tw + " " + mode;
                assertArrayEquals(oldResize(noise, h, w, th, tw, mode), Images.resize(noise, h, w, th, tw, mode), what);
                assertArrayEquals(oldResize(rgb, h, w, th, tw, mode), Images.resizeBgr(bgr, h, w, th, tw, mode), what);
                cases++;
            }
        }
        assertEquals(120, cases);
    }

    // ------------------------------------------------------------------ choice of the path

    @Test
    void reductionIsTheLargestThatStillCoversTheTarget() {
        assertEquals(1, NativeJpeg.reduction(375, 500, 224, 224, true)); // 375/2 < 224
        assertEquals(2, NativeJpeg.reduction(375, 500, 150, 150, true));
        assertEquals(4, NativeJpeg.reduction(375, 500, 64, 64, true));   // ceil(375/8) = 47 < 64
        assertEquals(8, NativeJpeg.reduction(375, 500, 47, 47, true));
        assertEquals(8, NativeJpeg.reduction(4000, 3000, 32, 32, true)); // never past 1/8
        assertEquals(1, NativeJpeg.reduction(375, 500, 150, 300, true)); // must hold in both dimensions
        assertEquals(1, NativeJpeg.reduction(375, 500, 150, 150, false));
    }

    @Test
    void headerIsReadFromTheFrameMarker() throws IOException {
        NativeJpeg.Header hd = NativeJpeg.header(jpeg(picture(41, 29, BufferedImage.TYPE_INT_RGB, 1)));
        assertEquals(new NativeJpeg.Header(29, 41, 3, 8), hd);
        NativeJpeg.Header gray = NativeJpeg.header(jpeg(picture(17, 9, BufferedImage.TYPE_BYTE_GRAY, 1)));
        assertEquals(new NativeJpeg.Header(9, 17, 1, 8), gray);
        assertNull(NativeJpeg.header("not a jpeg".getBytes()));
        assertNull(NativeJpeg.header(new byte[]{(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xDA, 0, 2}));
        assertFalse(NativeJpeg.takes(new NativeJpeg.Header(10, 10, 4, 8)), "CMYK/YCCK JPEGs stay on ImageIO");
        assertFalse(NativeJpeg.takes(new NativeJpeg.Header(10, 10, 3, 12)), "12-bit JPEGs stay on ImageIO");
    }

    // ------------------------------------------------------------------ pixels against ImageIO

    @Test
    void nativeDecodeEqualsImageIoWithinTwoLevels() throws Exception {
        assumeNative();
        double worst = 0;
        for (int t = 0; t < 6; t++) {
            int type = t % 3 == 2 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB;
            byte[] jpg = jpeg(picture(37 + 31 * t, 23 + 17 * t, type, t));
            float[] ref = imageIo(jpg);
            float[] nat = nativeFull(jpg);
            worst = Math.max(worst, maxAbs(ref, nat));
            if (type == BufferedImage.TYPE_BYTE_GRAY) {
                for (int p = 0; p < nat.length; p += 3) {
                    assertTrue(nat[p] == nat[p + 1] && nat[p] == nat[p + 2], "gray repeated over the channels");
                }
            }
            Path f = tmp.resolve("p" + t + ".jpg");
            Files.write(f, jpg);
            for (Images.Interpolation mode : Images.Interpolation.values()) {
                float[] viaJava = withProperty("transferlab.nativeJpeg", "false", () -> Images.load(f, 19, 27, mode));
                assertArrayEquals(Images.resize(ref, 23 + 17 * t, 37 + 31 * t, 19, 27, mode), viaJava,
                        "TL_NATIVE_JPEG=0 keeps the ImageIO pixels");
                // the decoders compared, without the DCT-scaled decode (tested below)
                float[] viaNative = withProperty("transferlab.jpegDctScaling", "false", () -> Images.load(f, 19, 27, mode));
                assertArrayEquals(Images.load(f, 19, 27, mode), Images.load(jpg, f.toString(), 19, 27, mode),
                        "file and bytes agree");
                worst = Math.max(worst, maxAbs(viaJava, viaNative));
            }
        }
        System.out.println("native vs ImageIO on ImageIO-written JPEGs: max abs difference " + worst);
        assertTrue(worst <= 2, "max abs difference " + worst);
    }

    @Test
    void exifOrientationIsIgnoredAsOnTheImageIoPath() throws Exception {
        assumeNative();
        byte[] plain = jpeg(picture(40, 24, BufferedImage.TYPE_INT_RGB, 5));
        // APP1 Exif with one IFD entry: Orientation (0x0112) = 6 (rotate 90 degrees clockwise to display)
        byte[] tiff = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0};
        ByteArrayOutputStream app1 = new ByteArrayOutputStream();
        app1.write(new byte[]{'E', 'x', 'i', 'f', 0, 0});
        app1.write(tiff);
        int len = app1.size() + 2;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(plain, 0, 2);
        out.write(new byte[]{(byte) 0xFF, (byte) 0xE1, (byte) (len >> 8), (byte) len});
        out.write(app1.toByteArray());
        out.write(plain, 2, plain.length - 2);
        byte[] rotated = out.toByteArray();
        NativeJpeg.Decoded d = NativeJpeg.decode(rotated, "rotated.jpg", 1);
        assertEquals(24, d.height());
        assertEquals(40, d.width());
        assertTrue(maxAbs(imageIo(rotated), nativeFull(rotated)) <= 2);
    }

    @Test
    void dctScaledDecodeIsCloseToFullDecodeThenBoxFilter() throws Exception {
        assumeNative();
        byte[] jpg = jpeg(picture(200, 120, BufferedImage.TYPE_INT_RGB, 3));
        float[] full = nativeFull(jpg);
        for (int s : new int[]{2, 4, 8}) {
            NativeJpeg.Decoded d = NativeJpeg.decode(jpg, "t.jpg", s);
            assertEquals(120 / s, d.height());
            assertEquals(200 / s, d.width());
            float[] scaled = Images.resizeBgr(d.bgr(), d.height(), d.width(), d.height(), d.width(), Images.Interpolation.NEAREST);
            float[] box = box(full, 120, 200, s);
            double mean = meanAbs(box, scaled);
            System.out.printf("DCT 1/%d vs full decode + %dx%d box: mean abs %.2f, max abs %.0f%n", s, s, s, mean,
                    maxAbs(box, scaled));
            assertTrue(mean <= 3, "1/" + s + ": mean abs difference " + mean);
        }
    }

    /** Averages s x s blocks of an (h, w, 3) image (h and w multiples of s). */
    private static float[] box(float[] px, int h, int w, int s) {
        int bh = h / s, bw = w / s;
        float[] out = new float[bh * bw * 3];
        for (int y = 0; y < bh; y++) {
            for (int x = 0; x < bw; x++) {
                for (int c = 0; c < 3; c++) {
                    double sum = 0;
                    for (int dy = 0; dy < s; dy++) {
                        for (int dx = 0; dx < s; dx++) {
                            sum += px[((y * s + dy) * w + x * s + dx) * 3 + c];
                        }
                    }
                    out[(y * bw + x) * 3 + c] = (float) (sum / (s * s));
                }
            }
        }
        return out;
    }

    @Test
    void dctScalingIsUsedOnlyWhenOnAndChangesLittle() throws Exception {
        assumeNative();
        Path f = tmp.resolve("big.jpg");
        Files.write(f, jpeg(picture(300, 220, BufferedImage.TYPE_INT_RGB, 9)));
        float[] off = withProperty("transferlab.jpegDctScaling", "false", () -> Images.load(f, 100, 100, Images.Interpolation.BILINEAR));
        float[] on = Images.load(f, 100, 100, Images.Interpolation.BILINEAR);
        double mean = meanAbs(off, on);
        assertTrue(mean > 0, "the 1/2 decode was not used");
        assertTrue(mean <= 3, "mean abs difference " + mean);
    }

    // ------------------------------------------------------------------ refusals

    @Test
    void truncatedAndCorruptJpegsAreRefusedOnBothPaths() throws Exception {
        byte[] jpg = jpeg(picture(64, 48, BufferedImage.TYPE_INT_RGB, 2));
        byte[] cut = Arrays.copyOf(jpg, jpg.length / 2);
        // the frame header kept, everything after it random, the end-of-image marker kept: no scan libjpeg can find
        NativeJpeg.Header hd = NativeJpeg.header(jpg);
        assertNotNull(hd);
        int sof = indexOfSof(jpg);
        byte[] corrupt = jpg.clone();
        Random r = new Random(4);
        for (int i = sof + 19; i < corrupt.length - 2; i++) {
            corrupt[i] = (byte) r.nextInt(0xFF); // never FF: no marker at all after the frame header
        }
        Path cutFile = tmp.resolve("cut.jpg");
        Path badFile = tmp.resolve("bad.jpg");
        Files.write(cutFile, cut);
        Files.write(badFile, corrupt);
        for (String nativeOn : List.of("true", "false")) {
            withProperty("transferlab.nativeJpeg", nativeOn, () -> {
                var e1 = assertThrows(IOException.class, () -> Images.load(cutFile, 8, 8, Images.Interpolation.NEAREST));
                assertEquals("Image " + cutFile + " is truncated (the JPEG data ends without its end-of-image marker)",
                        e1.getMessage());
                var e2 = assertThrows(IOException.class, () -> Images.load(cut, "hdfs:///x/cut.jpg", 8, 8, Images.Interpolation.NEAREST));
                assertTrue(e2.getMessage().contains("hdfs:///x/cut.jpg is truncated"), e2.getMessage());
                var e3 = assertThrows(IOException.class, () -> Images.load(badFile, 8, 8, Images.Interpolation.NEAREST));
                // the structure walk sends it to ImageIO on both paths; the error names the file either way
                assertTrue(e3.getMessage().startsWith("Image " + badFile + " is truncated or corrupt ("), e3.getMessage());
                System.out.println("corrupt JPEG, native=" + nativeOn + ": " + e3.getMessage());
                return null;
            });
        }
    }

    private static int indexOfSof(byte[] b) {
        for (int i = 2; i + 1 < b.length; i++) {
            if ((b[i] & 0xff) == 0xFF && (b[i + 1] & 0xff) == 0xC0) {
                return i;
            }
        }
        throw new AssertionError("no SOF0");
    }

    // ------------------------------------------------------------------ real photos

    @Test
    void realPhotosDecodeAsImageIoDoes() throws Exception {
        assumeNative();
        String shared = System.getenv().getOrDefault("TL_SHARED", "/work/shared");
        Path dir = Path.of(shared, "data/cats_and_dogs_filtered/validation/cats");
        Assumptions.assumeTrue(Files.isDirectory(dir), "skipped: " + dir + " absent (set TL_SHARED to the shared data)");
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(40).toList();
        }
        assertEquals(40, files.size());
        double worstFull = 0, worstResized = 0;
        double[] dctMean = new double[2], dctMax = new double[2];
        int scaled = 0;
        for (Path f : files) {
            byte[] jpg = Files.readAllBytes(f);
            worstFull = Math.max(worstFull, maxAbs(imageIo(jpg), nativeFull(jpg)));
            NativeJpeg.Header hd = NativeJpeg.header(jpg);
            scaled += NativeJpeg.reduction(hd.height(), hd.width(), 150, 150, true) > 1 ? 1 : 0;
            for (Images.Interpolation mode : Images.Interpolation.values()) {
                float[] java = withProperty("transferlab.nativeJpeg", "false", () -> Images.load(f, 224, 224, mode));
                float[] nat = withProperty("transferlab.jpegDctScaling", "false", () -> Images.load(f, 224, 224, mode));
                worstResized = Math.max(worstResized, maxAbs(java, nat));
                float[] full = withProperty("transferlab.jpegDctScaling", "false", () -> Images.load(f, 150, 150, mode));
                float[] dct = Images.load(f, 150, 150, mode);
                dctMean[mode.ordinal()] = Math.max(dctMean[mode.ordinal()], meanAbs(full, dct));
                dctMax[mode.ordinal()] = Math.max(dctMax[mode.ordinal()], maxAbs(full, dct));
            }
        }
        System.out.printf("40 real photos: native vs ImageIO max abs %.0f (full size), %.0f (224x224, no DCT scaling); "
                + "150x150 with vs without DCT scaling (%d photos scaled 1/2): nearest mean abs <= %.2f (max %.0f), "
                + "bilinear mean abs <= %.2f (max %.0f)%n", worstFull, worstResized, scaled, dctMean[0], dctMax[0],
                dctMean[1], dctMax[1]);
        assertTrue(worstFull <= 2, "full-size max abs difference " + worstFull);
        assertTrue(worstResized <= 2, "224x224 max abs difference " + worstResized);
        assertTrue(scaled >= 20, "most photos (300 pixels or more on each side) decode at 1/2 for 150x150: " + scaled);
        // nearest picks one pixel where the 1/2 decode averages four: on fur and grass that differs a lot, on
        // average by a few levels; bilinear is closer
        assertTrue(dctMean[0] <= 12, "nearest: mean abs difference " + dctMean[0]);
        assertTrue(dctMean[1] <= 9, "bilinear: mean abs difference " + dctMean[1]);
    }
}
