package io.transferlab.inference;

import io.transferlab.data.Batch;
import io.transferlab.data.Hashing;
import io.transferlab.data.ImageFolder;
import io.transferlab.graph.Functional;
import io.transferlab.runtime.Backend;
import io.transferlab.runtime.Display;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Node;
import io.transferlab.layers.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Feature extraction: runs a (frozen) convolutional base once over a dataset and keeps its outputs, so that a
 * small classifier can be trained on them many times over at almost no cost. Results are cached on disk, keyed
 * by the model's architecture and weights, the input size and the dataset's content (files, sizes, dates,
 * preprocessing) and the mixed-precision policy: a rerun of a notebook is instant, and a changed dataset or model
 * (or bfloat16 features for float32 ones) is never served stale.
 *
 * <p>Cache folder: environment TL_CACHE (or the system property transferlab.cache), else ~/.cache/transferlab; {@code TL_FEATURE_CACHE=0} (or the system
 * property {@code transferlab.featureCache=false}) turns it off.
 */
public final class Features {
    private Features() {
    }

    /** Features and labels of a dataset, as Keras's conv_base.predict gives them: (N, 4, 4, 512) for VGG16 at 150. */
    public record FeatureSet(INDArray features, INDArray labels, List<Path> files) {
        public int size() {
            return (int) features.size(0);
        }

        /** Keras's np.reshape(features, (N, h*w*c)): channels-last order, as Flatten does. */
        public INDArray flat() {
            return features.reshape('c', features.size(0), features.length() / features.size(0));
        }

