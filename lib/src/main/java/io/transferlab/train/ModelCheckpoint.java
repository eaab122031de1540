package io.transferlab.train;


import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Keras's ModelCheckpoint, made for resuming: after every epoch it writes the weights, the optimizer state and the
 * history so far into a folder, atomically (a new folder is written, then renamed over the old one), so killing the
 * process loses at most the running epoch. With {@link #resume()}, fit starts from the last completed epoch
 * (Keras's initial_epoch) with the weights and optimizer state it had.
 */
public final class ModelCheckpoint implements Callback {
    private final Path dir;
    private boolean resume;

    private ModelCheckpoint(Path dir) {
        this.dir = dir;
    }

    /** Checkpoints into this folder (created if missing). */
    public static ModelCheckpoint at(Path dir) {
        return new ModelCheckpoint(dir);
    }

    public static ModelCheckpoint at(String dir) {
        return at(Path.of(dir));
    }

    /** Continue from the checkpoint in the folder, if there is one. */
    public ModelCheckpoint resume() {
        this.resume = true;
        return this;
    }

    /** Deletes the checkpoint folder, to start training afresh. Returns this checkpoint. */
    public ModelCheckpoint clear() {
        try {
            deleteTree(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete the checkpoint folder " + dir, e);
        }
        return this;
    }

    public Path directory() {
        return dir;
    }

    private Path latest() {
        return dir.resolve("latest");
    }

    /** The number of completed epochs in the checkpoint, or 0 when there is none. */
    public int savedEpochs() {
        Path h = latest().resolve("history.csv");
        if (!Files.exists(h)) {
            return 0;
        }
        try {
            return History.fromCsv(h).size();
        } catch (IOException e) {
            throw new UncheckedIOException("Unreadable checkpoint history " + h, e);
        }
    }

    @Override
    public int onTrainBegin(TrainingContext ctx, int initialEpoch) {
        if (!resume || !Files.exists(latest().resolve("params.bin"))) {
            return initialEpoch;
        }
        try {
            ctx.step().restoreState(latest());
            History saved = History.fromCsv(latest().resolve("history.csv"));
            for (EpochLog e : saved.epochs()) {
                ctx.history().add(e);
            }
            System.out.println("Resuming from checkpoint " + latest() + " after epoch " + saved.size());
            return Math.max(initialEpoch, saved.size());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read checkpoint " + latest(), e);
        }
    }

    @Override
    public void onEpochEnd(TrainingContext ctx, EpochLog log) {
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempDirectory(dir, ".writing-");
            ctx.step().saveState(tmp);
            Files.writeString(tmp.resolve("history.csv"), ctx.history().toCsv());
            Path old = dir.resolve(".old");
            deleteTree(old);
            if (Files.exists(latest())) {
                Files.move(latest(), old);
            }
            try {
                Files.move(tmp, latest(), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, latest());
            }
            deleteTree(old);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write checkpoint into " + dir, e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
