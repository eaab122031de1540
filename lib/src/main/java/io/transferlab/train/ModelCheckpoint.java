package io.transferlab.train;

import io.transferlab.data.Hashing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Keras's ModelCheckpoint, made for resuming: after every epoch it writes everything a straight run has at that
 * point (the weights, the optimizer state with its iteration count, the history, the epoch and the training data's
 * epoch counter, which fixes the order of examples and the augmentation and dropout draws) into a new folder, with
 * a manifest of SHA-256 checksums written last, then renames it to {@code latest} and keeps the checkpoint before
 * it as {@code previous}. Killing the process at any moment loses at most the running epoch. With
 * {@link #resume()}, fit continues from the last complete epoch; a checkpoint whose files do not match their
 * checksums (a truncated or overwritten file) is reported with its path and the previous one is used; training
 * never silently starts from scratch while a complete checkpoint exists.
 */
public final class ModelCheckpoint implements Callback {
    static final String MANIFEST = "manifest.sha256";
    static final String STATE = "trainer.txt";
    /**
     * For fault-injection tests: "POINT" or "POINT@EPOCH", a point of the save (before-manifest, before-renames,
     * between-renames, after-renames) at which the process halts at once, at every save or at that epoch's.
     */
    static final String FAULT_PROPERTY = "transferlab.checkpointFault";
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

    private Path previous() {
        return dir.resolve("previous");
    }

    /** The number of completed epochs in the newest complete checkpoint, or 0 when there is none. */
    public int savedEpochs() {
        Path usable = usable(false);
        if (usable == null) {
            return 0;
        }
        try {
            return History.fromCsv(usable.resolve("history.csv")).size();
        } catch (IOException e) {
            throw new UncheckedIOException("Unreadable checkpoint history " + usable.resolve("history.csv"), e);
        }
    }

    /**
     * The newest checkpoint whose files match their checksums: latest, else previous (saying why when talk is on).
     * Null when there is none at all.
     *
     * @throws IllegalStateException naming the folders when checkpoints exist but none is complete
     */
    private Path usable(boolean talk) {
        List<String> problems = new ArrayList<>();
        for (Path candidate : List.of(latest(), previous(), dir.resolve(".old"))) {
            if (!Files.isDirectory(candidate)) {
                continue;
            }
            String problem = verify(candidate);
            if (problem == null) {
                if (talk && !problems.isEmpty()) {
                    System.out.println("Using the previous checkpoint " + candidate + ": " + String.join("; ", problems));
                } else if (talk && !candidate.equals(latest())) {
                    System.out.println("Using the previous checkpoint " + candidate + ": " + latest()
                            + " is missing (the process stopped while saving)");
                }
                return candidate;
            }
            problems.add(candidate + " is damaged (" + problem + ")");
            if (talk) {
                System.out.println("Checkpoint " + candidate + " is damaged: " + problem);
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("No complete checkpoint in " + dir + ": " + String.join("; ", problems)
                    + ". Delete the folder (ModelCheckpoint.clear()) to train from the start.");
        }
        return null;
    }

    /** Null when every file of the checkpoint matches its manifest, else what is wrong. */
    private static String verify(Path checkpoint) {
        Path manifest = checkpoint.resolve(MANIFEST);
        try {
            if (!Files.exists(manifest)) {
                // written by a version without manifests: usable when its files are there
                return Files.exists(checkpoint.resolve("params.bin")) && Files.exists(checkpoint.resolve("history.csv"))
                        ? null : "no manifest and no params.bin/history.csv";
            }
            for (String line : Files.readAllLines(manifest)) {
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.split("  ", 2);
                if (parts.length != 2) {
                    return "manifest line '" + line + "' is malformed";
                }
                Path file = checkpoint.resolve(parts[1]);
                if (!Files.exists(file)) {
                    return file.getFileName() + " is missing";
                }
                if (!Hashing.sha256(file).equals(parts[0])) {
                    return file.getFileName() + " does not match its checksum (truncated or overwritten)";
                }
            }
            return null;
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    @Override
    public int onTrainBegin(TrainingContext ctx, int initialEpoch) {
        if (!resume) {
            return initialEpoch;
        }
        Path from = usable(true);
        if (from == null) {
            return initialEpoch;
        }
        try {
            ctx.step().restoreState(from);
            History saved = History.fromCsv(from.resolve("history.csv"));
            for (EpochLog e : saved.epochs()) {
                ctx.history().add(e);
            }
            Map<String, String> state = readState(from);
            if (state.containsKey("data_epoch") && ctx.train() != null) {
                ctx.train().setEpoch(Integer.parseInt(state.get("data_epoch")));
            }
            System.out.println("Resuming from checkpoint " + from + " after epoch " + saved.size());
            return Math.max(initialEpoch, saved.size());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read checkpoint " + from, e);
        }
    }

    private static Map<String, String> readState(Path checkpoint) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        Path f = checkpoint.resolve(STATE);
        if (Files.exists(f)) {
            for (String line : Files.readAllLines(f)) {
                String[] kv = line.split("=", 2);
                if (kv.length == 2) {
                    m.put(kv[0].trim(), kv[1].trim());
                }
            }
        }
        return m;
    }

    @Override
    public void onEpochEnd(TrainingContext ctx, EpochLog log) {
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempDirectory(dir, ".writing-");
            ctx.step().saveState(tmp);
            Files.writeString(tmp.resolve("history.csv"), ctx.history().toCsv());
            Files.writeString(tmp.resolve(STATE), "epoch=" + log.epoch() + "\n"
                    + (ctx.train() == null ? "" : "data_epoch=" + ctx.train().epoch() + "\n"));
            int epoch = log.epoch();
            fault("before-manifest", epoch);
            StringBuilder manifest = new StringBuilder();
            try (Stream<Path> files = Files.list(tmp)) {
                for (Path f : files.sorted().toList()) {
                    manifest.append(Hashing.sha256(f)).append("  ").append(f.getFileName()).append('\n');
                }
            }
            Files.writeString(tmp.resolve(MANIFEST), manifest.toString());
            fault("before-renames", epoch);
            if (Files.exists(latest())) {
                deleteTree(previous());
                Files.move(latest(), previous());
            }
            fault("between-renames", epoch);
            move(tmp, latest());
            fault("after-renames", epoch);
            cleanStaleWrites(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write checkpoint into " + dir, e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** Folders of saves that a killed process left half written. */
    private void cleanStaleWrites(Path ours) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".writing-") && !p.equals(ours)).toList()) {
                deleteTree(p);
            }
        }
        deleteTree(dir.resolve(".old")); // the name an earlier version used for the previous checkpoint
    }

    /** Halts the process at the named point of a save when the fault-injection property names it (tests only). */
    private static void fault(String point, int epoch) {
        String want = System.getProperty(FAULT_PROPERTY);
        if (want != null && (want.equals(point) || want.equals(point + "@" + epoch))) {
            Runtime.getRuntime().halt(137);
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
