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
 * only the trainable suffix trains, from the prefix's output: on the oneDNN engine's head trainer when the suffix
 * is a classifier head (notebook 05's first stage: VGG16 frozen, Flatten and three Dense layers with 151M weights),
 * else on DL4J. No backpropagation through layers that do not learn, and no training-mode copies of their
 * activations. With a head trainer, validation runs the prefix's plan and the trainer's weights (no write-back and
 * no new plan of the whole model every epoch).
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
    /** The suffix on DL4J: its network holds the suffix's weights and state in DL4J's layout. */
    private final Dl4jTrainStep suffixDl4j;
    /** What trains the suffix: the head trainer over suffixDl4j's network, or suffixDl4j itself. */
    private final TrainStep suffix;
    private final String suffixWhyNotHead;
    private Dl4jTrainStep whole;
    private String prefixEngine;

    FrozenPrefixStep(Functional model, Optimizer optimizer, Loss loss, FrozenPrefix.Split split) {
        this.model = model;
        this.optimizer = optimizer;
        this.loss = loss;
        this.split = split;
        this.suffixDl4j = Dl4jEngine.get().trainStep(split.suffix(), optimizer, loss);
        Engines.HeadChoice head = Engines.headStep(split.suffix(), optimizer, loss, suffixDl4j);
        this.suffix = head.step();
        this.suffixWhyNotHead = head.whyNot();
    }

    /** The part that trains (for tests). */
    Functional suffixModel() {
        return split.suffix();
    }

    private INDArray prefix(INDArray x) {
        var prefix = Engines.forward(split.prefix(), x.shape());
        if (prefixEngine == null) {
            prefixEngine = prefix.describe();
        }
        return prefix.run(x);
    }

    @Override
    public Result fit(INDArray x, INDArray y) {
        return suffix.fit(prefix(x), y);
    }

    @Override
    public boolean predicts() {
        return suffix.predicts();
    }

    @Override
    public INDArray predict(INDArray x) {
        return suffix.predict(prefix(x));
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
        suffix.writeBack();   // a head trainer's weights and state into suffixDl4j's network
        Dl4jStateTransfer.copy(suffixDl4j.network(), whole().network());
        whole().saveState(dir);
    }

    @Override
    public void restoreState(Path dir) throws IOException {
        whole().restoreState(dir); // also writes every layer's weights, so the prefix's plan is rebuilt from them
        Dl4jStateTransfer.copy(whole().network(), suffixDl4j.network());
        suffix.reload();
    }

    @Override
    public String describe() {
        return "frozen prefix up to '" + split.cut() + "' forward on "
                + (prefixEngine != null ? prefixEngine : "the inference engine") + ", the rest trained on "
                + (suffix != suffixDl4j ? "the " + suffix.describe() : "DL4J (" + suffixWhyNotHead + ")");
    }

    @Override
    public void close() {
        suffix.close();   // a head step closes suffixDl4j, its base, too
        if (whole != null) {
            whole.close();
        }
    }
}
