package io.transferlab.data;

import org.nd4j.linalg.api.buffer.DataType;
import io.transferlab.runtime.FloatArrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Images in class folders, as Keras's flow_from_directory: {@code dir/cats/*.jpg, dir/dogs/*.jpg}; sorted folder
 * names give the class indices (cats = 0, dogs = 1). Iterating gives one epoch of batches: images decoded to RGB,
 * resized to the target size, preprocessed, augmented when asked (training data only), channels-last.
 *
 * <pre>
 * var train = ImageFolder.at(trainDir).targetSize(150, 150).batchSize(20)
 *         .classMode(ClassMode.BINARY).preprocessing(Preprocessing.RESCALE).shuffle(true).build();
 * </pre>
 *
 * Files that are not images are skipped when the folder is read, with a warning that names them; a file that
 * fails to decode later is skipped from its batch with a warning, never a crash mid-epoch.
 */
public final class ImageFolder implements Dataset {
    private final Path dir;
    private final List<String> classes;
    private final List<Path> files;
    private final int[] labels;
    private final Builder cfg;
    private final List<Path> skippedAtScan;
    private final Set<Path> failed = ConcurrentHashMap.newKeySet();
    private int epoch;

    private ImageFolder(Builder b, List<String> classes, List<Path> files, int[] labels, List<Path> skipped) {
        this.dir = b.dir;
        this.cfg = b;
        this.classes = List.copyOf(classes);
        this.files = List.copyOf(files);
        this.labels = labels;
        this.skippedAtScan = List.copyOf(skipped);
    }

    public static Builder at(Path dir) {
        return new Builder(dir);
    }

    public static Builder at(String dir) {
        return new Builder(Path.of(dir));
    }

    /** Settings, with Keras's defaults: 256x256, batch 32, categorical, shuffled, seed 1, nearest resize. */
    public static final class Builder {
        private final Path dir;
        private int height = 256;
        private int width = 256;
        private int batchSize = 32;
        private ClassMode classMode = ClassMode.CATEGORICAL;
        private Preprocessing preprocessing = Preprocessing.NONE;
        private boolean shuffle = true;
        private long seed = 1;
        private int limitPerClass = Integer.MAX_VALUE;
        private Augmentation augmentation;
        private Images.Interpolation interpolation = Images.Interpolation.NEAREST;
        private List<String> classes;
        private double validationSplit;
        private boolean validationSubset;

        private Builder(Path dir) {
            this.dir = dir;
        }

        public Builder targetSize(int h, int w) {
            if (h <= 0 || w <= 0) {
                throw new IllegalArgumentException("targetSize must be positive, got " + h + "x" + w);
            }
            this.height = h;
            this.width = w;
            return this;
        }

