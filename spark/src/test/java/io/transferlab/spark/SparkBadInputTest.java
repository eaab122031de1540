package io.transferlab.spark;

import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Data problems on Spark, with generated images and a small random-weights MobileNet (no shared data needed):
 * corrupt images skipped and counted, never failing the job; the input and output mistakes refused with messages
 * that name what is wrong; a retried task giving the same rows and counts.
 */
class SparkBadInputTest {
    @TempDir
    Path tmp;

    /** Before the temporary folder goes: tasks that a failed job cancelled may still be writing in it. */
    @AfterEach
    void letCancelledTasksFinish() throws InterruptedException {
        SparkTestSupport.awaitNoRunningTasks();
    }

    @Test
    void corruptImagesAreSkippedAndCountedInTheSummary() throws Exception {
        Path in = tmp.resolve("in");
        SparkTestSupport.writeImages(in, 6, 1, "cats", "dogs");
        byte[] jpeg = Files.readAllBytes(in.resolve("dogs/dogs.1.jpg"));
        Files.write(in.resolve("cats/truncated.jpg"), java.util.Arrays.copyOf(jpeg, jpeg.length / 2));
        Files.writeString(in.resolve("dogs/notes.png"), "this is text, not a PNG");
        Files.writeString(in.resolve("dogs/readme.txt"), "not an image name: never read");
        var s = SparkFeatures.featurize(SparkTestSupport.spark(), SparkTestSupport.tinySpec(), in.toString(),
                tmp.resolve("out").toString(), false);
        System.out.println("SUMMARY " + s);
        assertEquals(12, s.images());
        assertEquals(2, s.corrupt());
        assertEquals(2, s.corruptFiles().size());
        assertTrue(s.corruptFiles().get(0).endsWith("cats/truncated.jpg"), s.corruptFiles().toString());
        assertTrue(s.corruptFiles().get(1).endsWith("dogs/notes.png"), s.corruptFiles().toString());
        assertTrue(s.toString().contains("2 corrupt image(s) skipped"), s.toString());
        assertEquals(List.of("cats", "dogs"), s.classes());
        assertEquals(256, s.featureLength());
        List<Row> rows = SparkTestSupport.spark().read().parquet(tmp.resolve("out").toString())
                .select("label", "label_index").groupBy("label", "label_index").count().orderBy("label").collectAsList();
        assertEquals("[[cats,0,6], [dogs,1,6]]", rows.toString());
    }

