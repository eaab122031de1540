package io.transferlab.models;

import io.transferlab.data.ArrayData;
import io.transferlab.data.Dataset;
import io.transferlab.data.ImageFolder;
import io.transferlab.data.ImageInput;
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
import io.transferlab.weights.KerasWeightsWriter;
import org.nd4j.linalg.api.ndarray.INDArray;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

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
    private ImageInput imageInput;
    private List<String> classNames;
    /** How images are prepared for a model input: a model built on another's input (Model.of(base.input(), ...)) inherits it. */
    private static final Map<Tensor, ImageInput> INPUTS = Collections.synchronizedMap(new WeakHashMap<>());

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

    /**
     * Keras's model.fit(train, epochs=..., validation_data=...), with callbacks (checkpoint, early stopping...).
     * Trained on an {@link ImageFolder}, the model remembers its class names (the class folders) and how its images
     * were prepared (size, interpolation, preprocessing), for {@link #predict(Path)} and {@link #save}.
     */
    public History fit(Dataset train, int epochs, Dataset validation, Callback... callbacks) {
        Trainer t = trainer();
        if (train instanceof ImageFolder folder) {
            long outputs = outputShape().rank() == 1 ? outputShape().get(0) : -1;
            if (outputs == folder.classes().size() || (outputs == 1 && folder.classes().size() == 2)) {
                classNames(folder.classes());
            }
            imageInput(folder.imageInput());
        }
        return t.fit(train, epochs, validation, 0, callbacks);
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

    // ---- what it takes and what it tells apart ----

    /**
     * How image files become inputs of this model (size, interpolation, preprocessing), as its training data
     * prepared them: set by the Applications builders (Keras's preprocess_input of the family), by {@link #fit} on
     * an {@link ImageFolder}, by {@link #load}, or here. Returns this model.
     */
    public Model imageInput(ImageInput value) {
        this.imageInput = value;
        if (value != null && input() != null) {
            INPUTS.put(input(), value);
        }
        return this;
    }

    /**
     * How image files become inputs of this model: its own setting, else that of a model with the same input (a
     * model built on an application's input, or a part of it cut with upTo), else that of the first nested model
     * that has one (a pretrained base inside a Sequential); null when none is known.
     */
    public ImageInput imageInput() {
        if (imageInput != null) {
            return imageInput;
        }
        ImageInput shared = input() == null ? null : INPUTS.get(input());
        if (shared != null) {
            return shared;
        }
        for (var l : layers()) {
            if (l instanceof Model inner && inner.imageInput() != null) {
                return inner.imageInput();
            }
        }
        return null;
    }

    /**
     * Names the classes of the model's output, in output order (Keras's class_indices order: sorted folder names):
     * one per output unit, or two for a single sigmoid output (the class of output 0, then of output 1). Returns
     * this model.
     */
    public Model classNames(List<String> names) {
        if (names == null) {
            this.classNames = null;
            return this;
        }
        long outputs = outputShape().rank() == 1 ? outputShape().get(0) : -1;
        if (!(names.size() == outputs || (outputs == 1 && names.size() == 2))) {
            throw new IllegalArgumentException("Model '" + name() + "' has output " + outputShape() + ", so it needs "
                    + (outputs == 1 ? "2 class names (a sigmoid output: class 0, class 1)" : outputs > 0 ? outputs
                    + " class names" : "a flat classifier output to name classes") + ", got " + names.size());
        }
        this.classNames = List.copyOf(names);
        return this;
    }

    /** {@link #classNames(List)} with the names given one by one. */
    public Model classNames(String... names) {
        return classNames(List.of(names));
    }

    /** The class names of the output (see {@link #classNames(List)}), or null when none are known. */
    public List<String> classNames() {
        return classNames;
    }

    // ---- saving and loading ----

    /**
     * Keras's model.save_weights("file.h5"): the weights alone, in Keras's HDF5 layout (Keras's
     * model.load_weights(path, by_name=True) reads it, as does {@link #loadWeights}); written atomically.
     */
    public KerasWeightsWriter.Saved saveWeights(Path file) {
        return KerasWeightsWriter.save(file, this);
    }

    /**
     * Keras's model.save(path): the whole model in one file (a zip archive): architecture (layers, their settings
     * and wiring, nested models, frozen layers), weights, how images are prepared and the class names.
     * {@link #load} gives it back, in this or another process, with the same predictions bit for bit.
     */
    public void save(Path file) {
        ModelFile.save(this, file);
    }

    /** {@link #save(Path)} to a path given as text. */
    public void save(String file) {
        save(Path.of(file));
    }

    /**
     * Keras's keras.models.load_model(path) for files {@link #save} wrote.
     *
     * @throws ModelFileException if the file is missing, truncated or corrupt, not a model file, or written by a
     *                            newer version of the library (the message says which version this one reads)
     */
    public static Model load(Path file) {
        return ModelFile.load(file);
    }

    /** {@link #load(Path)} with the path as text. */
    public static Model load(String file) {
        return load(Path.of(file));
    }

    // ---- predicting on image files ----

    /**
     * Predicts on an image file, or on every image in a folder (subfolders too, sorted): each decoded, resized and
     * preprocessed exactly as the training data was (the model's {@link #imageInput()}), and shown with its top 5
     * classes (fewer when the model has fewer) and their probabilities, as a table (HTML in a notebook). In a folder,
     * an image that cannot be decoded is named in a warning and skipped; a single file that cannot be is an error.
     */
    public Table predict(Path fileOrFolder) {
        return predict(fileOrFolder, 5);
    }

    /** {@link #predict(Path)} with the number of top classes to show. */
    public Table predict(Path fileOrFolder, int top) {
        boolean folder = java.nio.file.Files.isDirectory(fileOrFolder);
        return ImagePredictor.predict(this, ImagePredictor.collect(fileOrFolder), top, folder);
    }

    /** Predicts on these image files (each must decode; see {@link #predict(Path)}), top 5 classes. */
    public Table predictFiles(List<Path> files) {
        return predictFiles(files, 5);
    }

    /** {@link #predictFiles(List)} with the number of top classes to show. */
    public Table predictFiles(List<Path> files, int top) {
        List<ImagePredictor.Item> items = new ArrayList<>();
        for (Path f : files) {
            if (!java.nio.file.Files.isRegularFile(f)) {
                throw new IllegalArgumentException("No such image file: " + f);
            }
            items.add(new ImagePredictor.Item(f, f.toString()));
        }
        if (items.isEmpty()) {
            throw new IllegalArgumentException("predictFiles needs at least one file");
        }
        return ImagePredictor.predict(this, items, top, false);
    }
}
