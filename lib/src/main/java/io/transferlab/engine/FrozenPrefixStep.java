package io.transferlab.engine;

import io.transferlab.engine.api.TrainStep;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.engine.dl4j.Dl4jStateTransfer;
import io.transferlab.engine.dl4j.Dl4jTrainStep;
import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Fine-tuning with a frozen prefix: each batch runs the prefix forward on the inference engine (the oneDNN plan
 * where it covers the prefix; frozen batch norms in inference mode, as in the whole network's frozen layers), and
 * only the trainable suffix trains, on DL4J, from the prefix's output. No backpropagation through layers that do not
 * learn, and no training-mode copies of their activations.
 *
 * <p>Checkpoints keep the whole model's DL4J layout ({@code Dl4jTrainStep} of the whole model, made on the first
 * save or restore): the suffix's parameters, optimizer state and counts are copied into it before a save and from
 * it after a restore, so that a checkpoint written on either path resumes on the other.
 */
final class FrozenPrefixStep implements TrainStep {
    private final Functional model;
    private final Optimizer optimizer;
    private final Loss loss;
    private final FrozenPrefix.Split split;
    private final Dl4jTrainStep suffix;
    private Dl4jTrainStep whole;
    private String prefixEngine;

    FrozenPrefixStep(Functional model, Optimizer optimizer, Loss loss, FrozenPrefix.Split split) {
        this.model = model;
        this.optimizer = optimizer;
        this.loss = loss;
        this.split = split;
        this.suffix = Dl4jEngine.get().trainStep(split.suffix(), optimizer, loss);
    }

    /** The part that trains (for tests). */
    Functional suffixModel() {
        return split.suffix();
    }

    @Override
    public Result fit(INDArray x, INDArray y) {
        var prefix = Engines.forward(split.prefix(), x.shape());
        if (prefixEngine == null) {
            prefixEngine = prefix.describe();
        }
        return suffix.fit(prefix.run(x), y);
    }

    @Override
    public void writeBack() {
        suffix.writeBack();
    }

    private Dl4jTrainStep whole() {
        if (whole == null) {
            whole = Dl4jEngine.get().trainStep(model, optimizer, loss);
        }
        return whole;
    }

    @Override
    public void saveState(Path dir) throws IOException {
        Dl4jStateTransfer.copy(suffix.network(), whole().network());
        whole().saveState(dir);
    }

    @Override
    public void restoreState(Path dir) throws IOException {
        whole().restoreState(dir); // also writes every layer's weights, so the prefix's plan is rebuilt from them
        Dl4jStateTransfer.copy(whole().network(), suffix.network());
    }

    @Override
    public String describe() {
        return "frozen prefix up to '" + split.cut() + "' forward on "
                + (prefixEngine != null ? prefixEngine : "the inference engine") + ", the rest trained on DL4J";
    }

    @Override
    public void close() {
        suffix.close();
        if (whole != null) {
            whole.close();
        }
    }
}
