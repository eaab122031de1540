package io.transferlab.train;

import io.transferlab.data.Augmentation;
import io.transferlab.data.ArrayData;
import io.transferlab.data.Batch;
import io.transferlab.data.Dataset;
import io.transferlab.engine.Engines;
import io.transferlab.engine.api.TrainStep;
import io.transferlab.graph.Functional;
import io.transferlab.inference.Inference;
import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Node;
import io.transferlab.layers.RandomAugmentation;
import io.transferlab.layers.Tensor;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.runtime.Display;
import io.transferlab.runtime.FloatArrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The fit and evaluate loops behind Keras's {@code model.fit} and {@code model.evaluate}: Keras-like progress lines
 * per epoch (and a line every 15 s within long epochs), training loss and accuracy per epoch as Keras reports them
 * (mean over the epoch's batches, accuracy from the model's outputs before each update), validation after each
 * epoch, callbacks, and a clean stop when the thread is interrupted. The engine that trains is chosen by
 * {@link Engines#trainStep}; at the end of every epoch its weights are written back into the model's layers, so
 * validation, callbacks and checkpoints see the epoch's result; without callbacks, a step that can predict on its own
 * weights ({@link TrainStep#predicts}) validates on them and writes back once, when training ends.
 */
public final class Trainer {
    private static final long PROGRESS_EVERY_NANOS = 15_000_000_000L;
    private final Functional model;
    private final Optimizer optimizer;
    private final Loss loss;

    /** A trainer for a model compiled with this optimizer and loss (the optimizer may be null for evaluation only). */
    public Trainer(Functional model, Optimizer optimizer, Loss loss) {
        if (loss == null) {
            throw new IllegalStateException("Model '" + model.name() + "' is not compiled: call model.compile(optimizer, loss, \"accuracy\") first");
        }
        this.model = model;
        this.optimizer = optimizer;
        this.loss = loss;
    }

    /** Trains from epoch index initialEpoch (0-based; Keras's initial_epoch) up to epochs. */
    public History fit(Dataset train, int epochs, Dataset validation, int initialEpoch, Callback... callbacks) {
        if (optimizer == null) {
            throw new IllegalStateException("Model '" + model.name() + "' has no optimizer: call model.compile(optimizer, loss, \"accuracy\") first");
        }
        if (epochs <= 0) {
            throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        }
        Augmentation augment = inputAugmentation(model);
        History history = new History();
        try (TrainStep step = Engines.trainStep(model, optimizer, loss, augment != null)) {
            TrainingContext ctx = new TrainingContext(model, step, train, history, epochs);
            int start = initialEpoch;
            for (Callback cb : callbacks) {
                start = cb.onTrainBegin(ctx, start);
            }
            if (start >= epochs) {
                System.out.println("Nothing to train: already at epoch " + start + " of " + epochs);
            }
            runEpochs(step, ctx, train, validation, start, augment, callbacks);
        }
        return history;
    }

    /**
     * Ends training when the thread was interrupted (the notebook's stop button, Ctrl-C in a program), consuming
     * the interrupt: training handles it by stopping, and what it prints next must not meet a pending interrupt
     * (interruptible output channels, such as the kernel's, fail on one).
     */
    private static void stopIfInterrupted() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }

    private void runEpochs(TrainStep step, TrainingContext ctx, Dataset train, Dataset validation, int start,
                           Augmentation augment, Callback[] callbacks) {
        int epochs = ctx.epochs();
        History history = ctx.history();
        int steps = train.numBatches();
        try {
            for (int epoch = start; epoch < epochs; epoch++) {
                long t0 = System.nanoTime();
                // within an epoch: a bar updated in place in a notebook, a line every 15 s elsewhere
                Display.Progress progress = Display.progress(PROGRESS_EVERY_NANOS / 1_000_000);
                double lossSum = 0;
                long correct = 0;
                long seen = 0;
                int done = 0;
                for (Batch b : train) {
                    stopIfInterrupted();
                    if (b.size() == 0) {
                        continue;
                    }
                    Labels.check(model, loss, b.x(), b.y(), "fit");
                    // augmentation draws depend on the epoch and the step only, so a resumed run repeats them
                    INDArray x = augment == null ? b.x()
                            : augmentBatch(augment, b.x(), new Random(1_000_003L * (epoch + 1) + done));
                    TrainStep.Result r = step.fit(x, b.y());
                    lossSum += r.lossSum();
                    correct += r.correct();
                    seen += b.size();
                    done++;
                    stopIfInterrupted();
                    if (!progress.due()) {
                        continue;
                    }
                    String line = String.format("  epoch %d step %d/%d - %.0fs - loss: %.4f - accuracy: %.4f", epoch + 1,
                            done, steps, (System.nanoTime() - t0) / 1e9, lossSum / seen, (double) correct / seen);
                    progress.update(line, "<div><progress value=\"" + done + "\" max=\"" + steps
                            + "\" style=\"width:16em\"></progress><code>" + Display.escape(line) + "</code></div>");
                }
                progress.done();
                // the layers get the epoch's weights now when a callback may read them (a checkpoint, a user's
                // callback) or the step cannot validate on its own weights; else once, when training ends
                boolean onStep = callbacks.length == 0 && step.predicts();
                if (!onStep) {
                    step.writeBack();
                }
                double valLoss = Double.NaN;
                double valAcc = Double.NaN;
                if (validation != null) {
                    Evaluation ev = onStep ? evaluate(onStepBatches(validation), step::predict) : evaluate(validation);
                    valLoss = ev.loss();
                    valAcc = ev.accuracy();
                }
                EpochLog log = new EpochLog(epoch + 1, lossSum / Math.max(1, seen), (double) correct / Math.max(1, seen),
                        valLoss, valAcc, (System.nanoTime() - t0) / 1e9);
                history.add(log);
                // an interrupt now stops after this epoch, which is complete: printed and checkpointed first
                boolean interrupted = Thread.interrupted();
                System.out.println(log.line(epochs, steps));
                for (Callback cb : callbacks) {
                    cb.onEpochEnd(ctx, log);
                }
                boolean stop = false;
                for (Callback cb : callbacks) {
                    stop |= cb.stopTraining();
                }
                if (interrupted) {
                    throw new InterruptedException();
                }
                if (stop) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            history.markInterrupted();
            System.out.println("Training interrupted after " + history.size() + " complete epoch(s). The model keeps the "
                    + "weights of its last complete step; the history (and a ModelCheckpoint) holds the complete epochs.");
        } finally {
            step.writeBack();
            for (Callback cb : callbacks) {
                cb.onTrainEnd(ctx);
            }
        }
    }

    /**
     * Validation arrays for a step that predicts on its own weights (a classifier head), in batches of up to 32 MB
     * of features instead of the training batch: each batch reads all the head's weights once, so notebook 02's
     * 1,000 validation examples in batches of 20 read its 154 MB first layer 50 times an epoch (7.7 GB), in batches
     * of 212 five times. Every example's output is the same either way (up to the matrix product's rounding).
     */
    private static Dataset onStepBatches(Dataset validation) {
        if (!(validation instanceof ArrayData a) || a.size() == 0) {
            return validation;
        }
        long rowBytes = Math.max(1, a.x().length() / a.size() * 4);
        int rows = (int) Math.max(1, Math.min(a.size(), (32L << 20) / rowBytes));
        return rows > a.batchSize() ? a.inBatchesOf(rows) : validation;
    }

    /**
     * The model's random augmentation layers (RandomFlip, RandomRotation, RandomZoom) that sit straight after its
     * input, directly or inside a nested model made only of them; null when there are none.
     */
    static Augmentation inputAugmentation(Functional model) {
        List<RandomAugmentation> found = new ArrayList<>();
        Tensor t = model.input();
        boolean moved = true;
        while (moved) {
            moved = false;
            for (Node n : model.graphNodes()) {
                if (n.inputs().size() != 1 || n.inputs().get(0) != t) {
                    continue;
                }
                if (n.layer() instanceof RandomAugmentation r) {
                    found.add(r);
                } else if (n.layer() instanceof Functional inner && !inner.layers().isEmpty() && inner.layers().stream()
                        .allMatch(l -> l instanceof RandomAugmentation || l instanceof InputLayer)) {
                    inner.layers().stream().filter(l -> l instanceof RandomAugmentation)
                            .forEach(l -> found.add((RandomAugmentation) l));
                } else {
                    continue;
                }
                t = n.output();
                moved = true;
                break;
            }
        }
        if (found.isEmpty()) {
            return null;
        }
        Augmentation a = Augmentation.create();
        found.forEach(r -> r.addTo(a));
        return a;
    }

    /** Applies an augmentation to every image of an (n, h, w, 3) batch. */
    static INDArray augmentBatch(Augmentation a, INDArray x, Random rng) {
        int n = (int) x.size(0), h = (int) x.size(1), w = (int) x.size(2);
        int per = h * w * 3;
        float[] all = FloatArrays.copyOf(x);
        float[] out = new float[all.length];
        for (int i = 0; i < n; i++) {
            float[] img = Arrays.copyOfRange(all, i * per, (i + 1) * per);
            System.arraycopy(a.apply(img, h, w, rng), 0, out, i * per, per);
        }
        return FloatArrays.of(out, x.shape());
    }

    /** Loss and accuracy over a dataset, in inference mode. */
    public Evaluation evaluate(Dataset data) {
        return evaluate(data, x -> Inference.predict(model, x));
    }

    /** Loss and accuracy over a dataset, with the outputs of this predictor (the model's, or a training step's). */
    Evaluation evaluate(Dataset data, java.util.function.UnaryOperator<INDArray> predictor) {
        double lossSum = 0;
        List<INDArray> outs = new ArrayList<>();
        List<int[]> truths = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        int classes = (int) Math.max(2, model.outputShape().get(0));
        for (Batch b : data) {
            if (b.size() == 0) {
                continue;
            }
            Labels.check(model, loss, b.x(), b.y(), "evaluate");
            INDArray p = predictor.apply(b.x());
            lossSum += loss.sum(p, b.y());
            outs.add(p.dup());
            truths.add(classesOf(b.y()));
            files.addAll(b.files());
        }
        INDArray all = outs.isEmpty() ? Nd4j.empty() : Nd4j.vstack(outs.toArray(INDArray[]::new));
        int n = truths.stream().mapToInt(t -> t.length).sum();
        int[] truth = new int[n];
        int k = 0;
        for (int[] t : truths) {
            System.arraycopy(t, 0, truth, k, t.length);
            k += t.length;
        }
        int[] predicted = outs.isEmpty() ? new int[0] : classesOf(all);
        return new Evaluation(n == 0 ? Double.NaN : lossSum / n, all, truth, predicted, classes,
                files.size() == n ? files : List.of());
    }

    /** Class indices from labels or outputs: threshold 0.5 for one column, arg max otherwise. */
    static int[] classesOf(INDArray y) {
        int n = (int) y.size(0);
        int[] c = new int[n];
        if (y.size(1) == 1) {
            for (int i = 0; i < n; i++) {
                c[i] = y.getDouble(i, 0) > 0.5 ? 1 : 0;
            }
        } else {
            INDArray am = y.argMax(1);
            for (int i = 0; i < n; i++) {
                c[i] = (int) am.getLong(i);
            }
        }
        return c;
    }
}
