package io.transferlab.models;

import io.transferlab.data.ArrayData;
import io.transferlab.data.Dataset;
import io.transferlab.graph.Functional;
import io.transferlab.inference.Inference;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.train.Callback;
import io.transferlab.train.Evaluation;
import io.transferlab.train.History;
import io.transferlab.train.Trainer;
import io.transferlab.weights.KerasWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Keras's Model: a functional graph of layer calls ({@link Functional}: layers, names, freezing, summary, cutting
 * at a named layer) with Keras's training and inference face: {@link #compile}, {@link #fit}, {@link #evaluate},
 * {@link #predict}, {@link #loadWeights}. It holds no engine state: the engines keep what they compile from it,
 * keyed by its structure and weights (see the engine package).
 */
public class Model extends Functional {
    private Optimizer optimizer;
    private Loss loss;
    private KerasWeights.Loaded loadedWeights;

    /** Keras's Model(inputs, outputs). */
    public static Model of(Tensor input, Tensor output) {
        return new Model(null, input, output);
    }

    /** Keras's Model(inputs, outputs, name=...). */
    public static Model of(String name, Tensor input, Tensor output) {
        return new Model(name, input, output);
    }

    protected Model(String name, Tensor input, Tensor output) {
        super(name, input, output);
    }

    @Override
    protected Model part(String partName, Tensor partInput, Tensor partOutput) {
        return new Model(partName, partInput, partOutput);
    }

    // ---- the structure's methods, returning a Model ----

    @Override
    public Model upTo(String layerName) {
        return (Model) super.upTo(layerName);
    }

    @Override
    public Model after(String layerName) {
        return (Model) super.after(layerName);
    }

    @Override
    public Model setTrainable(boolean value) {
        super.setTrainable(value);
        return this;
    }

    @Override
    public Model freeze() {
        super.freeze();
        return this;
    }

    @Override
    public Model unfreeze() {
        super.unfreeze();
        return this;
    }

    @Override
    public Model setTrainable(int from, int to, boolean value) {
        super.setTrainable(from, to, value);
        return this;
    }

    @Override
    public Model freeze(int from, int to) {
        super.freeze(from, to);
        return this;
    }

    @Override
    public Model freezeUpTo(String layerName) {
        super.freezeUpTo(layerName);
        return this;
    }

    @Override
    public Model unfreezeFrom(String layerName) {
        super.unfreezeFrom(layerName);
        return this;
    }

    // ---- training (Keras's compile / fit / evaluate) ----

    /**
     * Keras's model.compile(optimizer, loss, metrics): {@code compile(Optimizer.RMSprop(2e-5),
     * "binary_crossentropy", "accuracy")}. Accuracy is always reported.
     */
    public void compile(Optimizer opt, String lossName, String... metrics) {
        for (String m : metrics) {
            if (!m.equals("accuracy") && !m.equals("acc")) {
                throw new IllegalArgumentException("Unknown metric '" + m + "'; supported: accuracy");
            }
        }
        Loss l = Loss.named(lossName);
        long outputs = outputShape().get(0);
        if (l == Loss.BINARY_CROSSENTROPY && outputs != 1) {
            throw new IllegalArgumentException("binary_crossentropy needs one sigmoid output, model '" + name()
                    + "' has " + outputs + " outputs: use categorical_crossentropy");
        }
        this.optimizer = opt;
        this.loss = l;
    }

    /** The optimizer given to {@link #compile}, or null. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** The loss given to {@link #compile}, or null. */
    public Loss loss() {
        return loss;
    }

    private Trainer trainer() {
        if (loss == null) {
            throw new IllegalStateException("Model '" + name() + "' is not compiled: call model.compile(optimizer, loss, \"accuracy\") first");
        }
        return new Trainer(this, optimizer, loss);
    }

    /** Keras's model.fit(train, epochs=..., validation_data=...), with callbacks (checkpoint, early stopping...). */
    public History fit(Dataset train, int epochs, Dataset validation, Callback... callbacks) {
        return trainer().fit(train, epochs, validation, 0, callbacks);
    }

    /** Keras's model.fit(x, y, epochs, batch_size, validation_data=(xv, yv)) on arrays (shuffled, seed 1). */
    public History fit(INDArray x, INDArray y, int epochs, int batchSize, INDArray xVal, INDArray yVal,
                       Callback... callbacks) {
        var train = new ArrayData(x, y, batchSize, true, 1);
        var val = xVal == null ? null : new ArrayData(xVal, yVal, batchSize, false, 0);
        return fit(train, epochs, val, callbacks);
    }

    /** Keras's model.evaluate: loss and accuracy over a dataset. */
    public Evaluation evaluate(Dataset data) {
        return trainer().evaluate(data);
    }

    /** Keras's model.evaluate(x, y). */
    public Evaluation evaluate(INDArray x, INDArray y) {
        return evaluate(new ArrayData(x, y, 64, false, 0));
    }

    // ---- running it ----

    /** Keras's model.predict(x) on one batch, x of shape (batch, ...input shape) in channels-last order. */
    public INDArray predict(INDArray x) {
        long[] want = inputShape().dims();
        long[] got = x.shape();
        boolean ok = got.length == want.length + 1;
        for (int i = 0; ok && i < want.length; i++) {
            ok = want[i] == Shape.NONE || want[i] == got[i + 1];
        }
        if (!ok) {
            throw new IllegalArgumentException("Model '" + name() + "' expects input (batch" + inputShape().toString()
                    .substring(5) + ", got " + Arrays.toString(got));
        }
        return Inference.predict(this, x);
    }

    /**
     * Keras's model.load_weights(path) for Keras HDF5 files (.h5), matching layers by name: every layer with
     * weights must find its weights in the file, with Keras's shapes; the file's other layers are ignored.
     *
     * @return what was loaded (layers, number of values, file layers not in the model)
     * @throws io.transferlab.weights.WeightsFileException if the file is missing, truncated, corrupt or made for
     *                                                     another model
     */
    public KerasWeights.Loaded loadWeights(Path file) {
        loadedWeights = KerasWeights.load(file, this);
        return loadedWeights;
    }

    /**
     * What {@link #loadWeights} last loaded into this model (the file, layers, number of values), or null while it
     * has the weights it was made with: whether a model built with {@code weights("imagenet")} got the real
     * weights or continued with random ones.
     */
    public KerasWeights.Loaded loadedWeights() {
        return loadedWeights;
    }
}