        /** Shape as Keras writes it: (2000, 4, 4, 512). */
        public String shapeText() {
            long[] s = features.shape();
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < s.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(s[i]);
            }
            return sb.append(")").toString();
        }
    }

    /** Whether the disk cache is used (unless TL_FEATURE_CACHE=0 or transferlab.featureCache=false). */
    static boolean cacheEnabled() {
        return Backend.switchedOn("transferlab.featureCache", "TL_FEATURE_CACHE");
    }

    public static Path cacheDir() {
        String env = System.getProperty("transferlab.cache", System.getenv("TL_CACHE"));
        Path base = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "transferlab");
        return base.resolve("features");
    }

    /**
     * The name of a cache entry: the model's name and the key; an entry of the same key written under another model
     * name (the same network built another way, in another notebook) is used as it is.
     */
    private static String cacheStem(String modelName, String key) {
        String own = modelName + "-" + key;
        Path dir = cacheDir();
        if (!cacheEnabled() || Files.exists(dir.resolve(own + ".bin")) || !Files.isDirectory(dir)) {
            return own;
        }
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith("-" + key + ".sha256"))
                    .map(n -> n.substring(0, n.length() - ".sha256".length()))
                    .sorted().findFirst().orElse(own);
        } catch (IOException e) {
            return own;
        }
    }

    /** Runs the model over the dataset once (batched, with progress) or reads the cached result. */
    public static FeatureSet extract(Functional model, ImageFolder data) {
        // bf16 features are cached apart from float32 ones (float32 keys stay as they were)
        String precision = io.transferlab.runtime.MixedPrecision.bfloat16() ? "#mixed_bfloat16" : "";
        String key = Hashing.sha256(modelFingerprint(model) + "#" + data.fingerprint() + precision);
        String stem = cacheStem(model.name(), key.substring(0, 24));
        Path file = cacheDir().resolve(stem + ".bin");
        Path labelsFile = cacheDir().resolve(stem + ".labels.bin");
        Path sums = cacheDir().resolve(stem + ".sha256");
        if (cacheEnabled() && Files.exists(file)) {
            FeatureSet cached = readCache(file, labelsFile, sums, data);
            if (cached != null) {
                return cached;
            }
        }
        FeatureSet fs = run(model, data);
        if (cacheEnabled() && fs.size() == data.size()) {
            try {
                Files.createDirectories(file.getParent());
                Path tmp = Files.createTempFile(file.getParent(), ".writing-", ".bin");
                Path tmpY = Files.createTempFile(file.getParent(), ".writing-", ".bin");
                Path tmpSums = Files.createTempFile(file.getParent(), ".writing-", ".sha256");
                Nd4j.saveBinary(fs.features(), tmp.toFile());
                Nd4j.saveBinary(fs.labels(), tmpY.toFile());
                Files.writeString(tmpSums, Hashing.sha256(tmp) + "  " + file.getFileName() + "\n"
                        + Hashing.sha256(tmpY) + "  " + labelsFile.getFileName() + "\n");
                Files.deleteIfExists(sums); // an entry is complete only once its checksums are in place
                Files.move(tmpY, labelsFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmpSums, sums, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                System.err.println("Warning: could not cache features in " + file.getParent() + ": " + e.getMessage());
            }
        }
        return fs;
    }

    /**
     * The cached features and labels when both files are there and match the checksums written with them; else
     * null, after saying which file is missing or damaged (the entry is then computed again and rewritten).
     */
    private static FeatureSet readCache(Path file, Path labelsFile, Path sums, ImageFolder data) {
        try {
            if (!Files.exists(sums)) {
                System.out.println("Feature cache entry " + file + " has no checksums (incomplete, or written by an "
                        + "earlier version): computing it again");
                return null;
            }
            for (String line : Files.readAllLines(sums)) {
                String[] parts = line.split("  ", 2);
                if (parts.length != 2) {
                    continue;
                }
                Path f = file.resolveSibling(parts[1]);
                if (!Files.exists(f)) {
                    System.out.println("Feature cache file " + f + " is missing: computing the features again");
                    return null;
                }
                if (!Hashing.sha256(f).equals(parts[0])) {
                    System.out.println("Feature cache file " + f + " does not match its checksum (damaged): computing "
                            + "the features again");
                    return null;
                }
            }
            INDArray f = Nd4j.readBinary(file.toFile());
            INDArray y = Nd4j.readBinary(labelsFile.toFile());
            if (f.size(0) != data.size() || y.size(0) != data.size()) {
                System.out.println("Feature cache entry " + file + " holds " + f.size(0) + " examples, the data "
                        + data.size() + ": computing the features again");
                return null;
            }
            System.out.printf("Features of %d images from the cache (%s)%n", data.size(), file.getFileName());
            return new FeatureSet(f, y, data.files());
        } catch (IOException | RuntimeException e) {
            System.out.println("Feature cache entry " + file + " is unreadable (" + e.getMessage() + "): computing it again");
            return null;
        }
    }

    private static FeatureSet run(Functional model, ImageFolder data) {
        List<INDArray> outs = new ArrayList<>();
        List<INDArray> ys = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        long t0 = System.nanoTime();
        Display.Progress progress = Display.progress(10_000); // a bar in a notebook, a line every 10 s elsewhere
        int done = 0;
        int batches = data.numBatches();
        int step = 0;
        System.out.printf("Extracting features of %d images with %s (output %s)...%n", data.size(), model.name(),
                model.outputShape());
        for (Batch b : data) {
            if (Thread.interrupted()) { // consumed: the exception below reports it
                throw new java.util.concurrent.CancellationException("Feature extraction interrupted after " + done + " of "
                        + data.size() + " images; nothing was cached");
            }
            if (b.size() == 0) {
                continue;
            }
            outs.add(Inference.predict(model, b.x()));
            ys.add(b.y());
            files.addAll(b.files());
            done += b.size();
            step++;
            if (step == 1) {
                // after the first batch, so that this names the plan that batch compiled instead of compiling another
                System.out.println("  running on " + Inference.describe(model));
            }
            if (step == batches) {
                progress.done();
                double secs = (System.nanoTime() - t0) / 1e9;
                System.out.printf("  %d/%d images - %.0fs - %.1f images/s%n", done, data.size(), secs, done / secs);
            } else if (progress.due() && !Thread.currentThread().isInterrupted()) {
                double secs = (System.nanoTime() - t0) / 1e9;
                String line = String.format("  %d/%d images - %.0fs - %.1f images/s", done, data.size(), secs, done / secs);
                progress.update(line, "<div><progress value=\"" + done + "\" max=\"" + data.size()
                        + "\" style=\"width:16em\"></progress><code>" + Display.escape(line) + "</code></div>");
            }
        }
        progress.done();
        if (done < data.size()) {
            System.out.println("  " + (data.size() - done) + " image(s) could not be decoded and were skipped");
        }
        return new FeatureSet(Nd4j.concat(0, outs.toArray(INDArray[]::new)), Nd4j.concat(0, ys.toArray(INDArray[]::new)), files);
    }

    /**
     * What the model computes, independent of names: input and output shapes, and every layer call in execution
     * order with the layer's settings ({@link Layer#config()}, which leaves the name out), a digest of its weights
     * and which earlier calls feed it (nested models likewise, inside). A change in any gives another cache entry;
     * the same network built another way (MobileNet's {@code pooling("avg")}, or a GlobalAveragePooling2D of
     * another name on the same base, or a model cut with {@code upTo}) finds the features another notebook cached.
     */
    static String modelFingerprint(Functional model) {
        StringBuilder sb = new StringBuilder("graph|").append(model.inputShape()).append('|')
                .append(model.outputShape());
        appendGraph(model, sb);
        return sb.toString();
    }

    private static void appendGraph(Functional model, StringBuilder sb) {
        java.util.Map<Node, Integer> index = new java.util.IdentityHashMap<>();
        for (Node n : model.graphNodes()) {
            sb.append("\n").append(index.size()).append(" <-");
            for (Tensor t : n.inputs()) {
                Integer from = index.get(t.node());
                sb.append(' ').append(from == null ? "in" : from);
            }
            index.put(n, index.size());
            Layer l = n.layer();
            if (l instanceof Functional inner) {
                sb.append(" {");
                appendGraph(inner, sb);
                sb.append('}');
                continue;
            }
            sb.append(' ').append(l.config());
            if (l.getWeights() != null) {
                for (INDArray w : l.getWeights()) {
                    sb.append(':').append(java.util.Arrays.toString(w.shape())).append('=')
                            .append(w.sumNumber().doubleValue()).append('/').append(w.norm2Number().doubleValue());
                }
            }
        }
    }
}