    @Test
    void anInputWithoutImagesIsRefusedAndWritesNothing() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("empty/cats"));
        Files.writeString(in.resolve("a.txt"), "text");
        var e = assertThrows(IllegalArgumentException.class, () -> SparkFeatures.featurize(SparkTestSupport.spark(),
                SparkTestSupport.tinySpec(), tmp.resolve("empty").toString(), tmp.resolve("out").toString(), false));
        assertTrue(e.getMessage().startsWith("No images in " + tmp.resolve("empty")), e.getMessage());
        assertTrue(e.getMessage().contains("subfolders [cats] hold none"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out")));

        var missing = assertThrows(IllegalArgumentException.class, () -> SparkFeatures.featurize(SparkTestSupport.spark(),
                SparkTestSupport.tinySpec(), tmp.resolve("nowhere").toString(), tmp.resolve("out").toString(), false));
        assertTrue(missing.getMessage().contains("Image folder not found: " + tmp.resolve("nowhere")), missing.getMessage());
    }

    @Test
    void anInputWhoseImagesAreAllCorruptFailsAndLeavesNoOutput() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("bad/cats"));
        Files.writeString(in.resolve("a.jpg"), "not a jpeg");
        Files.writeString(in.resolve("b.png"), "not a png");
        var e = assertThrows(IllegalArgumentException.class, () -> SparkFeatures.featurize(SparkTestSupport.spark(),
                SparkTestSupport.tinySpec(), tmp.resolve("bad").toString(), tmp.resolve("out").toString(), false));
        assertTrue(e.getMessage().contains("None of the 2 images"), e.getMessage());
        assertTrue(e.getMessage().contains("a.jpg") && e.getMessage().contains("b.png"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out")), "no empty Parquet may stand as a result");
    }

    @Test
    void mismatchedClassFoldersAreNamed() throws Exception {
        SparkTestSupport.writeImages(tmp.resolve("train"), 1, 2, "cats", "dogs");
        SparkTestSupport.writeImages(tmp.resolve("val"), 1, 3, "cats", "horses");
        var e = assertThrows(IllegalArgumentException.class, () -> SparkFeatures.featurize(SparkTestSupport.spark(),
                SparkTestSupport.tinySpec(), tmp.resolve("train").toString(), tmp.resolve("val").toString(),
                tmp.resolve("f-train").toString(), tmp.resolve("f-val").toString(), false));
        assertTrue(e.getMessage().contains("only in training: [dogs], only in validation: [horses]"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("f-train")), "nothing is featurized before the classes are checked");
    }

    @Test
    void anExistingOutputIsRefusedUnlessOverwriteIsAsked() throws Exception {
        SparkTestSupport.writeImages(tmp.resolve("in"), 2, 4, "a", "b");
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("keep.txt"), "earlier results");
        var e = assertThrows(IllegalArgumentException.class, () -> SparkFeatures.featurize(SparkTestSupport.spark(),
                SparkTestSupport.tinySpec(), tmp.resolve("in").toString(), out.toString(), false));
        assertTrue(e.getMessage().contains("Output " + out + " already exists"), e.getMessage());
        assertTrue(Files.exists(out.resolve("keep.txt")));
        var s = SparkFeatures.featurize(SparkTestSupport.spark(), SparkTestSupport.tinySpec(), tmp.resolve("in").toString(),
                out.toString(), true);
        assertEquals(4, s.images());
        assertFalse(Files.exists(out.resolve("keep.txt")));
        assertEquals(4, SparkTestSupport.spark().read().parquet(out.toString()).count());
    }

    @Test
    void aMissingWeightsFileFailsTheJobNamingThePath() throws Exception {
        SparkTestSupport.writeImages(tmp.resolve("in"), 1, 5, "a", "b");
        String weights = tmp.resolve("no-such-weights.h5").toString();
        var spec = SparkTestSupport.tinySpec().weights(weights);
        var e = assertThrows(Exception.class, () -> SparkFeatures.featurize(SparkTestSupport.spark(), spec,
                tmp.resolve("in").toString(), tmp.resolve("out").toString(), false));
        String all = messages(e);
        assertTrue(all.contains("Weights file " + weights + " not found on host"), all);
    }

    @Test
    void unknownModelOptionsFailOnTheDriver() {
        var e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.of("MobileNet").option("alpah", "0.25"));
        assertTrue(e.getMessage().contains("No option 'alpah' for mobilenet") && e.getMessage().contains("alpha"),
                e.getMessage());
        var bad = assertThrows(IllegalArgumentException.class, () -> ModelSpec.of("MobileNet").option("includeTop", "maybe"));
        assertTrue(bad.getMessage().contains("includeTop takes true or false"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelSpec.of("NoSuchNet"));
    }

    /**
     * A task that fails after featurizing part of its partition is run again by Spark: the job's rows equal those
     * of a run without failure, bit for bit, and the counters count each image once.
     */
    @Test
    void aRetriedTaskGivesTheSameRowsAndCounts() throws Exception {
        SparkTestSupport.writeImages(tmp.resolve("in"), 10, 6, "a", "b");
        var spark = SparkTestSupport.spark();
        var listing = SparkFeatures.list(spark, tmp.resolve("in").toString());
        var spec = SparkTestSupport.tinySpec().batchSize(4);
        var plain = SparkFeatures.Counters.register(spark, "plain");
        List<Row> expected = sorted(SparkFeatures.featurize(SparkFeatures.images(spark, listing), spec, plain).collectAsList());
        var retried = SparkFeatures.Counters.register(spark, "retried");
        var featurized = SparkFeatures.featurize(SparkFeatures.images(spark, listing), spec, retried);
        FailFirstAttemptAfter.FAILURES.set(0);
        // collected as they come (an orderBy would run the tasks twice: once more to sample the sort's ranges)
        List<Row> got = sorted(featurized.mapPartitions(new FailFirstAttemptAfter(5),
                org.apache.spark.sql.Encoders.row(featurized.schema())).collectAsList());
        int tasks = SparkFeatures.images(spark, listing).rdd().getNumPartitions();
        assertEquals(tasks, FailFirstAttemptAfter.FAILURES.get(), "each task must have failed once");
        System.out.println("RETRY " + tasks + " task(s) failed once after 5 rows and were run again; rows equal");
        assertEquals(20, expected.size());
        assertEquals(expected.size(), got.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).getString(0), got.get(i).getString(0));
            assertEquals(expected.get(i).getList(3), got.get(i).getList(3), "features of " + got.get(i).getString(0));
        }
        assertEquals(20, plain.images().value());
        assertEquals(20, retried.images().value(), "the failed attempt's counts are not kept");
    }

    /** Throws in the first attempt of every task after passing on n rows. */
    static final class FailFirstAttemptAfter implements org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row> {
        /** Counted in this JVM (local mode: the executors are threads of it); a failed task's accumulators are dropped. */
        static final java.util.concurrent.atomic.AtomicInteger FAILURES = new java.util.concurrent.atomic.AtomicInteger();
        private final int n;

        FailFirstAttemptAfter(int n) {
            this.n = n;
        }

        @Override
        public java.util.Iterator<Row> call(java.util.Iterator<Row> rows) {
            boolean fail = org.apache.spark.TaskContext.get().attemptNumber() == 0;
            return new java.util.Iterator<>() {
                int passed;

                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Row next() {
                    if (fail && passed == n) {
                        FAILURES.incrementAndGet();
                        throw new IllegalStateException("injected failure of a first attempt");
                    }
                    passed++;
                    return rows.next();
                }
            };
        }
    }

    static List<Row> sorted(List<Row> rows) {
        return rows.stream().sorted(java.util.Comparator.comparing(r -> r.getString(0))).toList();
    }

    static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
