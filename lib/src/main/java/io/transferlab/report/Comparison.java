package io.transferlab.report;

import io.transferlab.train.EpochLog;
import io.transferlab.train.History;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Training strategies side by side (frozen features, fine-tuning, from scratch...): best and final validation
 * accuracy, seconds per epoch, epochs, as a Tablesaw table, and their validation curves on one chart.
 */
public final class Comparison implements io.transferlab.runtime.Display.Html {
    private final List<String> names = new ArrayList<>();
    private final List<History> histories = new ArrayList<>();
    private final List<Long> trainable = new ArrayList<>();

    /** Adds a strategy's training history and how many weights it trained. */
    public Comparison add(String strategy, History history, long trainableParams) {
        if (history.size() == 0) {
            throw new IllegalArgumentException("Strategy '" + strategy + "' has an empty history");
        }
        names.add(strategy);
        histories.add(history);
        trainable.add(trainableParams);
        return this;
    }

    /** Mean seconds per epoch of a strategy. */
    public double secondsPerEpoch(String strategy) {
        int i = names.indexOf(strategy);
        if (i < 0) {
            throw new IllegalArgumentException("No strategy '" + strategy + "'; have " + names);
        }
        return histories.get(i).epochs().stream().mapToDouble(EpochLog::seconds).average().orElse(Double.NaN);
    }

    public Table table() {
        Table t = Table.create("strategies",
                StringColumn.create("strategy", names),
                DoubleColumn.create("best val_accuracy", histories.stream().mapToDouble(h -> h.best("val_accuracy").valAccuracy())),
                DoubleColumn.create("final val_accuracy", histories.stream().mapToDouble(h -> h.last().valAccuracy())),
                DoubleColumn.create("seconds/epoch", names.stream().mapToDouble(this::secondsPerEpoch)),
                IntColumn.create("epochs", histories.stream().mapToInt(History::size).toArray()),
                DoubleColumn.create("trainable params", trainable.stream().mapToDouble(Long::doubleValue)));
        t.doubleColumn("best val_accuracy").setPrintFormatter(new java.text.DecimalFormat("0.000"), "");
        t.doubleColumn("final val_accuracy").setPrintFormatter(new java.text.DecimalFormat("0.000"), "");
        t.doubleColumn("seconds/epoch").setPrintFormatter(new java.text.DecimalFormat("0.0"), "");
        t.doubleColumn("trainable params").setPrintFormatter(new java.text.DecimalFormat("#,##0"), "");
        return t;
    }

    /** The strategies as an HTML table (a notebook shows a Comparison at the end of a cell this way). */
    @Override
    public String toHtml() {
        return Tables.html(table());
    }

    public BufferedImage plot() {
        return Plots.compare("Validation accuracy by strategy", "val_accuracy", names, histories);
    }

    @Override
    public String toString() {
        return table().printAll();
    }
}
