package io.transferlab.models;

import io.transferlab.data.ImageInput;
import io.transferlab.data.Images;
import io.transferlab.layers.Shape;
import io.transferlab.runtime.FloatArrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Predicts on image files for {@link Model#predict(Path)} and {@link Model#predictFiles(List)}: each file decoded,
 * resized and preprocessed by the model's {@link ImageInput} (the code path its training data took), run in
 * batches, and the top classes of each image, with the model's class names, as a Tablesaw table.
 */
final class ImagePredictor {
    static final int BATCH = 32;

    private ImagePredictor() {
    }

    /** An image to predict on: its file and the name it has in the table. */
    record Item(Path file, String label) {
    }

    /** Every image file under a folder (sorted, subfolders too), or the one file given. */
    static List<Item> collect(Path fileOrFolder) {
        if (!Files.exists(fileOrFolder)) {
            throw new IllegalArgumentException("No such image file or folder: " + fileOrFolder);
        }
        if (!Files.isDirectory(fileOrFolder)) {
            return List.of(new Item(fileOrFolder, fileOrFolder.getFileName().toString()));
        }
        List<Path> all;
        try (Stream<Path> s = Files.walk(fileOrFolder)) {
            all = s.filter(Files::isRegularFile)
                    .filter(p -> !fileOrFolder.relativize(p).toString().startsWith(".")
                            && !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + fileOrFolder, e);
        }
        List<Item> images = new ArrayList<>();
        List<Path> others = new ArrayList<>();
        for (Path p : all) {
            if (Images.hasImageExtension(p)) {
                images.add(new Item(p, fileOrFolder.relativize(p).toString().replace('\\', '/')));
            } else {
                others.add(p);
            }
        }
        if (!others.isEmpty()) {
            System.err.println("Warning: skipped " + others.size() + " file(s) in " + fileOrFolder + " that are not images "
                    + "(by extension): " + String.join(", ", others.stream().limit(5).map(Path::toString).toList())
                    + (others.size() > 5 ? ", ..." : ""));
        }
        if (images.isEmpty()) {
            throw new IllegalArgumentException("Folder " + fileOrFolder + " has no image files ("
                    + String.join(", ", Images.EXTENSIONS.stream().sorted().toList()) + ")");
        }
        return images;
    }

    /** The input images are prepared with: the model's own, at the model's input size where it has one. */
    static ImageInput inputFor(Model model) {
        ImageInput in = model.imageInput();
        if (in == null) {
            throw new IllegalStateException("Model '" + model.name() + "' does not know how to prepare images: build "
                    + "it with an Applications builder, fit it on an ImageFolder, or set it, e.g. "
                    + "model.imageInput(ImageInput.of(224, Preprocessing.CAFFE))");
        }
        Shape s = model.inputShape();
        if (s.rank() != 3 || (s.get(2) != Shape.NONE && s.get(2) != 3)) {
            throw new IllegalStateException("Model '" + model.name() + "' takes inputs of shape " + s
                    + ", not RGB images (height, width, 3)");
        }
        int h = s.get(0) == Shape.NONE ? in.height() : Math.toIntExact(s.get(0));
        int w = s.get(1) == Shape.NONE ? in.width() : Math.toIntExact(s.get(1));
        return h == in.height() && w == in.width() ? in : in.withSize(h, w);
    }

    /**
     * Predicts on the items. With {@code skipUnreadable} (folder mode) a file that does not decode is named in a
     * warning and left out; otherwise it is an error naming the file.
     */
    static Table predict(Model model, List<Item> items, int top, boolean skipUnreadable) {
        if (top <= 0) {
            throw new IllegalArgumentException("top must be positive, got " + top);
        }
        ImageInput input = inputFor(model);
        List<String> names = model.classNames();
        int per = input.height() * input.width() * 3;
        StringColumn image = StringColumn.create("image");
        List<StringColumn> classes = new ArrayList<>();
        List<DoubleColumn> probs = new ArrayList<>();
        int k = -1;
        for (int from = 0; from < items.size(); from += BATCH) {
            List<Item> batch = items.subList(from, Math.min(items.size(), from + BATCH));
            float[][] px = new float[batch.size()][];
            String[] errors = new String[batch.size()];
            IntStream.range(0, batch.size()).parallel().forEach(i -> {
                try {
                    px[i] = input.load(batch.get(i).file());
                } catch (IOException | RuntimeException e) {
                    errors[i] = e.getMessage() == null ? e.toString() : e.getMessage();
                }
            });
            List<Integer> ok = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                if (px[i] != null) {
                    ok.add(i);
                } else if (skipUnreadable) {
                    System.err.println("Warning: skipping " + batch.get(i).file() + ": " + errors[i]);
                } else {
                    throw new IllegalArgumentException("Cannot read image " + batch.get(i).file() + ": " + errors[i]);
                }
            }
            if (ok.isEmpty()) {
                continue;
            }
            float[] all = new float[ok.size() * per];
            for (int j = 0; j < ok.size(); j++) {
                System.arraycopy(px[ok.get(j)], 0, all, j * per, per);
            }
            INDArray out = model.predict(FloatArrays.of(all, ok.size(), input.height(), input.width(), 3));
            double[][] p = probabilities(out, model.outputActivation());
            if (k < 0) {
                k = Math.min(top, p[0].length);
                for (int r = 0; r < k; r++) {
                    classes.add(StringColumn.create(r == 0 ? "class" : "class_" + (r + 1)));
                    probs.add(DoubleColumn.create(r == 0 ? "probability" : "probability_" + (r + 1)));
                }
            }
            for (int j = 0; j < ok.size(); j++) {
                image.append(batch.get(ok.get(j)).label());
                int[] order = topIndices(p[j], k);
                for (int r = 0; r < k; r++) {
                    classes.get(r).append(label(names, order[r]));
                    probs.get(r).append(p[j][order[r]]);
                }
            }
        }
        if (image.isEmpty()) {
            throw new IllegalArgumentException("None of the " + items.size() + " image(s) could be read");
        }
        Table t = Table.create("predictions of " + model.name(), image);
        for (int r = 0; r < k; r++) {
            probs.get(r).setPrintFormatter(new java.text.DecimalFormat("0.0000"), "");
            t.addColumns(classes.get(r), probs.get(r));
        }
        return t;
    }

    /**
     * Per row, a probability per class; a single sigmoid output p is the two classes (1 - p, p), as Keras's binary
     * mode. An output that is not a probability (a last Dense without softmax or sigmoid: logits, as Keras's
     * from_logits heads give) is refused rather than shown as if it were one.
     */
    static double[][] probabilities(INDArray out, String activation) {
        if (!"softmax".equals(activation) && !"sigmoid".equals(activation)) {
            throw new IllegalStateException("The model's output is not a probability: its last layer's activation is "
                    + (activation == null ? "not a softmax or sigmoid" : "'" + activation + "'") + ". Predictions with "
                    + "class names need a classifier ending in softmax (or sigmoid for two classes); for a head that "
                    + "outputs logits, add Activation(\"sigmoid\") or Activation(\"softmax\") on top of it.");
        }
        if (out.rank() != 2) {
            throw new IllegalStateException("The model's output has shape " + Arrays.toString(out.shape())
                    + "; predictions on image files need a classifier's output (batch, classes)");
        }
        int n = (int) out.size(0);
        int c = (int) out.size(1);
        double[][] p = new double[n][];
        for (int i = 0; i < n; i++) {
            if (c == 1) {
                double v = out.getDouble(i, 0);
                p[i] = new double[]{1 - v, v};
            } else {
                p[i] = new double[c];
                for (int j = 0; j < c; j++) {
                    p[i][j] = out.getDouble(i, j);
                }
            }
        }
        return p;
    }

    /** The indices of the k largest values, largest first (ties: the lower index first). */
    static int[] topIndices(double[] v, int k) {
        return IntStream.range(0, v.length).boxed()
                .sorted((a, b) -> v[a] != v[b] ? Double.compare(v[b], v[a]) : Integer.compare(a, b))
                .limit(k).mapToInt(Integer::intValue).toArray();
    }

    private static String label(List<String> names, int index) {
        return names != null && index < names.size() ? names.get(index) : "class " + index;
    }
}
