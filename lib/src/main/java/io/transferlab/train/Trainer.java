package io.transferlab.train;

import io.transferlab.data.Batch;
import io.transferlab.data.Dataset;
import io.transferlab.graph.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The fit and evaluate loops behind {@link Model#fit} and {@link Model#evaluate}: Keras-like progress lines per
 * epoch (and a line every 15 s within long epochs), training loss and accuracy per epoch as Keras reports them
 * (mean over the epoch's batches, accuracy from the model's outputs before each update), validation after each
 * epoch, callbacks, and a clean stop when the thread is interrupted.
 */
public final class Trainer {
    private static final long PROGRESS_EVERY_NANOS = 15_000_000_000L;
    private final Model model;

    public Trainer(Model model) {
        this.model = model;
    }

    private void requireCompiled() {
        if (model.loss() == null) {
            throw new IllegalStateException("Model '" + model.name() + "' is not compiled: call model.compile(optimizer, loss, \"accuracy\") first");
        }
    }

    /** Trains from epoch index initialEpoch (0-based; Keras's initial_epoch) up to epochs. */
    public History fit(Dataset train, int epochs, Dataset validation, int initialEpoch, Callback... callbacks) {
        requireCompiled();
        if (epochs <= 0) {
            throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        }
        ComputationGraph net = model.network();
        History history = new History();
        TrainingContext ctx = new TrainingContext(model, net, history, epochs);
        int start = initialEpoch;
        for (Callback cb : callbacks) {
            start = cb.onTrainBegin(ctx, start);
        }
        if (start >= epochs) {
            System.out.println("Nothing to train: already at epoch " + start + " of " + epochs);
        }
        int steps = train.numBatches();
        io.transferlab.data.Augmentation augment = inputAugmentation(model);
        TrainingAccuracy accuracy = new TrainingAccuracy(net);
        net.addListeners(accuracy);
        // a classifier head on features trains on its own fast path (see DenseHeadTrainer), the rest on DL4J
        String[] why = new String[1];
        DenseHeadTrainer head = augment == null && DenseHeadTrainer.enabled() ? DenseHeadTrainer.forModel(model, net, why) : null;
        if (io.transferlab.runtime.Backend.verbose()) {
            System.out.println("Training path: " + (head != null ? "dense head (" + io.transferlab.inference.MatMul.defaultEngine() + ")" : "DL4J" + (why[0] == null ? "" : " (" + why[0] + ")")));
        }
        long augmentSeed = 1_000_003L * (start + 1);
        try {
            for (int epoch = start; epoch < epochs; epoch++) {
                long t0 = System.nanoTime();
                long lastPrint = t0;
                double lossSum = 0;
                long correct = 0;
                long seen = 0;
                int step = 0;
                for (Batch b : train) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new InterruptedException();
                    }
                    if (b.size() == 0) {
                        continue;
                    }
                    INDArray x = augment == null ? b.x() : augmentBatch(augment, b.x(), new java.util.Random(
                            augmentSeed++));
                    if (head != null) {
                        double[] r = head.step(x, b.y());
                        lossSum += r[0];
                        correct += (long) r[1];
                    } else {
                        accuracy.labels = b.y();
                        accuracy.correct = -1;
                        net.fit(new DataSet(x, b.y()));
                        if (accuracy.correct < 0) {
                            // the listener saw no forward pass (should not happen): measure separately
                            accuracy.correct = Loss.correct(net.outputSingle(false, x), b.y());
                        }
                        correct += accuracy.correct;
                        lossSum += net.score() * b.size();
                    }
                    seen += b.size();
                    step++;
                    long now = System.nanoTime();
                    if (now - lastPrint > PROGRESS_EVERY_NANOS) {
                        System.out.printf("  epoch %d step %d/%d - %.0fs - loss: %.4f - accuracy: %.4f%n", epoch + 1, step,
                                steps, (now - t0) / 1e9, lossSum / seen, (double) correct / seen);
                        lastPrint = now;
                    }
                }
                if (head != null) {
                    head.writeTo(net);
                }
                double valLoss = Double.NaN;
                double valAcc = Double.NaN;
                if (validation != null) {
                    Evaluation ev = evaluate(validation);
                    valLoss = ev.loss();
                    valAcc = ev.accuracy();
                }
                EpochLog log = new EpochLog(epoch + 1, lossSum / Math.max(1, seen), (double) correct / Math.max(1, seen),
                        valLoss, valAcc, (System.nanoTime() - t0) / 1e9);
                history.add(log);
                System.out.println(log.line(epochs, steps));
                for (Callback cb : callbacks) {
                    cb.onEpochEnd(ctx, log);
                }
                boolean stop = false;
                for (Callback cb : callbacks) {
                    stop |= cb.stopTraining();
                }
                if (stop) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            history.markInterrupted();
            System.out.println("Training interrupted after " + history.size() + " complete epoch(s); the running epoch was "
                    + "dropped. Completed epochs are kept (and checkpointed, with a ModelCheckpoint).");
        } finally {
            if (head != null) {
                head.close();
            }
            java.util.List<org.deeplearning4j.optimize.api.TrainingListener> keep = new ArrayList<>(net.getListeners());
            keep.remove(accuracy);
            net.setListeners(keep);
            model.syncWeights();
            for (Callback cb : callbacks) {
                cb.onTrainEnd(ctx);
            }
        }
        return history;
    }

    /**
     * The model's random augmentation layers (RandomFlip, RandomRotation, RandomZoom) that sit straight after its
     * input, directly or inside a nested model made only of them; null when there are none.
     */
    static io.transferlab.data.Augmentation inputAugmentation(Model model) {
        List<io.transferlab.layers.RandomAugmentation> found = new ArrayList<>();
        io.transferlab.layers.Tensor t = model.input();
        boolean moved = true;
        while (moved) {
            moved = false;
            for (io.transferlab.layers.Node n : model.graphNodes()) {
                if (n.inputs().size() != 1 || n.inputs().get(0) != t) {
                    continue;
                }
                if (n.layer() instanceof io.transferlab.layers.RandomAugmentation r) {
                    found.add(r);
                } else if (n.layer() instanceof Model inner && !inner.layers().isEmpty() && inner.layers().stream()
                        .allMatch(l -> l instanceof io.transferlab.layers.RandomAugmentation || l instanceof io.transferlab.layers.InputLayer)) {
                    inner.layers().stream().filter(l -> l instanceof io.transferlab.layers.RandomAugmentation)
                            .forEach(l -> found.add((io.transferlab.layers.RandomAugmentation) l));
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
        io.transferlab.data.Augmentation a = io.transferlab.data.Augmentation.create();
        found.forEach(r -> r.addTo(a));
        return a;
    }

    /** Applies an augmentation to every image of an (n, h, w, 3) batch. */
    static INDArray augmentBatch(io.transferlab.data.Augmentation a, INDArray x, java.util.Random rng) {
        int n = (int) x.size(0), h = (int) x.size(1), w = (int) x.size(2);
        int per = h * w * 3;
        float[] all = x.dup('c').data().asFloat();
        float[] out = new float[all.length];
        for (int i = 0; i < n; i++) {
            float[] img = java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per);
            System.arraycopy(a.apply(img, h, w, rng), 0, out, i * per, per);
        }
        return Nd4j.create(out, x.shape(), 'c');
    }

    /**
     * Training accuracy as Keras reports it, from the forward pass of the training step itself (dropout active),
     * at no extra cost: DL4J hands the activations to listeners; the output layer's own activation is not among
     * them, so it is computed here from its input and weights (one small matrix product).
     */
    static final class TrainingAccuracy extends org.deeplearning4j.optimize.api.BaseTrainingListener {
        private final String outputName;
        private final String outputInput;
        private final boolean outputLayerHasWeights;
        INDArray labels;
        long correct;

        TrainingAccuracy(ComputationGraph net) {
            outputName = net.getConfiguration().getNetworkOutputs().get(0);
            outputInput = net.getConfiguration().getVertexInputs().get(outputName).get(0);
            outputLayerHasWeights = net.getLayer(outputName) instanceof org.deeplearning4j.nn.layers.BaseOutputLayer<?>;
        }

        @Override
        public void onForwardPass(org.deeplearning4j.nn.api.Model m, Map<String, INDArray> activations) {
            INDArray in = activations.get(outputInput);
            if (in == null || labels == null) {
                return;
            }
            INDArray probs;
            if (outputLayerHasWeights) {
                var out = (org.deeplearning4j.nn.layers.BaseOutputLayer<?>) ((ComputationGraph) m).getLayer(outputName);
                INDArray z = in.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).mmul(out.getParam("W"));
                INDArray bias = out.getParam("b");
                if (bias != null) {
                    z.addiRowVector(bias.reshape(bias.length()));
                }
                probs = out.layerConf().getActivationFn().getActivation(z, false);
            } else {
                probs = in;
            }
            correct = Loss.correct(probs, labels);
        }
    }

    /** Loss and accuracy over a dataset, in inference mode. */
    public Evaluation evaluate(Dataset data) {
        requireCompiled();
        double lossSum = 0;
        List<INDArray> outs = new ArrayList<>();
        List<int[]> truths = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        int classes = (int) Math.max(2, model.outputShape().get(0));
        for (Batch b : data) {
            if (b.size() == 0) {
                continue;
            }
            INDArray p = io.transferlab.inference.Inference.predict(model, b.x());
            lossSum += model.loss().sum(p, b.y());
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
