package io.transferlab.spark;

import org.apache.spark.sql.SparkSession;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** One local Spark for all the tests of the module (two cores, a task may be tried twice), and test images. */
final class SparkTestSupport {
    private static SparkSession spark;

    private SparkTestSupport() {
    }

    static synchronized SparkSession spark() {
        if (spark == null) {
            System.setProperty("transferlab.featureCache", "false"); // the single-machine side computes, never reads a cache
            spark = SparkSession.builder().master("local[2,2]").appName("transferlab-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.driver.host", "127.0.0.1")
                    .getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> spark.stop()));
        }
        return spark;
    }

    /**
     * Waits (at most 30 s) until no task runs on any executor. When a job fails, Spark marks it done while tasks
     * it cancelled may still be finishing, and writing under the job's output folder: a test's temporary folder
     * must not be deleted under them.
     */
    static void awaitNoRunningTasks() throws InterruptedException {
        if (spark == null) {
            return;
        }
        long end = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < end) {
            var tracker = spark.sparkContext().statusTracker();
            boolean busy = tracker.getActiveJobIds().length > 0;
            for (var e : tracker.getExecutorInfos()) {
                busy |= e.numRunningTasks() > 0;
            }
            if (!busy) {
                return;
            }
            Thread.sleep(50);
        }
    }

    /** $TL_SHARED, or null (the tests that need real images and weights then skip, saying why). */
    static Path shared() {
        String s = System.getenv("TL_SHARED");
        return s == null || s.isBlank() ? null : Path.of(s);
    }

    static final String NO_SHARED = "TL_SHARED is not set: the real MobileNet 0.25 weights and cats_and_dogs_filtered "
            + "are not available, skipping this real-data check (export TL_SHARED=/work/shared)";

    /** Copies the first n images (name order) of each class folder of {@code from} into {@code to}. */
    static void copyFirst(Path from, Path to, int n) throws IOException {
        try (Stream<Path> classes = Files.list(from)) {
            for (Path c : classes.filter(Files::isDirectory).sorted().toList()) {
                Path dest = Files.createDirectories(to.resolve(c.getFileName().toString()));
                List<Path> files;
                try (Stream<Path> s = Files.list(c)) {
                    files = s.filter(Files::isRegularFile).filter(p -> SparkFeatures.isImage(p.getFileName().toString()))
                            .sorted().limit(n).toList();
                }
                for (Path f : files) {
                    Files.copy(f, dest.resolve(f.getFileName().toString()));
                }
            }
        }
    }

    /** Writes n random-coloured PNG and JPEG images (40x30) into each named class folder. */
    static void writeImages(Path root, int n, long seed, String... classes) throws IOException {
        Random r = new Random(seed);
        for (String c : classes) {
            Path dir = Files.createDirectories(root.resolve(c));
            for (int i = 0; i < n; i++) {
                BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 30; y++) {
                    for (int x = 0; x < 40; x++) {
                        img.setRGB(x, y, r.nextInt(1 << 24));
                    }
                }
                String fmt = i % 2 == 0 ? "png" : "jpg";
                ImageIO.write(img, fmt, dir.resolve(c + "." + i + "." + fmt).toFile());
            }
        }
    }

    /** MobileNet 0.25 at 64x64 with random weights: a quick stand-in for tests about data, not about features. */
    static ModelSpec tinySpec() {
        return ModelSpec.of("MobileNet").option("alpha", "0.25").option("includeTop", "false").option("pooling", "avg")
                .targetSize(64, 64).batchSize(8);
    }

    /** The real MobileNet 0.25 (ImageNet, no top, average pooling) at 224, as notebook 07 runs it. */
    static ModelSpec realSpec(Path shared) {
        return ModelSpec.of("MobileNet").option("alpha", "0.25").option("includeTop", "false").option("pooling", "avg")
                .weights(shared.resolve("weights/mobilenet_2_5_224_tf_no_top.h5").toString()).targetSize(224, 224)
                .interpolation(io.transferlab.data.Images.Interpolation.BILINEAR).batchSize(16);
    }
}
