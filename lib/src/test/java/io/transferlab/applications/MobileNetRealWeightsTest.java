package io.transferlab.applications;

import io.transferlab.models.Model;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real Keras MobileNet (alpha 0.25, 224, ImageNet, no top) on real photos of cats and dogs: globally pooled
 * features are finite and informative, and a plain logistic regression on them separates cats from dogs (an
 * independent probe reached 94.7% on the full validation set). Needs $TL_SHARED (weights and images); skipped
 * without it.
 */
class MobileNetRealWeightsTest {
    private static final int PER_CLASS = 200;
    private static final int SIZE = 224;

    private static Path shared() {
        String shared = System.getenv("TL_SHARED");
        assumeTrue(shared != null && !shared.isBlank(), "TL_SHARED is not set, so the Keras MobileNet weights and the "
                + "cats-and-dogs images ($TL_SHARED/weights, $TL_SHARED/data) are not available: skipping");
        return Path.of(shared);
    }

    private static Model mobileNet(Path shared) {
        return Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(SIZE, SIZE, 3).pooling("avg")
                .weights(shared.resolve("weights/mobilenet_2_5_224_tf_no_top.h5").toString()).build();
    }

    /** The first n JPEG files of a folder, by name. */
    private static List<Path> images(Path dir, int n) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().toLowerCase(Locale.ROOT).endsWith(".jpg")).sorted().limit(n).toList();
        }
    }

    /** Keras's "tf" preprocessing after a bilinear resize to 224x224: RGB scaled to [-1, 1], channels-last. */
    private static void load(Path file, float[] into, int offset) throws IOException {
        BufferedImage src = ImageIO.read(file.toFile());
        assertNotNull(src, "cannot decode " + file);
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(src, 0, 0, SIZE, SIZE, null);
        g.dispose();
        int i = offset;
        for (int r = 0; r < SIZE; r++) {
            for (int c = 0; c < SIZE; c++) {
                int p = img.getRGB(c, r);
                into[i++] = ((p >> 16) & 255) / 127.5f - 1;
                into[i++] = ((p >> 8) & 255) / 127.5f - 1;
                into[i++] = (p & 255) / 127.5f - 1;
            }
        }
    }

    /** Pooled features of the images, in batches of 20. */
    private static double[][] features(Model model, List<Path> files) throws IOException {
        int batch = 20;
        int per = SIZE * SIZE * 3;
        double[][] out = new double[files.size()][];
        for (int start = 0; start < files.size(); start += batch) {
            int n = Math.min(batch, files.size() - start);
            float[] x = new float[n * per];
            for (int j = 0; j < n; j++) {
                load(files.get(start + j), x, j * per);
            }
            INDArray f = model.predict(Nd4j.create(x, new long[]{n, SIZE, SIZE, 3}, 'c'));
            for (int j = 0; j < n; j++) {
                out[start + j] = f.getRow(j).toDoubleVector();
            }
        }
        return out;
    }

    @Test
    void featuresOfRealPhotosAreFiniteAndInformative() throws IOException {
        Path shared = shared();
        Model model = mobileNet(shared);
        Path train = shared.resolve("data/cats_and_dogs_filtered/train");
        List<Path> files = new ArrayList<>(images(train.resolve("cats"), 2));
        files.addAll(images(train.resolve("dogs"), 2));
        double[][] f = features(model, files);
        assertEquals(256, f[0].length);
        for (double[] row : f) {
            for (double v : row) {
                assertTrue(Double.isFinite(v) && v >= 0 && v <= 6, "a pooled ReLU6 feature must lie in [0, 6]: " + v);
            }
            long active = java.util.Arrays.stream(row).filter(v -> v > 1e-3).count();
            assertTrue(active > 64, "most channels should respond to a photo, got " + active + " of 256");
        }
        // different photos give different features
        double diff = 0;
        for (int k = 0; k < 256; k++) {
            diff += Math.abs(f[0][k] - f[3][k]);
        }
        assertTrue(diff / 256 > 0.05, "a cat and a dog should not give the same features (mean |diff| " + diff / 256 + ")");
    }

    @Test
    void linearProbeOnPooledFeaturesSeparatesCatsFromDogs() throws IOException {
        Path shared = shared();
        Model model = mobileNet(shared);
        Path data = shared.resolve("data/cats_and_dogs_filtered");
        long t0 = System.nanoTime();
        List<Path> trainFiles = new ArrayList<>(images(data.resolve("train/cats"), PER_CLASS));
        trainFiles.addAll(images(data.resolve("train/dogs"), PER_CLASS));
        List<Path> valFiles = new ArrayList<>(images(data.resolve("validation/cats"), PER_CLASS));
        valFiles.addAll(images(data.resolve("validation/dogs"), PER_CLASS));
        double[][] xTrain = features(model, trainFiles);
        double[][] xVal = features(model, valFiles);
        double seconds = (System.nanoTime() - t0) / 1e9;
        int[] yTrain = labels(PER_CLASS);
        int[] yVal = labels(PER_CLASS);

        standardize(xTrain, xVal);
        double[] w = logisticRegression(xTrain, yTrain, 1e-2, 300);
        double trainAcc = accuracy(w, xTrain, yTrain);
        double valAcc = accuracy(w, xVal, yVal);
        System.out.printf(Locale.ROOT, "MobileNet 0.25 linear probe: %d+%d images in %.1f s (%.1f images/s), "
                        + "train accuracy %.1f%%, validation accuracy %.1f%%%n", trainFiles.size(), valFiles.size(),
                seconds, (trainFiles.size() + valFiles.size()) / seconds, 100 * trainAcc, 100 * valAcc);
        assertTrue(valAcc >= 0.88, "validation accuracy of the linear probe should be near the independent 94.7%, got "
                + valAcc);
    }

    private static int[] labels(int perClass) {
        int[] y = new int[2 * perClass];
        for (int i = perClass; i < y.length; i++) {
            y[i] = 1; // cats first, then dogs
        }
        return y;
    }

    /** Standardizes every feature with the training set's mean and standard deviation. */
    private static void standardize(double[][] train, double[][] other) {
        int d = train[0].length;
        for (int k = 0; k < d; k++) {
            double mean = 0;
            for (double[] row : train) {
                mean += row[k];
            }
            mean /= train.length;
            double var = 0;
            for (double[] row : train) {
                var += (row[k] - mean) * (row[k] - mean);
            }
            double sd = Math.sqrt(var / train.length) + 1e-6;
            for (double[] row : train) {
                row[k] = (row[k] - mean) / sd;
            }
            for (double[] row : other) {
                row[k] = (row[k] - mean) / sd;
            }
        }
    }

    /** Binary logistic regression by full-batch gradient descent with L2 penalty l2; the last weight is the bias. */
    private static double[] logisticRegression(double[][] x, int[] y, double l2, int steps) {
        int d = x[0].length;
        double[] w = new double[d + 1];
        double lr = 0.1;
        for (int step = 0; step < steps; step++) {
            double[] grad = new double[d + 1];
            for (int i = 0; i < x.length; i++) {
                double err = sigmoid(score(w, x[i])) - y[i];
                for (int k = 0; k < d; k++) {
                    grad[k] += err * x[i][k];
                }
                grad[d] += err;
            }
            for (int k = 0; k <= d; k++) {
                w[k] -= lr * (grad[k] / x.length + (k < d ? l2 * w[k] : 0));
            }
        }
        return w;
    }

    private static double score(double[] w, double[] x) {
        double s = w[x.length];
        for (int k = 0; k < x.length; k++) {
            s += w[k] * x[k];
        }
        return s;
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    private static double accuracy(double[] w, double[][] x, int[] y) {
        int ok = 0;
        for (int i = 0; i < x.length; i++) {
            if ((score(w, x[i]) > 0 ? 1 : 0) == y[i]) {
                ok++;
            }
        }
        return ok / (double) x.length;
    }
}
