package io.transferlab.fault;

import io.transferlab.applications.Applications;
import io.transferlab.data.ClassMode;
import io.transferlab.data.ImageFolder;
import io.transferlab.data.Images;
import io.transferlab.inference.Features;
import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.train.ModelCheckpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad input and interruptions that must give a clear error or be survived with nothing lost (the {@code fault}
 * group: {@code mvn test -Dgroups=fault}). Each case failed before the reliability work: wrong-shaped labels
 * trained silently, a truncated JPEG was read as gray rows, a resumed run differed from a straight one, a kill
 * between the checkpoint's renames restarted training from scratch, a damaged feature cache served NaNs and a
 * replaced image got stale features.
 */
@Tag("fault")
class FaultInjectionTest {
    @TempDir
    Path tmp;

    @AfterEach
    void clean() {
        System.clearProperty("transferlab.fastHead");
        System.clearProperty("transferlab.cache");
    }

    // ---- labels ----

    private static Model head(int outputs) {
        Tensor in = Input(16);
        Tensor h = Dense(8, "relu").on(in);
        return Model.of(in, Dense(outputs, outputs == 1 ? "sigmoid" : "softmax").on(h));
    }

    @Test
    void labelsThatDoNotFitTheModelAreRefusedOnEveryPath() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 16);
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, 32, 2);
        INDArray binary = Nd4j.zeros(DataType.FLOAT, 32, 1);
        for (int i = 0; i < 32; i++) {
            oneHot.putScalar(i, i % 2, 1);
            binary.putScalar(i, 0, i % 2);
        }
        for (String fast : List.of("true", "false")) {
            System.setProperty("transferlab.fastHead", fast);
            Model sigmoid = head(1);
            sigmoid.compile(Optimizer.RMSprop(), "binary_crossentropy", "accuracy");
            var e = assertThrows(IllegalArgumentException.class, () -> sigmoid.fit(x, oneHot, 1, 16, null, null));
            assertTrue(e.getMessage().contains("ClassMode.BINARY") && e.getMessage().contains("2 columns"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> sigmoid.evaluate(x, oneHot));
            assertTrue(e.getMessage().contains("ClassMode.BINARY"), e.getMessage());

            Model softmax = head(2);
            softmax.compile(Optimizer.RMSprop(), "categorical_crossentropy", "accuracy");
            e = assertThrows(IllegalArgumentException.class, () -> softmax.fit(x, binary, 1, 16, null, null));
            assertTrue(e.getMessage().contains("ClassMode.CATEGORICAL") && e.getMessage().contains("1 column"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> softmax.evaluate(x, binary));
            assertTrue(e.getMessage().contains("ClassMode.CATEGORICAL"), e.getMessage());
        }
    }

    // ---- images ----

    /** A photo-like JPEG (smooth gradients and noise), so that a cut in its data falls in the middle of rows. */
    private static byte[] jpeg(int w, int h, long seed) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = (x * 255 / w + r.nextInt(40)) & 0xff;
                img.setRGB(x, y, (v << 16) | (((y * 255 / h) & 0xff) << 8) | (r.nextInt(256)));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    @Test
    void aTruncatedJpegIsRefusedAndSkippedWithAWarning() throws IOException {
        byte[] whole = jpeg(500, 375, 1);
        Path cats = Files.createDirectories(tmp.resolve("pics/cats"));
        Path dogs = Files.createDirectories(tmp.resolve("pics/dogs"));
        Files.write(cats.resolve("good.jpg"), whole);
        Files.write(dogs.resolve("good.jpg"), jpeg(500, 375, 2));
        Path cut = dogs.resolve("cut.jpg");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length * 3 / 10));

        var e = assertThrows(IOException.class, () -> Images.read(cut));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("cut.jpg"), e.getMessage());
        Images.read(cats.resolve("good.jpg")); // the whole file still reads

        PrintStream errBefore = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        ImageFolder folder;
        try {
            folder = ImageFolder.at(tmp.resolve("pics")).targetSize(32, 32).classMode(ClassMode.BINARY).build();
        } finally {
            System.setErr(errBefore);
        }
        assertEquals(2, folder.size(), "the truncated file is not one of the images");
        String warning = err.toString(StandardCharsets.UTF_8);
        assertTrue(warning.contains("cut.jpg"), "the warning names the file: " + warning);
    }

    @Test
    void aTooSmallImageForASizeAgnosticModelSaysTheSmallestSizeThatWorks() {
        Model m = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(-1, -1, 3).build();
        var e = assertThrows(IllegalArgumentException.class, () -> m.predict(Nd4j.rand(DataType.FLOAT, 1, 16, 16, 3)));
        var found = java.util.regex.Pattern.compile("smallest size that works is (\\d+)x\\1").matcher(e.getMessage());
        assertTrue(found.find() && e.getMessage().contains("conv_"), e.getMessage());
        int smallest = Integer.parseInt(found.group(1));
        assertEquals(1, m.predict(Nd4j.rand(DataType.FLOAT, 1, smallest, smallest, 3)).size(0)); // runs on the engine
        assertThrows(IllegalArgumentException.class,
                () -> m.predict(Nd4j.rand(DataType.FLOAT, 1, smallest - 1, smallest - 1, 3)));
    }

    // ---- the feature cache ----

    @Test
    void aDamagedOrStaleFeatureCacheIsNeverServed() throws IOException {
        System.setProperty("transferlab.cache", tmp.resolve("cache").toString());
        Path cats = Files.createDirectories(tmp.resolve("data/cats"));
        Path dogs = Files.createDirectories(tmp.resolve("data/dogs"));
        for (int i = 0; i < 3; i++) {
            Files.write(cats.resolve("c" + i + ".jpg"), jpeg(64, 48, 10 + i));
            Files.write(dogs.resolve("d" + i + ".jpg"), jpeg(64, 48, 20 + i));
        }
        Tensor in = Input(32, 32, 3);
        Model base = Model.of("tiny_base", in, GlobalAveragePooling2D().on(Conv2D(4, 3, "relu").on(in)));
        Supplier<ImageFolder> flow = () -> ImageFolder.at(tmp.resolve("data")).targetSize(32, 32).batchSize(4)
                .classMode(ClassMode.BINARY).shuffle(false).build();
        INDArray first = Features.extract(base, flow.get()).features();

        // 4 KB of random bytes inside the cached features, size unchanged
        Path cached;
        try (Stream<Path> s = Files.list(tmp.resolve("cache/features"))) {
            cached = s.filter(p -> p.toString().endsWith(".bin") && !p.toString().endsWith(".labels.bin")).findFirst().orElseThrow();
        }
        long size = Files.size(cached);
        try (RandomAccessFile f = new RandomAccessFile(cached.toFile(), "rw")) {
            byte[] junk = new byte[(int) Math.min(4096, size / 2)];
            new Random(3).nextBytes(junk);
            f.seek(size / 4);
            f.write(junk);
        }
        String out = captureOut(() -> assertEquals(first, Features.extract(base, flow.get()).features()));
        assertTrue(out.contains(cached.getFileName().toString()) && out.contains("checksum"), out);

        // another image put in the place of one, with the same size and modification time
        Path victim = cats.resolve("c0.jpg");
        FileTime mtime = Files.getLastModifiedTime(victim);
        byte[] other = Files.readAllBytes(dogs.resolve("d0.jpg"));
        byte[] same = java.util.Arrays.copyOf(other, (int) Files.size(victim)); // same length (JPEG data padded or cut)
        Path replacement = tmp.resolve("replacement.jpg");
        Files.write(replacement, same);
        Files.setLastModifiedTime(replacement, mtime);
        Files.move(replacement, victim, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertEquals(mtime, Files.getLastModifiedTime(victim));
        String again = captureOut(() -> Features.extract(base, flow.get()));
        assertFalse(again.contains("from the cache"), "a replaced image must not be served stale features: " + again);
    }

    private static String captureOut(Runnable r) {
        return io.transferlab.testutil.TestFiles.captureOut(r);
    }

    // ---- checkpoints: killed child processes ----

    /** Runs the child to completion or to its death; returns its exit code (137 when killed or halted). */
    private static int child(Path dir, Path out, String opt, String fast, String fault, long killAfterMillis)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g"));
        if (fault != null) {
            cmd.add("-Dtransferlab.checkpointFault=" + fault);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CheckpointChild.class.getName(),
                dir.toString(), out.toString(), "30", opt, fast));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolveSibling(dir.getFileName() + ".log").toFile()).start();
        if (killAfterMillis > 0 && !p.waitFor(killAfterMillis, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly(); // SIGKILL
        }
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the child did not finish in 300 s");
        }
        return p.exitValue();
    }

    private void resumedRunEqualsStraightRun(String opt, String fast) throws Exception {
        Path straightOut = tmp.resolve(opt + fast + "-straight.bin");
        assertEquals(0, child(tmp.resolve(opt + fast + "-straight"), straightOut, opt, fast, null, 0));
        INDArray straight = Nd4j.readBinary(straightOut.toFile());

        Path dir = tmp.resolve(opt + fast + "-killed");
        Path out = tmp.resolve(opt + fast + "-killed.bin");
        // deterministic kills at each point of a save, then kills at random moments, then a run to the end
        List<String> faults = List.of("before-manifest@2", "between-renames@3", "before-renames@4", "after-renames@5");
        for (String f : faults) {
            assertEquals(137, child(dir, out, opt, fast, f, 0), "the fault " + f + " should stop the child");
        }
        Random r = new Random(7);
        for (int k = 0; k < 3; k++) {
            child(dir, out, opt, fast, null, 2000 + r.nextInt(2500));
        }
        int rc = child(dir, out, opt, fast, null, 0);
        assertEquals(0, rc, "the last run should finish: see " + dir + ".log");
        String log = Files.readString(dir.resolveSibling(dir.getFileName() + ".log"));
        INDArray resumed = Nd4j.readBinary(out.toFile());
        double diff = resumed.sub(straight).amaxNumber().doubleValue();
        assertEquals(0.0, diff, "weights after killed-and-resumed runs differ from a straight run by " + diff + "\n" + log);
    }

    @Test
    void killedAndResumedTrainingEndsWhereAStraightRunEndsOnTheHeadPath() throws Exception {
        resumedRunEqualsStraightRun("adam", "true");
    }

    @Test
    void killedAndResumedTrainingEndsWhereAStraightRunEndsOnDl4j() throws Exception {
        resumedRunEqualsStraightRun("sgd", "false");
    }

    @Test
    void aDamagedCheckpointFallsBackToThePreviousCompleteOne() throws Exception {
        Path dir = tmp.resolve("ck");
        Path out = tmp.resolve("ck.bin");
        assertEquals(137, child(dir, out, "adam", "true", "after-renames@3", 0));
        Path params = dir.resolve("latest/params.bin");
        long size = Files.size(params);
        try (RandomAccessFile f = new RandomAccessFile(params.toFile(), "rw")) {
            f.setLength(size / 2); // truncated
        }
        ModelCheckpoint ck = ModelCheckpoint.at(dir);
        String said = captureOut(() -> assertEquals(2, ck.savedEpochs()));
        assertTrue(said.isEmpty() || said.contains("params.bin"), said);
        assertEquals(0, child(dir, out, "adam", "true", null, 0));
        String log = Files.readString(tmp.resolve("ck.log"));
        assertTrue(log.contains("latest") && log.contains("params.bin") && log.contains("checksum"), log);
        assertTrue(log.contains("after epoch 2"), "resumed from the previous checkpoint (epoch 2): " + log);
    }

    @Test
    void checkpointsOfBothEnginesNeverStartFromScratchSilently() throws Exception {
        Path dir = tmp.resolve("gone");
        Path out = tmp.resolve("gone.bin");
        assertEquals(137, child(dir, out, "adam", "true", "after-renames@2", 0));
        // both checkpoints damaged: an error that names them, not a fresh start
        for (String which : List.of("latest", "previous")) {
            Files.writeString(dir.resolve(which).resolve("history.csv"), "garbage");
        }
        assertNotEquals(0, child(dir, out, "adam", "true", null, 0));
        String log = Files.readString(tmp.resolve("gone.log"));
        assertTrue(log.contains("No complete checkpoint") && log.contains("clear()"), log);
    }
}
