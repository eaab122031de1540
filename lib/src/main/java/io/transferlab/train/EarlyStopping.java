package io.transferlab.train;

/**
 * Keras's EarlyStopping: stops when a monitored metric has not improved for {@code patience} epochs (lower is
 * better for losses, higher for accuracies).
 */
public final class EarlyStopping implements Callback {
    private final String monitor;
    private final int patience;
    private double best = Double.NaN;
    private int wait;
    private boolean stop;

    public EarlyStopping(String monitor, int patience) {
        new EpochLog(0, 0, 0, 0, 0, 0).get(monitor);   // fails early on an unknown metric name
        if (patience < 0) {
            throw new IllegalArgumentException("patience must be >= 0, got " + patience);
        }
        this.monitor = monitor;
        this.patience = patience;
    }

    @Override
    public void onEpochEnd(TrainingContext ctx, EpochLog log) {
        double v = log.get(monitor);
        boolean lower = monitor.endsWith("loss");
        if (Double.isNaN(best) || (lower ? v < best : v > best)) {
            best = v;
            wait = 0;
        } else if (++wait > patience) {
            stop = true;
            System.out.printf("Early stopping: %s has not improved on %.4f for %d epochs%n", monitor, best, patience + 1);
        }
    }

    @Override
    public boolean stopTraining() {
        return stop;
    }
}
