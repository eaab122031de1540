package io.transferlab.spark;

import io.transferlab.data.ClassMode;
import io.transferlab.data.ImageFolder;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.inference.Features;
import io.transferlab.runtime.Backend;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Images per second of feature extraction (MobileNet 0.25 at 224, real weights) on the same images: the library's
 * single-process path (ImageFolder + Features.extract, cache off) against Spark in local[1] and local[2]. Each
 * path runs once to warm up (model built, plans compiled) and is then timed over {@code rounds} runs (median).
 * Arguments: TL_SHARED folder, images per class (default 50), rounds (default 3).
 */
public final class SparkBench {
    private SparkBench() {
    }

    public static void main(String[] args) throws Exception {
        Path shared = Path.of(args.length > 0 ? args[0] : System.getenv().getOrDefault("TL_SHARED", "/work/shared"));
        int perClass = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        System.setProperty("transferlab.featureCache", "false");
        Path tmp = Files.createTempDirectory("tl-spark-bench");
        Path images = tmp.resolve("images");
        copyFirst(shared.resolve("data/cats_and_dogs_filtered/train"), images, perClass);
        ModelSpec spec = ModelSpec.of("MobileNet").option("alpha", "0.25").option("includeTop", "false")
                .option("pooling", "avg").weights(shared.resolve("weights/mobilenet_2_5_224_tf_no_top.h5").toString())
                .targetSize(224, 224).interpolation(Images.Interpolation.BILINEAR).batchSize(32);
        int n = 2 * perClass;
        System.out.println("CPU: " + Backend.cpuName() + ", " + Runtime.getRuntime().availableProcessors()
                + " logical processors visible to Java; OMP_NUM_THREADS=" + System.getenv("OMP_NUM_THREADS"));
        System.out.println(Backend.describe());

        var model = spec.model();
        ImageFolder folder = ImageFolder.at(images).targetSize(224, 224).batchSize(32).classMode(ClassMode.BINARY)
                .preprocessing(Preprocessing.TF).interpolation(Images.Interpolation.BILINEAR).shuffle(false).build();
        Features.extract(model, folder); // warm-up
        double single = median(rounds, () -> Features.extract(model, folder));
        // one process uses every core (parallel decoding, oneDNN's threads): per core-second is over all of them
        report("single process, Features.extract", n, single, Runtime.getRuntime().availableProcessors());

        for (int cores : new int[]{1, 2}) {
            SparkSession spark = SparkSession.builder().master("local[" + cores + "]").appName("bench")
                    .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                    .config("spark.sql.files.maxPartitionBytes", String.valueOf(Math.max(1, folderBytes(images) / cores)))
                    .getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
            int[] run = {0};
            Runnable job = () -> SparkFeatures.featurize(spark, spec, images.toString(),
                    tmp.resolve("out-" + cores + "-" + run[0]++).toString(), false);
            job.run(); // warm-up
            double secs = median(rounds, job);
            report("Spark local[" + cores + "], SparkFeatures.featurize to Parquet", n, secs, cores);
            spark.stop();
        }
        System.out.println("Projection (not a measurement): images per core-second above x the cluster's cores; a "
                + "cluster's executors run one model per JVM, with network reads and Parquet writes added.");
    }

    private static long folderBytes(Path dir) throws Exception {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void report(String what, int n, double secs, int cores) {
        System.out.printf(Locale.ROOT, "%-55s %4d images  %7.2f s  %7.1f images/s  %6.1f images per core-second%n",
                what, n, secs, n / secs, n / secs / cores);
    }

    private static double median(int rounds, Runnable r) {
        double[] t = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        java.util.Arrays.sort(t);
        return t[rounds / 2];
    }

    private static void copyFirst(Path from, Path to, int n) throws Exception {
        try (var classes = Files.list(from)) {
            for (Path c : classes.filter(Files::isDirectory).sorted().toList()) {
                Path dest = Files.createDirectories(to.resolve(c.getFileName().toString()));
                try (var s = Files.list(c)) {
                    for (Path f : s.filter(p -> SparkFeatures.isImage(p.getFileName().toString())).sorted().limit(n).toList()) {
                        Files.copy(f, dest.resolve(f.getFileName().toString()));
                    }
                }
            }
        }
    }
}
