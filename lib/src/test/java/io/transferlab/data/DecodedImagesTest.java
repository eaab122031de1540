package io.transferlab.data;

import io.transferlab.testutil.TestFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Decoded images kept between epochs give exactly what decoding gives (nearest-neighbour results, whole numbers),
 * bilinear results are never kept, a file replaced in place is decoded again, and capacity 0 keeps nothing.
 */
class DecodedImagesTest {
    @TempDir
    Path tmp;

    @BeforeEach
    @AfterEach
    void reset() {
        System.clearProperty("transferlab.imageCacheMb");
        DecodedImages.clear();
    }

    private static byte[] jpeg(int w, int h, long seed) {
        return TestFiles.randomImage("jpg", w, h, seed);
    }

    private static byte[] bmp(int w, int h, long seed) {
        return TestFiles.randomImage("bmp", w, h, seed);
    }

    @Test
    void aCachedImageIsBitForBitTheDecodedOne() throws IOException {
        Path f = tmp.resolve("a.jpg");
        Files.write(f, jpeg(97, 61, 1));
        float[] fresh = Images.load(f, 40, 30, Images.Interpolation.NEAREST);
        float[] first = DecodedImages.load(f, 40, 30, Images.Interpolation.NEAREST);
        long held = DecodedImages.bytesHeld();
        assertEquals(40 * 30 * 3, held, "one byte per value");
        float[] second = DecodedImages.load(f, 40, 30, Images.Interpolation.NEAREST);
        assertEquals(held, DecodedImages.bytesHeld(), "served, not added again");
        assertArrayEquals(fresh, first);
        assertArrayEquals(fresh, second);
        second[0] = -1;   // callers preprocess in place: each call gets its own array
        assertArrayEquals(fresh, DecodedImages.load(f, 40, 30, Images.Interpolation.NEAREST));
        // another size is another entry
        assertArrayEquals(Images.load(f, 20, 20, Images.Interpolation.NEAREST),
                DecodedImages.load(f, 20, 20, Images.Interpolation.NEAREST));
        assertEquals(held + 20 * 20 * 3, DecodedImages.bytesHeld());
    }

    @Test
    void bilinearResultsAreNotKept() throws IOException {
        Path f = tmp.resolve("b.jpg");
        Files.write(f, jpeg(97, 61, 2));
        float[] fresh = Images.load(f, 40, 30, Images.Interpolation.BILINEAR);
        boolean fractional = false;
        for (float v : fresh) {
            fractional |= v != Math.rint(v);
        }
        assertTrue(fractional, "the test needs fractional values");
        assertArrayEquals(fresh, DecodedImages.load(f, 40, 30, Images.Interpolation.BILINEAR));
        assertEquals(0, DecodedImages.bytesHeld());
    }

    @Test
    void aFileReplacedInPlaceIsDecodedAgain() throws IOException {
        Path f = tmp.resolve("c.bmp");
        Files.write(f, bmp(64, 48, 3));
        float[] before = DecodedImages.load(f, 32, 32, Images.Interpolation.NEAREST);
        // another image of the same length (BMPs of one size are) and modification time moved into its place
        FileTime mtime = Files.getLastModifiedTime(f);
        byte[] other = bmp(64, 48, 4);
        assertEquals(Files.size(f), other.length);
        Path replacement = tmp.resolve("r.bmp");
        Files.write(replacement, other);
        Files.setLastModifiedTime(replacement, mtime);
        Files.move(replacement, f, StandardCopyOption.REPLACE_EXISTING);
        float[] after = DecodedImages.load(f, 32, 32, Images.Interpolation.NEAREST);
        assertArrayEquals(Images.load(f, 32, 32, Images.Interpolation.NEAREST), after);
        assertFalse(java.util.Arrays.equals(before, after), "the new image, not the cached one");
    }

    @Test
    void capacityZeroKeepsNothingAndAFullCacheTakesNoMore() throws IOException {
        Path f = tmp.resolve("d.jpg");
        Files.write(f, jpeg(64, 48, 5));
        System.setProperty("transferlab.imageCacheMb", "0");
        DecodedImages.load(f, 32, 32, Images.Interpolation.NEAREST);
        assertEquals(0, DecodedImages.bytesHeld());
        System.setProperty("transferlab.imageCacheMb", "1");   // 1 MB: one 500x500 image (750 KB), not two
        DecodedImages.load(f, 500, 500, Images.Interpolation.NEAREST);
        DecodedImages.load(f, 499, 500, Images.Interpolation.NEAREST);
        assertEquals(500 * 500 * 3, DecodedImages.bytesHeld());
    }

    @Test
    void epochsOfAnImageFolderGiveTheSameBatches() throws IOException {
        for (String c : List.of("cats", "dogs")) {
            Path dir = Files.createDirectories(tmp.resolve("data").resolve(c));
            for (int i = 0; i < 5; i++) {
                Files.write(dir.resolve(c + i + ".jpg"), jpeg(90, 70, c.hashCode() + i));
            }
        }
        ImageFolder images = ImageFolder.at(tmp.resolve("data")).targetSize(48, 48).batchSize(4)
                .classMode(ClassMode.BINARY).preprocessing(Preprocessing.RESCALE).shuffle(false).build();
        List<float[]> first = new ArrayList<>();
        images.forEach(b -> first.add(b.x().dup().data().asFloat()));
        assertEquals(10L * 48 * 48 * 3, DecodedImages.bytesHeld());
        List<float[]> second = new ArrayList<>();
        images.forEach(b -> second.add(b.x().dup().data().asFloat()));
        assertEquals(first.size(), second.size());
        for (int i = 0; i < first.size(); i++) {
            assertArrayEquals(first.get(i), second.get(i), "batch " + i);
        }
    }
}
