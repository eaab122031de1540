package io.transferlab.engine.dl4j;

import io.transferlab.engine.api.TrainStep;
import io.transferlab.graph.Functional;
import io.transferlab.losses.Loss;
import io.transferlab.optimizers.Optimizer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Training on the model's DL4J network: DL4J's backpropagation and updaters (with the library's own convolution
 * layers, see {@link ContiguousGradientConvolution}). Training accuracy comes from the step's own forward pass.
 * State for resuming: DL4J's flattened parameters ({@code params.bin}) and updater state ({@code updater.bin}).
 */
public final class Dl4jTrainStep implements TrainStep {
    private static final long DROPOUT_SEED = 42;
    /** The file of a saved state that holds the network's iteration and epoch counts (Adam's bias correction needs them). */
    static final String COUNTS = "counts.txt";
    private final Dl4jEngine engine;
    private final Functional model;
    private final ComputationGraph net;
    private final TrainingAccuracy accuracy;

    Dl4jTrainStep(Dl4jEngine engine, Functional model, Optimizer optimizer, Loss loss) {
        this.engine = engine;
        this.model = model;
        this.net = engine.network(model, optimizer, loss);
        this.accuracy = new TrainingAccuracy(net);
        net.addListeners(accuracy);
    }

    /** The network being trained (for the engines that keep their state in DL4J's layout). */
    public ComputationGraph network() {
        return net;
    }

    @Override
    public Result fit(INDArray x, INDArray y) {
        // DL4J draws dropout masks from ND4J's global generator: seeding it from the iteration makes each step's
        // masks the same in a straight run and in a resumed one
        Nd4j.getRandom().setSeed(DROPOUT_SEED * 1_000_003L + net.getIterationCount());
        accuracy.labels = y;
        accuracy.correct = -1;
        net.fit(new DataSet(x, y));
        if (accuracy.correct < 0) {
            // the listener saw no forward pass (should not happen): measure separately
            accuracy.correct = Loss.correct(net.outputSingle(false, x), y);
        }
        return new Result(net.score() * x.size(0), accuracy.correct);
    }

    @Override
    public void writeBack() {
        engine.writeBack(model, net, false);
    }

    @Override
    public void saveState(Path dir) throws IOException {
        Nd4j.saveBinary(net.params(), dir.resolve("params.bin").toFile());
        if (net.getUpdater() != null && net.getUpdater().getStateViewArray() != null) {
            Nd4j.saveBinary(net.getUpdater().getStateViewArray(), dir.resolve("updater.bin").toFile());
        }
        Files.writeString(dir.resolve(COUNTS), "iterations=" + net.getIterationCount() + "\nepochs=" + net.getEpochCount() + "\n");
    }

    @Override
    public void restoreState(Path dir) throws IOException {
        INDArray params = Nd4j.readBinary(dir.resolve("params.bin").toFile());
        if (params.length() != net.params().length()) {
            throw new IllegalStateException("Checkpoint " + dir + " holds " + params.length()
                    + " weights, but model '" + model.name() + "' has " + net.params().length()
                    + ": it was written by a different model. Use another folder or delete it.");
        }
        net.setParams(params.reshape(net.params().shape()));
        Path counts = dir.resolve(COUNTS);
        if (Files.exists(counts)) { // checkpoints written before the counts were saved restart them at 0
            for (String line : Files.readAllLines(counts)) {
                String[] kv = line.split("=", 2);
                if (kv.length == 2 && kv[0].equals("iterations")) {
                    net.getConfiguration().setIterationCount(Integer.parseInt(kv[1].trim()));
                } else if (kv.length == 2 && kv[0].equals("epochs")) {
                    net.getConfiguration().setEpochCount(Integer.parseInt(kv[1].trim()));
                }
            }
        }
        Path state = dir.resolve("updater.bin");
        INDArray view = net.getUpdater() == null ? null : net.getUpdater().getStateViewArray();
        if (Files.exists(state) && view != null) {
            INDArray s = Nd4j.readBinary(state.toFile());
            if (s.length() == view.length()) {
                view.assign(s.reshape(view.shape()));
            }
        }
        engine.writeBack(model, net, true);
    }

    @Override
    public String describe() {
        return "DL4J";
    }

    @Override
    public void close() {
        List<TrainingListener> keep = new ArrayList<>(net.getListeners());
        keep.remove(accuracy);
        net.setListeners(keep);
    }

    /**
     * Training accuracy as Keras reports it, from the forward pass of the training step itself (dropout active),
     * at no extra cost: DL4J hands the activations to listeners; the output layer's own activation is not among
     * them, so it is computed here from its input and weights (one small matrix product).
     */
    private static final class TrainingAccuracy extends BaseTrainingListener {
        private final String outputName;
        private final String outputInput;
        private final boolean outputLayerHasWeights;
        INDArray labels;
        long correct;

        TrainingAccuracy(ComputationGraph net) {
            outputName = net.getConfiguration().getNetworkOutputs().get(0);
            outputInput = net.getConfiguration().getVertexInputs().get(outputName).get(0);
            outputLayerHasWeights = net.getLayer(outputName) instanceof BaseOutputLayer<?>;
        }

        @Override
        public void onForwardPass(org.deeplearning4j.nn.api.Model m, Map<String, INDArray> activations) {
            INDArray in = activations.get(outputInput);
            if (in == null || labels == null) {
                return;
            }
            INDArray probs;
            if (outputLayerHasWeights) {
                var out = (BaseOutputLayer<?>) ((ComputationGraph) m).getLayer(outputName);
                INDArray z = in.castTo(DataType.FLOAT).mmul(out.getParam("W"));
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
}
