package io.transferlab.engine.onednn;

import io.transferlab.engine.TrainStep;
import io.transferlab.engine.dl4j.Dl4jTrainStep;
import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A classifier head trained by {@link DenseHeadTrainer}, its weights and optimizer state kept in the DL4J network's
 * flattened layout: written into the network at {@link #writeBack} (then into the layers), so that checkpoints
 * and resuming are the same as on the DL4J engine.
 */
final class DenseHeadStep implements TrainStep {
    private final Dl4jTrainStep base;
    private final Functional model;
    private final Optimizer optimizer;
    private final Loss loss;
    private DenseHeadTrainer head;

    DenseHeadStep(Dl4jTrainStep base, Functional model, Optimizer optimizer, Loss loss) {
        this.base = base;
        this.model = model;
        this.optimizer = optimizer;
        this.loss = loss;
        try {
            this.head = new DenseHeadTrainer(model, optimizer, loss, base.network());
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    @Override
    public Result fit(INDArray x, INDArray y) {
        double[] r = head.step(x, y);
        return new Result(r[0], (long) r[1]);
    }

    @Override
    public void writeBack() {
        head.writeTo(base.network());
        base.writeBack();
    }

    @Override
    public void saveState(Path dir) throws IOException {
        head.writeTo(base.network());
        base.saveState(dir);
    }

    @Override
    public void restoreState(Path dir) throws IOException {
        base.restoreState(dir);
        head.close();
        head = new DenseHeadTrainer(model, optimizer, loss, base.network());
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
