package io.transferlab.engine.onednn;

import io.transferlab.engine.api.TrainStep;
import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A classifier head trained by {@link DenseHeadTrainer}, its weights and optimizer state kept in a DL4J network's
 * flattened layout: written into the network at {@link #writeBack}, and by the base step (the DL4J engine's step
 * on that network) into the layers, so that checkpoints and resuming are the same as on the DL4J engine.
 */
final class DenseHeadStep implements TrainStep {
    private final TrainStep base;
    private final ComputationGraph net;
    private final Functional model;
    private final Optimizer optimizer;
    private final Loss loss;
    private DenseHeadTrainer head;

    DenseHeadStep(TrainStep base, ComputationGraph net, Functional model, Optimizer optimizer, Loss loss) {
        this.base = base;
        this.net = net;
        this.model = model;
        this.optimizer = optimizer;
        this.loss = loss;
        this.head = new DenseHeadTrainer(model, optimizer, loss, net);
    }

    @Override
    public Result fit(INDArray x, INDArray y) {
        double[] r = head.step(x, y);
        return new Result(r[0], (long) r[1]);
    }

    @Override
    public void writeBack() {
        head.writeTo(net);
        base.writeBack();
    }

    /** Not under the mixed_bfloat16 policy, where the model predicts in bfloat16 and this step in float32. */
    @Override
    public boolean predicts() {
        return !io.transferlab.runtime.MixedPrecision.bfloat16();
    }

    @Override
    public INDArray predict(INDArray x) {
        return head.predict(x);
    }

    @Override
    public void saveState(Path dir) throws IOException {
        head.writeTo(net);
        base.saveState(dir);
    }

    @Override
    public void restoreState(Path dir) throws IOException {
        base.restoreState(dir);
        reload();
    }

    @Override
    public void reload() {
        head.close();
        head = new DenseHeadTrainer(model, optimizer, loss, net);
    }

    @Override
    public String describe() {
        return "dense head (" + MatMul.defaultEngine() + ")";
    }

    @Override
    public void close() {
        head.close();
        base.close();
    }
}
