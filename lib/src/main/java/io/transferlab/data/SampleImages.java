package io.transferlab.data;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * A small generated image set, so that every notebook runs anywhere without a download: two classes, "circles"
 * (round blobs) and "stripes" (bands), drawn at random positions, sizes and colours on noisy backgrounds, in
 * train/validation/test folders like cats_and_dogs_filtered. It is a stand-in that exercises the whole pipeline;
 * its accuracies say nothing about real photos.
 */
public final class SampleImages {
    public static final List<String> CLASSES = List.of("circles", "stripes");
    /** The five classes of the larger sample (a stand-in for the five flower classes). */
    public static final List<String> FIVE_CLASSES = List.of("circles", "stripes", "squares", "triangles", "crosses");

    private SampleImages() {
    }

    /** Writes (or reuses, if complete) the sample under dir: dir/{train,validation,test}/{circles,stripes}/*.jpg. */
    public static Path generate(Path dir, int trainPerClass, int valPerClass, int testPerClass, int size, long seed) {
        return generate(dir, CLASSES, trainPerClass, valPerClass, testPerClass, size, seed);
    }

    /** The same with the given classes, any of {@link #FIVE_CLASSES}. */
    public static Path generate(Path dir, List<String> classes, int trainPerClass, int valPerClass, int testPerClass,
                                int size, long seed) {
        for (String c : classes) {
            if (!FIVE_CLASSES.contains(c)) {
                throw new IllegalArgumentException("Unknown sample class '" + c + "'; known: " + FIVE_CLASSES);
            }
        }
        Path marker = dir.resolve(".complete-" + classes.size() + "-" + trainPerClass + "-" + valPerClass + "-"
                + testPerClass + "-" + size + "-" + seed);
        if (Files.exists(marker)) {
            return dir;
        }
        Random rng = new Random(seed);
        try {
            int[] counts = {trainPerClass, valPerClass, testPerClass};
            String[] splits = {"train", "validation", "test"};
            for (int s = 0; s < 3; s++) {
                for (int c = 0; c < classes.size(); c++) {
                    Path folder = dir.resolve(splits[s]).resolve(classes.get(c));
                    Files.createDirectories(folder);
                    for (int i = 0; i < counts[s]; i++) {
                        BufferedImage img = draw(FIVE_CLASSES.indexOf(classes.get(c)), size, rng);
                        Path tmp = folder.resolve("." + i + ".tmp");
                        ImageIO.write(img, "jpg", tmp.toFile());
                        Files.move(tmp, folder.resolve(classes.get(c) + "." + i + ".jpg"),
                                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            Files.writeString(marker, "generated\n");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the sample images into " + dir, e);
        }
    }

    private static BufferedImage draw(int cls, int size, Random rng) {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(rng.nextInt(120) + 60, rng.nextInt(120) + 60, rng.nextInt(120) + 60));
        g.fillRect(0, 0, size, size);
        for (int k = 0; k < 300; k++) {
            g.setColor(new Color(rng.nextInt(256), rng.nextInt(256), rng.nextInt(256), 60));
            g.fillRect(rng.nextInt(size), rng.nextInt(size), 3, 3);
        }
        Color fg = new Color(rng.nextInt(256), rng.nextInt(256), rng.nextInt(256));
        g.setColor(fg);
        if (cls == 0) {
            int n = 1 + rng.nextInt(3);
            for (int k = 0; k < n; k++) {
                int r = size / 8 + rng.nextInt(size / 4);
                g.fillOval(rng.nextInt(size - r), rng.nextInt(size - r), r, r);
            }
        } else if (cls == 2) {
            int n = 1 + rng.nextInt(3);
            for (int k = 0; k < n; k++) {
                int r = size / 8 + rng.nextInt(size / 4);
                g.fillRect(rng.nextInt(size - r), rng.nextInt(size - r), r, r);
            }
        } else if (cls == 3) {
            int r = size / 4 + rng.nextInt(size / 3);
            int x0 = rng.nextInt(size - r), y0 = rng.nextInt(size - r);
            g.fillPolygon(new int[]{x0, x0 + r, x0 + r / 2}, new int[]{y0 + r, y0 + r, y0}, 3);
        } else if (cls == 4) {
            int r = size / 4 + rng.nextInt(size / 3);
            int w = 3 + rng.nextInt(size / 16);
            int cx = r / 2 + rng.nextInt(size - r), cy = r / 2 + rng.nextInt(size - r);
            g.fillRect(cx - r / 2, cy - w / 2, r, w);
            g.fillRect(cx - w / 2, cy - r / 2, w, r);
        } else {
            int w = 3 + rng.nextInt(size / 12);
            g.setStroke(new BasicStroke(w));
            double angle = rng.nextDouble() * Math.PI;
            int gap = w * 3 + rng.nextInt(size / 8);
            g.rotate(angle, size / 2.0, size / 2.0);
            for (int x = -size; x < 2 * size; x += gap) {
                g.drawLine(x, -size, x, 2 * size);
            }
        }
        g.dispose();
        return img;
    }
}
