package io.transferlab.train;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Keras's History: loss, accuracy, val_loss and val_accuracy per epoch. {@link #table()} gives it as a Tablesaw
 * table; {@code history.get("val_accuracy")} as Keras's history.history['val_accuracy'].
 */
public final class History implements io.transferlab.runtime.Display.Html {
    private final List<EpochLog> epochs = new ArrayList<>();
    private boolean interrupted;

    public void add(EpochLog log) {
        epochs.add(log);
    }

    public List<EpochLog> epochs() {
        return Collections.unmodifiableList(epochs);
    }

    public int size() {
        return epochs.size();
    }

    /** Values of one metric per epoch: "loss", "accuracy", "val_loss", "val_accuracy". */
    public double[] get(String key) {
        return epochs.stream().mapToDouble(e -> e.get(key)).toArray();
    }

    public EpochLog last() {
        if (epochs.isEmpty()) {
            throw new IllegalStateException("History is empty: no epoch has finished");
        }
        return epochs.get(epochs.size() - 1);
    }

    /** The epoch with the best value of a metric (lowest for losses, highest otherwise). */
    public EpochLog best(String key) {
        boolean lower = key.endsWith("loss");
        return epochs.stream().reduce((a, b) -> {
            double va = a.get(key), vb = b.get(key);
            return (lower ? vb < va : vb > va) ? b : a;
        }).orElseThrow(() -> new IllegalStateException("History is empty"));
    }

    /** Whether training stopped early because it was interrupted. */
    public boolean interrupted() {
        return interrupted;
    }

    void markInterrupted() {
        interrupted = true;
    }

    /** Epoch, loss, accuracy, val_loss, val_accuracy, seconds. */
    public Table table() {
        Table t = Table.create("history",
                IntColumn.create("epoch", epochs.stream().mapToInt(EpochLog::epoch).toArray()),
                DoubleColumn.create("loss", get("loss")),
                DoubleColumn.create("accuracy", get("accuracy")),
                DoubleColumn.create("val_loss", get("val_loss")),
                DoubleColumn.create("val_accuracy", get("val_accuracy")),
                DoubleColumn.create("seconds", epochs.stream().mapToDouble(EpochLog::seconds).toArray()));
        return t;
    }

    /** As CSV, Keras CSVLogger's columns plus seconds. */
    public String toCsv() {
        StringBuilder sb = new StringBuilder("epoch,loss,accuracy,val_loss,val_accuracy,seconds\n");
        for (EpochLog e : epochs) {
            sb.append(String.format(Locale.ROOT, "%d,%s,%s,%s,%s,%.3f%n", e.epoch(), e.loss(), e.accuracy(), e.valLoss(),
                    e.valAccuracy(), e.seconds()));
        }
        return sb.toString();
    }

    /** Reads what {@link #toCsv()} wrote. */
    public static History fromCsv(Path file) throws IOException {
        History h = new History();
        List<String> lines = Files.readAllLines(file);
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",");
            if (f.length < 6) {
                throw new IOException("Malformed history line in " + file + ": " + line);
            }
            h.add(new EpochLog(Integer.parseInt(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                    Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5])));
        }
        return h;
    }

    @Override
    public String toString() {
        return table().print(Math.max(epochs.size(), 1));
    }

    /** The epochs as an HTML table (a notebook shows a History at the end of a cell this way). */
    @Override
    public String toHtml() {
        java.util.List<java.util.List<String>> rows = new java.util.ArrayList<>();
        for (EpochLog e : epochs) {
            rows.add(java.util.List.of(Integer.toString(e.epoch()), String.format(Locale.ROOT, "%.4f", e.loss()),
                    String.format(Locale.ROOT, "%.4f", e.accuracy()), String.format(Locale.ROOT, "%.4f", e.valLoss()),
                    String.format(Locale.ROOT, "%.4f", e.valAccuracy()), String.format(Locale.ROOT, "%.1f", e.seconds())));
        }
        return io.transferlab.runtime.Display.table(java.util.List.of("epoch", "loss", "accuracy", "val_loss",
                "val_accuracy", "seconds"), rows) + (interrupted ? "<p>(interrupted)</p>" : "");
    }
}
