package io.transferlab.report;

import io.transferlab.train.Callback;
import io.transferlab.train.EpochLog;
import io.transferlab.train.TrainingContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Plays TensorBoard's part for scalars: after every epoch it writes the history so far to
 * {@code logDir/scalars.csv} and the accuracy and loss curves to {@code logDir/curves.png} (both replaced
 * atomically, so a viewer never sees half a file; JupyterLab's image viewer reloads it as it changes), and prints one
 * line with the best validation accuracy so far.
 */
public final class TrainingMonitor implements Callback {
    private final Path logDir;

    public TrainingMonitor(Path logDir) {
        this.logDir = logDir;
    }

    public Path curves() {
        return logDir.resolve("curves.png");
    }

    public Path scalars() {
        return logDir.resolve("scalars.csv");
    }

    @Override
    public void onEpochEnd(TrainingContext ctx, EpochLog log) {
        try {
            Files.createDirectories(logDir);
            Path csv = Files.createTempFile(logDir, ".scalars", ".csv");
            Files.writeString(csv, ctx.history().toCsv());
            Files.move(csv, scalars(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Path png = Files.createTempFile(logDir, ".curves", ".png");
            Plots.save(Plots.accuracyAndLoss(ctx.history()), png);
            Files.move(png, curves(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (!Double.isNaN(log.valAccuracy())) {
                EpochLog best = ctx.history().best("val_accuracy");
                System.out.printf("  monitor: best val_accuracy %.4f at epoch %d; curves in %s%n", best.valAccuracy(),
                        best.epoch(), curves());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the training monitor's files into " + logDir, e);
        }
    }
}
