package io.transferlab.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Decoding a file's bytes (as Spark's binaryFile source hands them over) gives exactly what decoding the file does. */
class ImagesBytesTest {
    @TempDir
    Path tmp;

    private Path write(String format, int type) throws IOException {
        BufferedImage img = new BufferedImage(37, 23, type);
        Random r = new Random(7);
        for (int y = 0; y < 23; y++) {
            for (int x = 0; x < 37; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        Path f = tmp.resolve("img." + format);
        assertTrue(ImageIO.write(img, format, f.toFile()));
        return f;
    }

    @Test
    void bytesDecodeAsTheFileDoes() throws IOException {
        for (Path f : new Path[]{write("png", BufferedImage.TYPE_INT_RGB), write("jpg", BufferedImage.TYPE_INT_RGB),
                write("bmp", BufferedImage.TYPE_BYTE_GRAY)}) {
            for (Images.Interpolation mode : Images.Interpolation.values()) {
                float[] fromFile = Images.load(f, 16, 20, mode);
                float[] fromBytes = Images.load(Files.readAllBytes(f), f.toString(), 16, 20, mode);
                assertArrayEquals(fromFile, fromBytes, f + " " + mode);
            }
        }
    }

    @Test
    void truncatedEmptyAndNonImageBytesAreRefusedNamingTheFile() throws IOException {
        byte[] jpeg = Files.readAllBytes(write("jpg", BufferedImage.TYPE_INT_RGB));
        var cut = assertThrows(IOException.class,
                () -> Images.load(Arrays.copyOf(jpeg, jpeg.length / 2), "hdfs:///x/cut.jpg", 8, 8, Images.Interpolation.NEAREST));
        assertTrue(cut.getMessage().contains("hdfs:///x/cut.jpg is truncated"), cut.getMessage());
        var empty = assertThrows(IOException.class, () -> Images.read(new byte[0], "empty.png"));
        assertTrue(empty.getMessage().contains("empty.png is empty"), empty.getMessage());
        var text = assertThrows(IOException.class, () -> Images.read("hello".getBytes(), "notes.png"));
        assertTrue(text.getMessage().contains("Not an image") && text.getMessage().contains("notes.png"), text.getMessage());
    }
}
