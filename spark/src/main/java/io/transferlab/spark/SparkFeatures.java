package io.transferlab.spark;

import io.transferlab.data.Images;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.apache.spark.sql.functions.*;

/**
 * Feature extraction on Spark: images in class folders (flow_from_directory's layout, any Hadoop file system) read
 * with Spark's binaryFile source, decoded, preprocessed and run through the frozen base on the executors (one model
 * per executor JVM, see {@link ModelSpec}), written to Parquet as (path, label, label_index, features array&lt;float&gt;);
 * then read back on the driver as INDArrays to train a head with the library's own fit.
 *
 * <pre>
 * var spec = ModelSpec.of("MobileNet").option("alpha", "0.25").option("includeTop", "false").option("pooling", "avg")
 *         .weights(h5).targetSize(224, 224);
 * var summary = SparkFeatures.featurize(spark, spec, "hdfs:///data/train", "hdfs:///features/train", false);
 * var train = SparkFeatures.read(spark, "hdfs:///features/train");
 * </pre>
 */
public final class SparkFeatures {
    private SparkFeatures() {
    }

    /** The input's class folders and image count, found by listing on the driver (nothing is read yet). */
    public record Listing(String root, String qualifiedRoot, List<String> classes, TreeMap<String, Integer> imagesPerClass,
                          int imagesOutsideClassFolders) {
        public int images() {
            return imagesPerClass.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /** What a featurization job did: the job's summary. */
    public record Summary(String input, String output, List<String> classes, long images, long corrupt,
                          List<String> corruptFiles, int featureLength, double seconds) {
        public double imagesPerSecond() {
            return images / seconds;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "Featurized %d images of %d classes %s from %s into %s: %d features each, "
                            + "%.1f s (%.1f images/s); %d corrupt image(s) skipped%s", images, classes.size(), classes,
                    input, output, featureLength, seconds, imagesPerSecond(), corrupt,
                    corrupt == 0 ? "" : ": " + String.join(", ", corruptFiles.stream().limit(10).toList())
                            + (corruptFiles.size() > 10 ? ", ..." : ""));
        }
    }

    /** Features read back from Parquet, ordered by class then path (ImageFolder's order with shuffle off). */
    public record FeatureTable(INDArray features, INDArray labels, List<String> paths, int[] labelIndex) {
        public int size() {
            return paths.size();
        }
    }

    static boolean isImage(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        int dot = n.lastIndexOf('.');
        return dot >= 0 && Images.EXTENSIONS.contains(n.substring(dot + 1));
    }

    /**
     * Lists a folder of class folders: classes are its subfolders in name order (cats = 0, dogs = 1, as
     * flow_from_directory), each image belongs to the class folder it is in (at any depth below it). Fails, naming
     * the folder, when it is missing or holds no image.
     */
    public static Listing list(SparkSession spark, String root) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(root);
        try {
            FileSystem fs = dir.getFileSystem(conf);
            if (!fs.exists(dir) || !fs.getFileStatus(dir).isDirectory()) {
                throw new IllegalArgumentException("Image folder not found: " + root + " (expected one subfolder per "
                        + "class, e.g. " + new org.apache.hadoop.fs.Path(dir, "cats") + ")");
            }
            String qualified = fs.makeQualified(dir).toString();
            TreeSet<String> classes = new TreeSet<>();
            for (FileStatus s : fs.listStatus(dir)) {
                String n = s.getPath().getName();
                if (s.isDirectory() && !n.startsWith(".") && !n.startsWith("_")) {
                    classes.add(n);
                }
            }
            TreeMap<String, Integer> counts = new TreeMap<>();
            classes.forEach(c -> counts.put(c, 0));
            int outside = 0;
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
            while (it.hasNext()) {
                LocatedFileStatus f = it.next();
                if (!isImage(f.getPath().getName()) || f.getPath().getName().startsWith(".")
                        || f.getPath().getName().startsWith("_")) {
                    continue;
                }
                String c = classOf(qualified, fs.makeQualified(f.getPath()).toString());
                if (c != null && counts.containsKey(c)) {
                    counts.merge(c, 1, Integer::sum);
                } else {
                    outside++;
                }
            }
            int total = counts.values().stream().mapToInt(Integer::intValue).sum();
            if (total == 0) {
                throw new IllegalArgumentException("No images in " + root + ": expected files ending in "
                        + new TreeSet<>(Images.EXTENSIONS) + " in one subfolder per class"
                        + (classes.isEmpty() ? " (it has no subfolders)" : " (subfolders " + classes + " hold none)")
                        + (outside > 0 ? "; " + outside + " image(s) lie outside class folders" : ""));
            }
            return new Listing(root, qualified, List.copyOf(classes), counts, outside);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + root, e);
        }
    }

    /** The class folder of a file below a root (the first folder under it), or null for a file in the root itself. */
    static String classOf(String qualifiedRoot, String qualifiedFile) {
        String prefix = qualifiedRoot.endsWith("/") ? qualifiedRoot : qualifiedRoot + "/";
        if (!qualifiedFile.startsWith(prefix)) {
            return null;
        }
        String rel = qualifiedFile.substring(prefix.length());
        int slash = rel.indexOf('/');
        return slash <= 0 ? null : rel.substring(0, slash);
    }

    /** Fails unless both folders have the same class folders, naming both and the difference. */
    public static void requireSameClasses(Listing train, Listing validation) {
        if (!train.classes().equals(validation.classes())) {
            var onlyTrain = new TreeSet<>(train.classes());
            onlyTrain.removeAll(validation.classes());
            var onlyVal = new TreeSet<>(validation.classes());
            onlyVal.removeAll(train.classes());
            throw new IllegalArgumentException("Class folders differ: " + train.root() + " has " + train.classes() + ", "
                    + validation.root() + " has " + validation.classes() + " (only in training: " + onlyTrain
                    + ", only in validation: " + onlyVal + "). Training and validation need the same classes.");
        }
    }

    /**
     * The images of a listed folder as a DataFrame (path, content, label, label_index), read lazily with Spark's
     * binaryFile source (recursive); label is the class folder's name, label_index its index in name order.
     */
    public static Dataset<Row> images(SparkSession spark, Listing listing) {
        Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(listing.root());
        String prefix = listing.qualifiedRoot().endsWith("/") ? listing.qualifiedRoot() : listing.qualifiedRoot() + "/";
        Column rel = expr("substring(path, " + (prefix.length() + 1) + ")");
        Column label = substring_index(rel, "/", 1);
        Column classes = array(listing.classes().stream().map(c -> lit(c)).toArray(Column[]::new));
        return files
                .filter(col("path").startsWith(prefix).and(instr(rel, "/").gt(0))
                        .and(lower(col("path")).rlike("\\.(" + String.join("|", new TreeSet<>(Images.EXTENSIONS)) + ")$")))
                .withColumn("label", label)
                .withColumn("label_index", array_position(classes, label).minus(1).cast("int"))
                .filter(col("label_index").geq(0))
                .select(col("path"), col("content"), col("label"), col("label_index"));
    }

    /** The accumulators a featurization reports through. */
    public record Counters(LongAccumulator images, LongAccumulator corrupt, CollectionAccumulator<String> corruptFiles) {
        public static Counters register(SparkSession spark, String name) {
            var sc = spark.sparkContext();
            return new Counters(sc.longAccumulator(name + ": images featurized"),
                    sc.longAccumulator(name + ": corrupt images skipped"),
                    sc.collectionAccumulator(name + ": corrupt image paths"));
        }
    }

    /**
     * Lazily adds the features column (array&lt;float&gt;) to a DataFrame with a path and a content (bytes) column, such
     * as {@link #images} or one with labels from a column of its own; the content column is dropped.
     */
    public static Dataset<Row> featurize(Dataset<Row> images, ModelSpec spec, Counters counters) {
        StructType in = images.schema();
        StructType out = FeaturizePartition.outputSchema(in, "content", "features", FeaturizePartition.Output.ARRAY);
        var fn = new FeaturizePartition(spec, in, "path", "content", FeaturizePartition.Output.ARRAY,
                counters.images(), counters.corrupt(), counters.corruptFiles());
        return images.mapPartitions(fn, Encoders.row(out));
    }

    /**
     * Featurizes a folder of class folders into Parquet at {@code output}. Refuses an output that exists unless
     * {@code overwrite}; fails when the input has no images, or when every image was corrupt (and then leaves no
     * output behind). The summary counts the corrupt images skipped.
     */
    public static Summary featurize(SparkSession spark, ModelSpec spec, String input, String output, boolean overwrite) {
        checkOutput(spark, output, overwrite);
        Listing listing = list(spark, input);
        return write(spark, spec, listing, output, overwrite);
    }

    /**
     * Featurizes training and validation folders (checked first to have the same class folders) into two
     * Parquet outputs.
     */
    public static Summary[] featurize(SparkSession spark, ModelSpec spec, String train, String validation,
                                      String trainOutput, String validationOutput, boolean overwrite) {
        checkOutput(spark, trainOutput, overwrite);
        checkOutput(spark, validationOutput, overwrite);
        Listing t = list(spark, train);
        Listing v = list(spark, validation);
        requireSameClasses(t, v);
        return new Summary[]{write(spark, spec, t, trainOutput, overwrite), write(spark, spec, v, validationOutput, overwrite)};
    }

    private static Summary write(SparkSession spark, ModelSpec spec, Listing listing, String output, boolean overwrite) {
        Counters c = Counters.register(spark, output);
        long t0 = System.nanoTime();
        featurize(images(spark, listing), spec, c).write().mode(overwrite ? "overwrite" : "errorifexists").parquet(output);
        double secs = (System.nanoTime() - t0) / 1e9;
        long n = c.images().value();
        List<String> bad = new ArrayList<>(c.corruptFiles().value());
        bad.sort(null);
        if (n == 0) {
            delete(spark, output);
            throw new IllegalArgumentException("None of the " + listing.images() + " images in " + listing.root()
                    + " could be decoded (" + bad.size() + " corrupt: " + String.join(", ", bad.stream().limit(10).toList())
                    + "); nothing written to " + output);
        }
        int length = spark.read().parquet(output).select(size(col("features"))).first().getInt(0);
        var s = new Summary(listing.root(), output, listing.classes(), n, c.corrupt().value(), List.copyOf(bad), length, secs);
        System.out.println(s);
        return s;
    }

    /** Refuses an output folder that exists, unless overwriting was asked for. */
    static void checkOutput(SparkSession spark, String output, boolean overwrite) {
        if (overwrite) {
            return;
        }
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(output);
            if (p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p)) {
                throw new IllegalArgumentException("Output " + output + " already exists: choose another folder, delete "
                        + "it, or ask for overwrite (--overwrite)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot check " + output, e);
        }
    }

    private static void delete(SparkSession spark, String output) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(output);
            p.getFileSystem(spark.sparkContext().hadoopConfiguration()).delete(p, true);
        } catch (IOException e) {
            System.err.println("Warning: could not remove " + output + ": " + e.getMessage());
        }
    }

    /**
     * Reads featurized Parquet back into the driver: features (N, F) and labels, in class then path order; labels
     * as (N, 1) 0/1 for two classes (Keras's binary class mode), one-hot (N, C) otherwise.
     */
    public static FeatureTable read(SparkSession spark, String parquet, int numClasses) {
        List<Row> rows = spark.read().parquet(parquet).select("path", "label_index", "features")
                .orderBy("label_index", "path").collectAsList();
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("No features in " + parquet);
        }
        int n = rows.size();
        int f = rows.get(0).getList(2).size();
        float[] x = new float[n * f];
        int[] idx = new int[n];
        List<String> paths = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Row r = rows.get(i);
            paths.add(r.getString(0));
            idx[i] = r.getInt(1);
            List<Float> v = r.getList(2);
            if (v.size() != f) {
                throw new IllegalStateException(parquet + ": row " + r.getString(0) + " has " + v.size()
                        + " features, the first " + f);
            }
            for (int j = 0; j < f; j++) {
                x[i * f + j] = v.get(j);
            }
        }
        INDArray y;
        if (numClasses == 2) {
            float[] b = new float[n];
            for (int i = 0; i < n; i++) {
                b[i] = idx[i];
            }
            y = Nd4j.create(b, new long[]{n, 1}, 'c');
        } else {
            y = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, numClasses);
            for (int i = 0; i < n; i++) {
                y.putScalar(i, idx[i], 1f);
            }
        }
        return new FeatureTable(Nd4j.create(x, new long[]{n, f}, 'c'), y, List.copyOf(paths), idx);
    }

    /**
     * Notebook 07's head on pooled features, trained on the driver with the library's own fit: Dropout(0.2) then
     * Dense(1, sigmoid) for two classes (Dense(C, softmax) otherwise), Adam(1e-3), batch 32, validation each epoch.
     */
    public static io.transferlab.train.History trainHead(io.transferlab.models.Model head, FeatureTable train,
                                                         FeatureTable validation, int epochs) {
        return head.fit(train.features(), train.labels(), epochs, 32, validation.features(), validation.labels());
    }

    /** The head {@link #trainHead} trains, compiled: for F features and C classes. */
    public static io.transferlab.models.Model head(long features, int numClasses) {
        var m = io.transferlab.models.Sequential.withInput(features).add(io.transferlab.layers.Layers.Dropout(0.2))
                .add(numClasses == 2 ? io.transferlab.layers.Layers.Dense(1, "sigmoid")
                        : io.transferlab.layers.Layers.Dense(numClasses, "softmax"));
        m.compile(io.transferlab.optimizers.Optimizer.Adam(1e-3),
                numClasses == 2 ? "binary_crossentropy" : "categorical_crossentropy", "accuracy");
        return m;
    }
}
