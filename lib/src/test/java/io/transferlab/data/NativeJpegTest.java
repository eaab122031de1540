package io.transferlab.data;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.w3c.dom.NodeList;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.ArrayList;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The native JPEG path (libjpeg-turbo) against the ImageIO path it replaces, TurboJPEG's decode against OpenCV's
 * (bit for bit), the DCT-scaled decode against a full decode followed by a box filter, and the table-driven resize
 * against the per-pixel loop it replaced.
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

    // ------------------------------------------------------------------ TurboJPEG against OpenCV

    private static void assumeTurbo() {
        assumeNative();
        Assumptions.assumeTrue(TurboJpeg.available(), "skipped: libturbojpeg not installed (apt-get install "
                + "libturbojpeg0, or conda install libjpeg-turbo), so the TurboJPEG decoder cannot be tested");
    }

    /** OpenCV's decode: NativeJpeg with TurboJPEG switched off. */
    private static NativeJpeg.Decoded openCv(byte[] jpg, int reduction) throws Exception {
        return withProperty("transferlab.turboJpeg", "false", () -> NativeJpeg.decode(jpg, "test.jpg", reduction));
    }

    /**
     * A JPEG from ImageIO's writer with chosen luma sampling factors (chroma 1x1: h=2, v=2 is 4:2:0, h=2, v=1 4:2:2,
     * h=1, v=2 4:4:0, h=1, v=1 4:4:4; ignored for gray), optionally progressive.
     */
    private static byte[] jpeg(BufferedImage img, int hSamp, int vSamp, boolean progressive, float quality)
            throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality);
            if (progressive) {
                param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            IIOMetadata meta = writer.getDefaultImageMetadata(new ImageTypeSpecifier(img), param);
            String format = "javax_imageio_jpeg_image_1.0";
            IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(format);
            NodeList comps = root.getElementsByTagName("componentSpec");
            for (int c = 0; c < comps.getLength(); c++) {
                IIOMetadataNode n = (IIOMetadataNode) comps.item(c);
                n.setAttribute("HsamplingFactor", String.valueOf(c == 0 ? hSamp : 1));
                n.setAttribute("VsamplingFactor", String.valueOf(c == 0 ? vSamp : 1));
            }
            meta.setFromTree(format, root);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
                writer.setOutput(ios);
                writer.write(null, new IIOImage(img, null, meta), param);
            }
            return out.toByteArray();
        } finally {
            writer.dispose();
        }
    }

    /** The frame header's marker (0xC0 baseline, 0xC2 progressive) and its components' HxV sampling factors. */
    private static String frame(byte[] b) {
        for (int i = 2; i + 1 < b.length; i++) {
            int m = b[i + 1] & 0xff;
            if ((b[i] & 0xff) == 0xFF && (m == 0xC0 || m == 0xC1 || m == 0xC2)) {
                StringBuilder sb = new StringBuilder(Integer.toHexString(m));
                for (int c = 0; c < (b[i + 9] & 0xff); c++) {
                    int f = b[i + 11 + 3 * c] & 0xff;
                    sb.append(' ').append(f >> 4).append('x').append(f & 15);
                }
                return sb.toString();
            }
        }
        throw new AssertionError("no frame header");
    }

    /**
     * TurboJPEG's pixels against OpenCV's at every reduction; returns how many of the four TurboJPEG declined
     * (sizes at which it would pick a larger scaling factor giving the same output size: tiny images only).
     */
    private static int assertTurboEqualsOpenCv(byte[] jpg, String what) throws Exception {
        int declined = 0;
        for (int r : new int[]{1, 2, 4, 8}) {
            NativeJpeg.Decoded turbo = TurboJpeg.decode(jpg, r);
            if (turbo == null) {
                String why = TurboJpeg.lastError();
                assertTrue(why != null && why.startsWith("TurboJPEG would not decode"), what + " 1/" + r + ": " + why);
                declined++;
                continue;
            }
            NativeJpeg.Decoded cv = openCv(jpg, r);
            assertEquals(cv.height(), turbo.height(), what + " 1/" + r + " height");
            assertEquals(cv.width(), turbo.width(), what + " 1/" + r + " width");
            assertArrayEquals(cv.bgr(), turbo.bgr(), what + " 1/" + r + ": pixels differ");
            assertArrayEquals(cv.bgr(), NativeJpeg.decode(jpg, "test.jpg", r).bgr(), what + " 1/" + r);
        }
        return declined;
    }

    @Test
    void turboJpegEqualsOpenCvOnGeneratedJpegs() throws Exception {
        assumeTurbo();
        int[][] sizes = {{1, 1}, {7, 5}, {16, 16}, {33, 17}, {101, 67}, {250, 199}, {17, 300}, {640, 481}};
        // luma sampling h x v, progressive
        int[][] kinds = {{2, 2, 0}, {2, 1, 0}, {1, 2, 0}, {1, 1, 0}, {2, 2, 1}, {1, 1, 1}};
        int images = 0, declined = 0;
        java.util.Set<String> frames = new java.util.TreeSet<>();
        for (int[] size : sizes) {
            int w = size[0], h = size[1];
            List<byte[]> jpegs = new java.util.ArrayList<>();
            for (int[] k : kinds) {
                jpegs.add(jpeg(picture(w, h, BufferedImage.TYPE_INT_RGB, w + 7L * h), k[0], k[1], k[2] == 1, 0.9f));
            }
            for (boolean progressive : new boolean[]{false, true}) {
                jpegs.add(jpeg(picture(w, h, BufferedImage.TYPE_BYTE_GRAY, w), 1, 1, progressive, 0.75f));
            }
            for (byte[] jpg : jpegs) {
                String f = frame(jpg);
                frames.add(f);
                int d = assertTurboEqualsOpenCv(jpg, w + "x" + h + " " + f);
                assertTrue(d == 0 || w == 1, "TurboJPEG declined a " + w + "x" + h + " JPEG");
                declined += d;
                images++;
            }
        }
        System.out.println("TurboJPEG = OpenCV on " + images + " generated JPEGs x 4 reductions (" + declined
                + " decodes of the 1x1 images left to OpenCV); frames: " + frames);
        assertTrue(frames.containsAll(List.of("c0 2x2 1x1 1x1", "c0 2x1 1x1 1x1", "c0 1x2 1x1 1x1", "c0 1x1 1x1 1x1",
                "c2 2x2 1x1 1x1", "c2 1x1 1x1 1x1", "c0 1x1", "c2 1x1")), "the writer made other JPEGs: " + frames);
        // a 1x1 image at 1/2, 1/4, 1/8: TurboJPEG would take 1/1 (also 1x1 pixel, but not the same value)
        assertEquals(3 * (kinds.length + 2), declined, "declined decodes");
    }

    @Test
    void turboJpegEqualsOpenCvOnRealPhotos() throws Exception {
        assumeTurbo();
        List<Path> files = realPhotos(30);
        for (Path f : files) {
            assertEquals(0, assertTurboEqualsOpenCv(Files.readAllBytes(f), f.toString()));
        }
        System.out.println("TurboJPEG = OpenCV, bit for bit, on " + files.size() + " real photos at 1/1, 1/2, 1/4, 1/8");
    }

    @Test
    void turboJpegDecodesOnSeveralThreadsAtOnce() throws Exception {
        assumeTurbo();
        List<Path> files = realPhotos(10);
        List<byte[]> jpgs = new ArrayList<>();
        List<byte[]> expected = new ArrayList<>();
        for (Path f : files) {
            byte[] jpg = Files.readAllBytes(f);
            jpgs.add(jpg);
            expected.add(openCv(jpg, 2).bgr());
        }
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int start = t;
                done.add(pool.submit(() -> {
                    for (int round = 0; round < 4; round++) {
                        for (int i = 0; i < jpgs.size(); i++) {
                            int j = (i + start) % jpgs.size();
                            NativeJpeg.Decoded d = TurboJpeg.decode(jpgs.get(j), 2);
                            assertNotNull(d, TurboJpeg.lastError());
                            assertArrayEquals(expected.get(j), d.bgr(), files.get(j).toString());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void turboJpegIsSwitchedOffByTheProperty() throws Exception {
        assumeTurbo();
        assertTrue(NativeJpeg.turboJpeg());
        assertFalse(withProperty("transferlab.turboJpeg", "false", NativeJpeg::turboJpeg));
        assertFalse(withProperty("transferlab.turboJpeg", "0", NativeJpeg::turboJpeg));
        assertEquals(NativeJpeg.mode(), withProperty("transferlab.turboJpeg", "false", NativeJpeg::mode),
                "same pixels, so the same fingerprint for feature caches");
    }

    @Test
    void corruptDataTurboJpegWarnsAboutIsLeftToOpenCv() throws Exception {
        assumeTurbo();
        byte[] jpg = jpeg(picture(120, 80, BufferedImage.TYPE_INT_RGB, 6));
        // entropy data cut in the middle, the end-of-image marker kept: sound to the structure walk, but libjpeg
        // warns ("premature end of data segment") and fills the rest gray
        int sos = indexOf(jpg, 0xDA);
        int data = sos + 2 + (((jpg[sos + 2] & 0xff) << 8) | (jpg[sos + 3] & 0xff));
        int cutAt = data + (jpg.length - data) / 3;
        byte[] cut = Arrays.copyOf(jpg, cutAt + 2);
        cut[cutAt] = (byte) 0xFF;
        cut[cutAt + 1] = (byte) 0xD9;
        assertNull(JpegStructure.problem(cut), "the structure walk cannot see this damage");
        assertNull(TurboJpeg.decode(cut, 1), "TurboJPEG's result is not used after a warning");
        assertTrue(TurboJpeg.lastError().contains("warned"), TurboJpeg.lastError());
        System.out.println("entropy data cut short: " + TurboJpeg.lastError());
        // OpenCV decodes it as before (prints libjpeg's warning), with TurboJPEG on or off
        NativeJpeg.Decoded cv = openCv(cut, 1);
        assertArrayEquals(cv.bgr(), NativeJpeg.decode(cut, "cut.jpg", 1).bgr());
        Path f = tmp.resolve("cut-entropy.jpg");
        Files.write(f, cut);
        float[] off = withProperty("transferlab.turboJpeg", "false", () -> Images.load(f, 40, 60, Images.Interpolation.BILINEAR));
        assertArrayEquals(off, Images.load(f, 40, 60, Images.Interpolation.BILINEAR));

        // entropy data overwritten with random bytes (no markers): decoded as noise, with or without a warning from
        // libjpeg, the same with TurboJPEG on or off
        byte[] noise = jpg.clone();
        Random r = new Random(8);
        for (int i = data + (jpg.length - data) / 2; i < jpg.length - 2; i++) {
            noise[i] = (byte) r.nextInt(0xFF);
        }
        NativeJpeg.Decoded t = TurboJpeg.decode(noise, 2);
        System.out.println("entropy data half random: " + (t == null ? TurboJpeg.lastError() : "decoded"));
        assertArrayEquals(openCv(noise, 2).bgr(), NativeJpeg.decode(noise, "noise.jpg", 2).bgr());

        // no quantization table: a fatal error for libjpeg, refused with the same message with TurboJPEG on or off
        // (a TurboJPEG handle reused from the decodes above would still hold their tables and decode it)
        int dqt = indexOf(jpg, 0xDB);
        int len = ((jpg[dqt + 2] & 0xff) << 8) | (jpg[dqt + 3] & 0xff);
        byte[] noDqt = new byte[jpg.length - 2 - len];
        System.arraycopy(jpg, 0, noDqt, 0, dqt);
        System.arraycopy(jpg, dqt + 2 + len, noDqt, dqt, jpg.length - dqt - 2 - len);
        while (indexOf(noDqt, 0xDB) >= 0) { // the writer may give each table its own segment
            int d = indexOf(noDqt, 0xDB);
            int l = ((noDqt[d + 2] & 0xff) << 8) | (noDqt[d + 3] & 0xff);
            byte[] shorter = new byte[noDqt.length - 2 - l];
            System.arraycopy(noDqt, 0, shorter, 0, d);
            System.arraycopy(noDqt, d + 2 + l, shorter, d, noDqt.length - d - 2 - l);
            noDqt = shorter;
        }
        assertNull(TurboJpeg.decode(noDqt, 1));
        assertTrue(TurboJpeg.lastError().contains("failed"), TurboJpeg.lastError());
        System.out.println("no quantization table: " + TurboJpeg.lastError());
        byte[] finalNoDqt = noDqt;
        var on = assertThrows(IOException.class, () -> NativeJpeg.decode(finalNoDqt, "nodqt.jpg", 1));
        var off2 = assertThrows(IOException.class, () -> withProperty("transferlab.turboJpeg", "false",
                () -> NativeJpeg.decode(finalNoDqt, "nodqt.jpg", 1)));
        assertEquals(off2.getMessage(), on.getMessage());

        // TurboJPEG still decodes sound images on this thread afterwards
        assertNotNull(TurboJpeg.decode(jpg, 1), TurboJpeg.lastError());
        assertNull(TurboJpeg.lastError());
    }

    /** The first marker 0xFF m at or after the start-of-image marker; -1 when none. */
    private static int indexOf(byte[] b, int m) {
        for (int i = 2; i + 1 < b.length; i++) {
            if ((b[i] & 0xff) == 0xFF && (b[i + 1] & 0xff) == m) {
                return i;
            }
        }
        return -1;
    }

    /** The first n (sorted) cats and n dogs of the shared validation set; skips the test when it is absent. */
    private static List<Path> realPhotos(int n) throws IOException {
        String shared = System.getenv().getOrDefault("TL_SHARED", "/work/shared");
        List<Path> files = new ArrayList<>();
        for (String kind : List.of("cats", "dogs")) {
            Path dir = Path.of(shared, "data/cats_and_dogs_filtered/validation", kind);
            Assumptions.assumeTrue(Files.isDirectory(dir), "skipped: " + dir + " absent (set TL_SHARED to the shared data)");
            try (var s = Files.list(dir)) {
                files.addAll(s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(n).toList());
            }
        }
        assertEquals(2 * n, files.size());
        return files;
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