        public Builder batchSize(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + n);
            }
            this.batchSize = n;
            return this;
        }

        public Builder classMode(ClassMode m) {
            this.classMode = m;
            return this;
        }

        /** Keras's rescale=1./255 is {@link Preprocessing#RESCALE}; a model family's preprocess_input otherwise. */
        public Builder preprocessing(Preprocessing p) {
            this.preprocessing = p;
            return this;
        }

        public Builder shuffle(boolean value) {
            this.shuffle = value;
            return this;
        }

        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /** Uses at most n images of each class (the first n in name order): quick mode and small experiments. */
        public Builder limitPerClass(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("limitPerClass must be positive, got " + n);
            }
            this.limitPerClass = n;
            return this;
        }

        /** Random augmentation of each image as it is loaded (use for training data only). */
        public Builder augment(Augmentation a) {
            this.augmentation = a == null || a.isIdentity() ? null : a;
            return this;
        }

        public Builder interpolation(Images.Interpolation mode) {
            this.interpolation = mode;
            return this;
        }

        /**
         * Size, preprocessing and interpolation at once, as a model prepares its images ({@code model.imageInput()}):
         * data to evaluate or explain a saved model with, prepared exactly as it was trained.
         */
        public Builder imageInput(ImageInput input) {
            targetSize(input.height(), input.width());
            this.preprocessing = input.preprocessing();
            this.interpolation = input.interpolation();
            return this;
        }

        /**
         * Keras's validation_split and subset: holds out a fraction of each class ("validation") or keeps the rest
         * ("training"). The split is drawn with the seed, so the two subsets of the same folder and seed never
         * overlap and together give every image.
         */
        public Builder validationSplit(double fraction, String subset) {
            if (!(fraction > 0 && fraction < 1)) {
                throw new IllegalArgumentException("validationSplit must be in (0, 1), got " + fraction);
            }
            if (!subset.equals("training") && !subset.equals("validation")) {
                throw new IllegalArgumentException("subset must be \"training\" or \"validation\", got \"" + subset + "\"");
            }
            this.validationSplit = fraction;
            this.validationSubset = subset.equals("validation");
            return this;
        }

        /** Expects exactly these classes (Keras's classes=[...]); fails if the folder has others or lacks one. */
        public Builder classes(List<String> names) {
            this.classes = List.copyOf(names);
            return this;
        }

        public ImageFolder build() {
            return scan(this);
        }
    }

    private static ImageFolder scan(Builder b) {
        io.transferlab.runtime.Backend.init();
        Path dir = b.dir;
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("Image folder not found: " + dir.toAbsolutePath()
                    + " (expected one subfolder per class, e.g. " + dir.resolve("cats") + ")");
        }
        List<String> found;
        try (Stream<Path> s = Files.list(dir)) {
            found = s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + dir, e);
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException("No class folders in " + dir.toAbsolutePath()
                    + ": put the images of each class in a subfolder named after the class");
        }
        List<String> classes = found;
        if (b.classes != null) {
            if (!b.classes.equals(found)) {
                throw new IllegalArgumentException("Class folders of " + dir + " are " + found + ", expected " + b.classes);
            }
            classes = b.classes;
        }
        if (b.classMode == ClassMode.BINARY && classes.size() != 2) {
            throw new IllegalArgumentException("classMode BINARY needs exactly 2 classes, " + dir + " has "
                    + classes.size() + ": " + classes + ". Use ClassMode.CATEGORICAL.");
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<Path> skipped = Collections.synchronizedList(new ArrayList<>());
        for (int c = 0; c < classes.size(); c++) {
            List<Path> candidates;
            try (Stream<Path> s = Files.list(dir.resolve(classes.get(c)))) {
                candidates = s.filter(Files::isRegularFile).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot list " + dir.resolve(classes.get(c)), e);
            }
            List<Path> images = candidates.stream().filter(Images::hasImageExtension).toList();
            candidates.stream().filter(p -> !Images.hasImageExtension(p) && !p.getFileName().toString().startsWith("."))
                    .forEach(skipped::add);
            List<Path> ok = images.parallelStream().filter(p -> {
                try {
                    Images.checkHeader(p);
                    return true;
                } catch (IOException | RuntimeException e) {
                    skipped.add(p);
                    return false;
                }
            }).toList();
            if (ok.isEmpty()) {
                throw new IllegalArgumentException("Class folder " + dir.resolve(classes.get(c))
                        + " has no readable images (" + images.size() + " image files, "
                        + candidates.size() + " files)");
            }
            if (b.validationSplit > 0) {
                List<Path> shuffled = new ArrayList<>(ok);
                Collections.shuffle(shuffled, new Random(b.seed * 7919L + c));
                int held = (int) Math.round(b.validationSplit * ok.size());
                ok = (b.validationSubset ? shuffled.subList(0, held) : shuffled.subList(held, shuffled.size()))
                        .stream().sorted().toList();
            }
            int n = Math.min(ok.size(), b.limitPerClass);
            for (int i = 0; i < n; i++) {
                files.add(ok.get(i));
                labels.add(c);
            }
        }
        if (!skipped.isEmpty()) {
            List<Path> sorted = skipped.stream().sorted().toList();
            System.err.println("Warning: skipped " + sorted.size() + " file(s) in " + dir + " that are not readable images: "
                    + String.join(", ", sorted.stream().limit(10).map(Path::toString).toList())
                    + (sorted.size() > 10 ? ", ..." : ""));
        }
        return new ImageFolder(b, classes, files, labels.stream().mapToInt(Integer::intValue).toArray(), skipped);
    }

    public Path directory() {
        return dir;
    }

    public List<String> classes() {
        return classes;
    }

    /** Keras's class_indices: class name to index. */
    public Map<String, Integer> classIndices() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            m.put(classes.get(i), i);
        }
        return m;
    }

    public int size() {
        return files.size();
    }

    public int batchSize() {
        return cfg.batchSize;
    }

    /** Batches per epoch (Keras's len(generator)). */
    public int numBatches() {
        return (size() + cfg.batchSize - 1) / cfg.batchSize;
    }

    public int height() {
        return cfg.height;
    }

    public int width() {
        return cfg.width;
    }

    public ClassMode classMode() {
        return cfg.classMode;
    }

    public Preprocessing preprocessing() {
        return cfg.preprocessing;
    }

    /** How each file becomes an input (size, interpolation, preprocessing): what a model trained on it predicts with. */
    public ImageInput imageInput() {
        return new ImageInput(cfg.height, cfg.width, cfg.preprocessing, cfg.interpolation);
    }

    public List<Path> files() {
        return files;
    }

    /** Class index of each file, in {@link #files()} order. */
    public int[] labels() {
        return labels.clone();
    }

    /** Files skipped when the folder was read (not images, or unreadable headers). */
    public List<Path> skippedFiles() {
        return skippedAtScan;
    }

    /** Files that failed to decode during iteration so far (skipped from their batches). */
    public Set<Path> failedFiles() {
        return Collections.unmodifiableSet(failed);
    }

    /** Fails unless the other folder has the same classes in the same order (train vs validation). */
    public void requireSameClasses(ImageFolder other) {
        if (!classes.equals(other.classes)) {
            throw new IllegalArgumentException("Class folders differ: " + dir + " has " + classes + ", " + other.dir
                    + " has " + other.classes + ". Training and validation need the same classes.");
        }
    }

    /** Labels for all files, in {@link #files()} order, shaped as batches give them. */
    public INDArray labelArray() {
        return labelsFor(IntStream.range(0, size()).toArray());
    }

    @Override
    public int epoch() {
        return epoch;
    }

    @Override
    public void setEpoch(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + value);
        }
        this.epoch = value;
    }

    /** One epoch of batches; each call reshuffles (when shuffling) with the seed and the epoch number. */
    @Override
    public Iterator<Batch> iterator() {
        int thisEpoch = epoch++;
        int[] order = Dataset.epochOrder(size(), cfg.shuffle, cfg.seed, thisEpoch);
        return new Iterator<>() {
            private int next;
            private java.util.concurrent.CompletableFuture<Batch> ahead = schedule();

            /** Starts decoding the next batch in the background, so that it overlaps with the model's work. */
            private java.util.concurrent.CompletableFuture<Batch> schedule() {
                if (next >= order.length) {
                    return null;
                }
                int end = Math.min(order.length, next + cfg.batchSize);
                int[] idx = java.util.Arrays.copyOfRange(order, next, end);
                long augSeed = cfg.seed * 31L + thisEpoch * 1_000_033L + next;
                next = end;
                return java.util.concurrent.CompletableFuture.supplyAsync(() -> load(idx, augSeed), LOADER);
            }

            @Override
            public boolean hasNext() {
                return ahead != null;
            }

            @Override
            public Batch next() {
                if (ahead == null) {
                    throw new NoSuchElementException();
                }
                Batch b;
                try {
                    b = ahead.join();
                } catch (java.util.concurrent.CompletionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : e;
                }
                ahead = schedule();
                return b;
            }
        };
    }

    /** One background thread schedules batch loads; each load decodes its images in parallel. */
    private static final java.util.concurrent.ExecutorService LOADER = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "transferlab-image-loader");
        t.setDaemon(true);
        return t;
    });

    private Batch load(int[] idx, long augSeed) {
        int h = cfg.height;
        int w = cfg.width;
        int per = h * w * 3;
        float[][] images = new float[idx.length][];
        IntStream.range(0, idx.length).parallel().forEach(i -> {
            Path f = files.get(idx[i]);
            try {
                ImageInput input = imageInput();
                float[] px = input.decode(f);
                if (cfg.augmentation != null) {
                    px = cfg.augmentation.apply(px, h, w, new Random(augSeed + i));
                }
                images[i] = input.preprocess(px);
            } catch (IOException | RuntimeException e) {
                if (failed.add(f)) {
                    System.err.println("Warning: skipping " + f + ": " + e.getMessage());
                }
            }
        });
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < idx.length; i++) {
            if (images[i] != null) {
                kept.add(i);
            }
        }
        INDArray x = FloatArrays.empty(kept.size(), h, w, 3);
        java.nio.FloatBuffer into = FloatArrays.buffer(x);
        List<Path> batchFiles = new ArrayList<>();
        int[] keptIdx = new int[kept.size()];
        for (int k = 0; k < kept.size(); k++) {
            into.put(k * per, images[kept.get(k)]);
            keptIdx[k] = idx[kept.get(k)];
            batchFiles.add(files.get(keptIdx[k]));
        }
        return new Batch(x, labelsFor(keptIdx), batchFiles);
    }

    private INDArray labelsFor(int[] idx) {
        int n = idx.length;
        if (cfg.classMode == ClassMode.CATEGORICAL) {
            INDArray y = Nd4j.zeros(DataType.FLOAT, n, classes.size());
            for (int i = 0; i < n; i++) {
                y.putScalar(i, labels[idx[i]], 1f);
            }
            return y;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = labels[idx[i]];
        }
        return Nd4j.create(v, new long[]{n, 1}, 'c');
    }

    /**
     * A fingerprint of the data this folder gives: files (path and a hash of the content), classes, target size,
     * preprocessing and limit. Feature caches use it so that a changed dataset is never served stale, even when a
     * file was replaced by another of the same size and modification time.
     */
    public String fingerprint() {
        var sb = new StringBuilder();
        sb.append(classes).append('|').append(cfg.height).append('x').append(cfg.width).append('|')
                .append(cfg.preprocessing).append('|').append(cfg.interpolation).append('|').append(cfg.classMode)
                .append('|').append(NativeJpeg.mode()); // decoders differ by a few levels (DCT scaling: more)
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            try {
                sb.append('|').append(f.toAbsolutePath()).append(':').append(Hashing.contentHash(f)).append(':')
                        .append(labels[i]);
            } catch (IOException e) {
                sb.append('|').append(f).append(":missing");
            }
        }
        return Hashing.sha256(sb.toString());
    }

    @Override
    public String toString() {
        return "Found " + size() + " images belonging to " + classes.size() + " classes " + classes + " in " + dir;
    }
}
