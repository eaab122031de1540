package io.transferlab.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
            ComputationGraph net = ctx.network();
            INDArray params = Nd4j.readBinary(latest().resolve("params.bin").toFile());
            if (params.length() != net.params().length()) {
                throw new IllegalStateException("Checkpoint " + latest() + " holds " + params.length()
                        + " weights, but model '" + ctx.model().name() + "' has " + net.params().length()
                        + ": it was written by a different model. Use another folder or delete it.");
            }
            net.setParams(params.reshape(net.params().shape()));
            Path state = latest().resolve("updater.bin");
            INDArray view = net.getUpdater() == null ? null : net.getUpdater().getStateViewArray();
            if (Files.exists(state) && view != null) {
                INDArray s = Nd4j.readBinary(state.toFile());
                if (s.length() == view.length()) {
                    view.assign(s.reshape(view.shape()));
                }
            }
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
            ComputationGraph net = ctx.network();
            Nd4j.saveBinary(net.params(), tmp.resolve("params.bin").toFile());
            if (net.getUpdater() != null && net.getUpdater().getStateViewArray() != null) {
                Nd4j.saveBinary(net.getUpdater().getStateViewArray(), tmp.resolve("updater.bin").toFile());
            }
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
