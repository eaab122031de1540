package io.transferlab.applications;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The 1000 ImageNet classes of the keras.applications classifiers, in output order: WordNet ids (n01440764) and
 * Keras's names (tench). Read from Keras's own {@code imagenet_class_index.json} (the file
 * keras.applications.imagenet_utils.decode_predictions downloads from
 * https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json, MD5
 * c2c37ea517e94d9795004a39431a14cb), shipped in this library so that nothing is downloaded.
 */
public final class ImageNet {
    /** The resource, beside this class. */
    static final String RESOURCE = "imagenet_class_index.json";
    private static volatile String[][] classes;

    private ImageNet() {
    }

    /** One of the top classes of an image: output index, WordNet id, Keras's name, probability. */
    public record Prediction(int index, String id, String name, double probability) {
        @Override
        public String toString() {
            return String.format("%s %s %.4f", id, name, probability);
        }
    }

    /** Keras's class names in output order (tench, goldfish, ...). */
    public static List<String> names() {
        return Arrays.stream(table()).map(c -> c[1]).toList();
    }

    /** The WordNet ids in output order (n01440764, n01443537, ...). */
    public static List<String> ids() {
        return Arrays.stream(table()).map(c -> c[0]).toList();
    }

    /**
     * Keras's decode_predictions(preds, top): for each row of a (batch, 1000) array of ImageNet class
     * probabilities, the top classes, most probable first.
     */
    public static List<List<Prediction>> decode(INDArray predictions, int top) {
        long[] shape = predictions.shape();
        if (shape.length != 2 || shape[1] != 1000) {
            throw new IllegalArgumentException("decodePredictions expects a batch of ImageNet predictions (a 2D array "
                    + "of shape (samples, 1000)), got shape " + Arrays.toString(shape));
        }
        if (top <= 0 || top > 1000) {
            throw new IllegalArgumentException("top must be between 1 and 1000, got " + top);
        }
        String[][] t = table();
        List<List<Prediction>> out = new ArrayList<>();
        for (long i = 0; i < shape[0]; i++) {
            double[] p = new double[1000];
            for (int j = 0; j < 1000; j++) {
                p[j] = predictions.getDouble(i, j);
            }
            Integer[] order = new Integer[1000];
            for (int j = 0; j < 1000; j++) {
                order[j] = j;
            }
            Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
            List<Prediction> row = new ArrayList<>();
            for (int r = 0; r < top; r++) {
                int j = order[r];
                row.add(new Prediction(j, t[j][0], t[j][1], p[j]));
            }
            out.add(List.copyOf(row));
        }
        return List.copyOf(out);
    }

    private static String[][] table() {
        String[][] t = classes;
        if (t == null) {
            synchronized (ImageNet.class) {
                t = classes;
                if (t == null) {
                    t = read();
                    classes = t;
                }
            }
        }
        return t;
    }

    private static final Pattern ENTRY = Pattern.compile("\"(\\d+)\"\\s*:\\s*\\[\\s*\"(n\\d{8})\"\\s*,\\s*\"([^\"]*)\"\\s*]");

    private static String[][] read() {
        String text;
        try (InputStream in = ImageNet.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("The ImageNet class index (" + RESOURCE + ") is missing from the "
                        + "library's jar: rebuild it (make setup)");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the ImageNet class index " + RESOURCE, e);
        }
        String[][] t = new String[1000][];
        Matcher m = ENTRY.matcher(text);
        int found = 0;
        while (m.find()) {
            int i = Integer.parseInt(m.group(1));
            if (i < 0 || i >= 1000 || t[i] != null) {
                throw new IllegalStateException("The ImageNet class index has a bad or repeated entry " + i);
            }
            t[i] = new String[]{m.group(2), m.group(3)};
            found++;
        }
        if (found != 1000) {
            throw new IllegalStateException("The ImageNet class index has " + found + " entries, not 1000");
        }
        return t;
    }
}
