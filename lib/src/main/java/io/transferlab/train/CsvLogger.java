package io.transferlab.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Keras's CSVLogger: rewrites a CSV file of the history after every epoch. */
public final class CsvLogger implements Callback {
    private final Path file;

    public CsvLogger(Path file) {
        this.file = file;
    }

    @Override
    public void onEpochEnd(TrainingContext ctx, EpochLog log) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.writeString(file, ctx.history().toCsv());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write training log " + file, e);
        }
    }
}
