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
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The structural walk that routes damaged JPEGs away from the native decoder (which cannot report libjpeg's
 * warnings) to ImageIO, which refuses them: sound files pass (every real photo of the shared data set), each kind of
 * damage is named, and a damaged file is refused by Images.load whichever decoder is switched on.
 */
class JpegStructureTest {

    private static byte[] jpeg(int w, int h, long seed) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (x * 3 + y + r.nextInt(40)) << 16 | (y * 2) << 8 | r.nextInt(256));
            }
        }
        var out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    /** Offset of the first byte of entropy data (after the SOS segment). */
    private static int scanStart(byte[] b) {
        for (int i = 2; i + 3 < b.length; i++) {
            if ((b[i] & 0xff) == 0xFF && (b[i + 1] & 0xff) == 0xDA) {
                return i + 2 + (((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff));
            }
        }
        throw new AssertionError("no SOS");
    }

    private static byte[] insert(byte[] b, int at, byte... extra) {
        byte[] out = new byte[b.length + extra.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(b, at, out, at + extra.length, b.length - at);
        return out;
    }

    @Test
    void soundJpegsPass() throws IOException {
        assertNull(JpegStructure.problem(jpeg(64, 48, 1)));
        assertNull(JpegStructure.problem(jpeg(7, 300, 2)));
        // padding after the end-of-image marker is tolerated, as libjpeg tolerates it
        assertNull(JpegStructure.problem(insert(jpeg(16, 16, 3), jpeg(16, 16, 3).length, (byte) 0, (byte) 0)));
    }

    @Test
    void everyRealPhotoPasses() throws IOException {
        String shared = System.getenv("TL_SHARED");
        Path root = shared == null ? null : Path.of(shared, "data", "cats_and_dogs_filtered");
        Assumptions.assumeTrue(root != null && Files.isDirectory(root), "TL_SHARED's cats_and_dogs_filtered is absent");
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(Images::hasImageExtension).toList();
        }
        int damaged = 0;
        for (Path f : files) {
            String why = JpegStructure.problem(Files.readAllBytes(f));
            if (why != null) {
                damaged++;
                System.out.println(f + ": " + why);
            }
        }
        System.out.println(files.size() + " photos walked, " + damaged + " found damaged");
        assertTrue(files.size() >= 3000, "expected the 3,000 photos, found " + files.size());
        assertEquals(0, damaged, "sound photos would leave the native decoder");
    }

    @Test
    void damageIsFoundAndNamed() throws IOException {
        byte[] ok = jpeg(64, 48, 4);
        int s = scanStart(ok);
        String marker = JpegStructure.problem(insert(ok, s + 10, (byte) 0xFF, (byte) 0x55));
        assertNotNull(marker);
        assertTrue(marker.contains("marker 0x55 inside the scan"), marker);
        String rst = JpegStructure.problem(insert(ok, s + 10, (byte) 0xFF, (byte) 0xD3));
        assertTrue(rst != null && rst.contains("restart marker 0xd3 where 0xd0 was due"), rst);
        // stray bytes between two segments before the scan: libjpeg's "extraneous bytes before marker"
        String stray = JpegStructure.problem(insert(ok, 2, (byte) 0x12, (byte) 0x34));
        assertTrue(stray != null && stray.contains("bytes outside any segment at offset 2"), stray);
        String after = JpegStructure.problem(insert(ok, ok.length, (byte) 0x42, (byte) 0x42, (byte) 0x42));
        assertTrue(after != null && after.contains("3 byte(s) after the end-of-image marker"), after);
        byte[] cut = java.util.Arrays.copyOf(ok, s + 40);
        String end = JpegStructure.problem(cut);
        assertTrue(end != null && end.contains("runs to the end of the file"), end);
        byte[] empty = insert(java.util.Arrays.copyOf(ok, s), s, (byte) 0xFF, (byte) 0xD9);
        String none = JpegStructure.problem(empty);
        assertTrue(none != null && none.contains("empty scan"), none);
    }

    @Test
    void aDamagedJpegIsRefusedOnEveryPath(@TempDir Path dir) throws IOException {
        byte[] ok = jpeg(64, 48, 5);
        int s = scanStart(ok);
        Path bad = dir.resolve("bad.jpg");
        Files.write(bad, insert(ok, s + 12, (byte) 0xFF, (byte) 0x55));
        for (String nativeOn : new String[]{"true", "false"}) {
            System.setProperty("transferlab.nativeJpeg", nativeOn);
            try {
                IOException e = assertThrows(IOException.class, () -> Images.load(bad, 32, 32, Images.Interpolation.NEAREST),
                        "native " + nativeOn);
                assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("corrupt"), e.getMessage());
            } finally {
                System.clearProperty("transferlab.nativeJpeg");
            }
        }
        Path good = dir.resolve("good.jpg");
        Files.write(good, ok);
        assertEquals(32 * 32 * 3, Images.load(good, 32, 32, Images.Interpolation.NEAREST).length);
    }
}
