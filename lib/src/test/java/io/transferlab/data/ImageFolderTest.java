package io.transferlab.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ImageFolderTest {
    @TempDir
    Path tmp;

    private static void write(BufferedImage img, String fmt, Path file) throws Exception {
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, fmt, file.toFile()), "no writer for " + fmt);
    }

    private static BufferedImage solid(int type, int w, int h, int argb) {
        BufferedImage img = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, argb);
            }
        }
        return img;
    }

    private Path mixedFolder() throws Exception {
        Path root = tmp.resolve("mixed");
        write(solid(BufferedImage.TYPE_INT_RGB, 20, 10, 0xff102030), "jpg", root.resolve("b_dogs/a.jpg"));
        write(solid(BufferedImage.TYPE_INT_ARGB, 12, 12, 0x80ff0000), "png", root.resolve("b_dogs/alpha.png"));
        BufferedImage gray = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 200);
        write(gray, "png", root.resolve("a_cats/gray.png"));
        write(solid(BufferedImage.TYPE_INT_RGB, 9, 9, 0xff00ff00), "bmp", root.resolve("a_cats/green.bmp"));
        byte[] junk = new byte[500];
        new Random(1).nextBytes(junk);
        Files.write(root.resolve("a_cats/corrupt.jpg"), junk);
        Files.writeString(root.resolve("a_cats/notes.txt"), "not an image");
        return root;
    }

    @Test
    void readsFormatsAsRgbAndSkipsNonImagesWithAWarning() throws Exception {
        Path root = mixedFolder();
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err));
        ImageFolder f;
        try {
            f = ImageFolder.at(root).targetSize(8, 8).batchSize(10).classMode(ClassMode.BINARY).shuffle(false).build();
        } finally {
            System.setErr(old);
        }
        assertEquals(List.of("a_cats", "b_dogs"), f.classes());
        assertEquals(4, f.size());
        assertEquals(2, f.skippedFiles().size());
        String warning = err.toString();
        assertTrue(warning.contains("skipped 2 file(s)") && warning.contains("corrupt.jpg") && warning.contains("notes.txt"), warning);

        Batch b = f.iterator().next();
        assertArrayEquals(new long[]{4, 8, 8, 3}, b.x().shape());
        assertArrayEquals(new float[]{0, 0, 1, 1}, b.y().reshape(4).toFloatVector());
        // files in name order: a_cats/gray.png, a_cats/green.bmp, b_dogs/a.jpg, b_dogs/alpha.png
        assertEquals(200, b.x().getDouble(0, 0, 0, 0), 1e-6);       // gray sample value kept, all channels
        assertEquals(200, b.x().getDouble(0, 0, 0, 2), 1e-6);
        assertEquals(255, b.x().getDouble(1, 3, 3, 1), 1e-6);       // bmp green
        assertEquals(255, b.x().getDouble(3, 3, 3, 0), 1e-6);       // alpha dropped: colour kept, as PIL's convert("RGB")
        assertEquals(0, b.x().getDouble(3, 3, 3, 1), 1e-6);
    }

    @Test
    void categoricalLabelsPreprocessingAndSeededShuffle() throws Exception {
        Path root = SampleImages.generate(tmp.resolve("s"), 6, 2, 2, 32, 3).resolve("train");
        ImageFolder f = ImageFolder.at(root).targetSize(16, 16).batchSize(5).classMode(ClassMode.CATEGORICAL)
                .preprocessing(Preprocessing.TF).seed(4).build();
        assertEquals(12, f.size());
        assertEquals(3, f.numBatches());
        List<Integer> sizes = new ArrayList<>();
        List<java.nio.file.Path> epoch1 = new ArrayList<>();
        for (Batch b : f) {
            sizes.add(b.size());
            epoch1.addAll(b.files());
            assertEquals(2, b.y().size(1));
            assertTrue(b.x().minNumber().doubleValue() >= -1 && b.x().maxNumber().doubleValue() <= 1);
            for (int i = 0; i < b.size(); i++) {
                String cls = b.files().get(i).getParent().getFileName().toString();
                assertEquals(cls.equals("circles") ? 1.0 : 0.0, b.y().getDouble(i, 0));
            }
        }
        assertEquals(List.of(5, 5, 2), sizes);
        List<java.nio.file.Path> epoch2 = new ArrayList<>();
        f.forEach(b -> epoch2.addAll(b.files()));
        assertNotEquals(epoch1, epoch2, "each epoch is reshuffled");
        ImageFolder again = ImageFolder.at(root).targetSize(16, 16).batchSize(5).seed(4).build();
        List<java.nio.file.Path> same = new ArrayList<>();
        again.forEach(b -> same.addAll(b.files()));
        assertEquals(epoch1, same, "same seed, same order");
    }

    @Test
    void clearErrorsForBadFolders() throws Exception {
        var e1 = assertThrows(IllegalArgumentException.class, () -> ImageFolder.at(tmp.resolve("nope")).build());
        assertTrue(e1.getMessage().contains("Image folder not found"), e1.getMessage());
        Files.createDirectories(tmp.resolve("flat"));
        Files.writeString(tmp.resolve("flat/x.jpg"), "x");
        var e2 = assertThrows(IllegalArgumentException.class, () -> ImageFolder.at(tmp.resolve("flat")).build());
        assertTrue(e2.getMessage().contains("No class folders"), e2.getMessage());
        Files.createDirectories(tmp.resolve("emptyclass/a"));
        Files.createDirectories(tmp.resolve("emptyclass/b"));
        write(solid(BufferedImage.TYPE_INT_RGB, 4, 4, 0xffffffff), "png", tmp.resolve("emptyclass/a/1.png"));
        var e3 = assertThrows(IllegalArgumentException.class, () -> ImageFolder.at(tmp.resolve("emptyclass")).build());
        assertTrue(e3.getMessage().contains("emptyclass/b has no readable images"), e3.getMessage());
        Path three = tmp.resolve("three");
        for (String c : List.of("a", "b", "c")) {
            write(solid(BufferedImage.TYPE_INT_RGB, 4, 4, 0xffffffff), "png", three.resolve(c + "/1.png"));
        }
        var e4 = assertThrows(IllegalArgumentException.class,
                () -> ImageFolder.at(three).classMode(ClassMode.BINARY).build());
        assertTrue(e4.getMessage().contains("needs exactly 2 classes"), e4.getMessage());
        Path two = tmp.resolve("two");
        for (String c : List.of("a", "b")) {
            write(solid(BufferedImage.TYPE_INT_RGB, 4, 4, 0xffffffff), "png", two.resolve(c + "/1.png"));
        }
        var e5 = assertThrows(IllegalArgumentException.class,
                () -> ImageFolder.at(two).build().requireSameClasses(ImageFolder.at(three).build()));
        assertTrue(e5.getMessage().contains("Class folders differ"), e5.getMessage());
    }

    @Test
    void fileThatBreaksAfterScanIsSkippedFromItsBatch() throws Exception {
        Path root = SampleImages.generate(tmp.resolve("s2"), 3, 1, 1, 32, 5).resolve("train");
        ImageFolder f = ImageFolder.at(root).targetSize(16, 16).batchSize(10).shuffle(false).build();
        Path victim = f.files().get(1);
        byte[] bytes = Files.readAllBytes(victim);
        Files.write(victim, java.util.Arrays.copyOf(bytes, 40));     // header kept, data cut off
        PrintStream old = System.err;
        System.setErr(new PrintStream(new ByteArrayOutputStream()));
        Batch b;
        try {
            b = f.iterator().next();
        } finally {
            System.setErr(old);
        }
        assertTrue(b.size() == 6 || (b.size() == 5 && f.failedFiles().contains(victim)),
                "either decoded partially or skipped with a warning, never a crash");
    }

    @Test
    void flipMirrorsAndRotationZoomKeepTheCentre() {
        int h = 5, w = 4;
        float[] px = new float[h * w * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = i;
        }
        Augmentation flip = Augmentation.create().flipHorizontal();
        Random rng = new Random(0);
        float[] out = null;
        for (int t = 0; t < 10 && out == null; t++) {
            float[] o = flip.apply(px, h, w, rng);
            if (o != px) {
                out = o;
            }
        }
        assertNotNull(out);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(px[(y * w + (w - 1 - x)) * 3 + c], out[(y * w + x) * 3 + c], 1e-4);
                }
            }
        }
        int n = 9;
        float[] sq = new float[n * n * 3];
        sq[(4 * n + 4) * 3] = 100;
        float[] turned = Augmentation.create().rotation(0.1).zoom(0.2).apply(sq, n, n, new Random(3));
        assertEquals(100, turned[(4 * n + 4) * 3], 1e-3, "the centre stays the centre");
        assertThrows(IllegalArgumentException.class, () -> Augmentation.create().rotation(2));
    }

    @Test
    void validationSplitGivesDisjointSubsetsCoveringEveryImage() throws Exception {
        Path root = SampleImages.generate(tmp.resolve("five"), SampleImages.FIVE_CLASSES, 10, 0, 0, 32, 2).resolve("train");
        ImageFolder tr = ImageFolder.at(root).targetSize(8, 8).validationSplit(0.2, "training").seed(5).build();
        ImageFolder va = ImageFolder.at(root).targetSize(8, 8).validationSplit(0.2, "validation").seed(5).build();
        assertEquals(SampleImages.FIVE_CLASSES.stream().sorted().toList(), tr.classes());
        assertEquals(40, tr.size());
        assertEquals(10, va.size());
        var all = new java.util.HashSet<>(tr.files());
        for (Path p : va.files()) {
            assertTrue(all.add(p), "validation image also in training: " + p);
        }
        assertEquals(50, all.size());
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.at(root).validationSplit(0.2, "test"));
    }
}
