package io.transferlab.fault;

import io.transferlab.layers.Tensor;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.runtime.Backend;
import io.transferlab.train.ModelCheckpoint;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.transferlab.layers.Layers.*;

/**
 * The child process of the fault-injection tests: trains a small head with dropout for some epochs with a
 * resuming ModelCheckpoint, then writes every weight, flattened, to a file. Killed and started again, it must end
 * with the weights of a run that was never stopped.
 *
 * <p>Arguments: checkpoint folder, output file, epochs, optimizer (adam, sgd), fast head (true/false).
 */
public final class CheckpointChild {
    private CheckpointChild() {
    }

    static Model head() {
        Tensor in = Input(48);
        Tensor h = Dense(32, "relu", "fc").on(in);
        h = Dropout(0.3, "drop").on(h);
        return Model.of("child_head", in, Dense(1, "sigmoid", "out").on(h));
    }

    static INDArray[] data() {
        Nd4j.getRandom().setSeed(123);
        INDArray x = Nd4j.rand(DataType.FLOAT, 1000, 48).subi(0.5);
        INDArray y = x.getColumn(0).add(x.getColumn(1)).gt(0).castTo(DataType.FLOAT).reshape(1000, 1);
        return new INDArray[]{x, y};
    }

    static INDArray weights(Model m) {
        List<INDArray> all = new ArrayList<>();
        for (var layer : m.layers()) {
            if (layer.getWeights() != null) {
                layer.getWeights().forEach(w -> all.add(w.reshape(w.length())));
            }
        }
        return Nd4j.concat(0, all.toArray(INDArray[]::new));
    }

    public static void main(String[] args) throws Exception {
        Backend.init();
        Path dir = Path.of(args[0]);
        File out = new File(args[1]);
        int epochs = Integer.parseInt(args[2]);
        Optimizer opt = args[3].equals("adam") ? Optimizer.Adam(3e-3) : Optimizer.SGD(0.05, 0.9);
        System.setProperty("transferlab.fastHead", args[4]);
        INDArray[] d = data();
        Model m = head();
        m.compile(opt, "binary_crossentropy", "accuracy");
        m.fit(d[0], d[1], epochs, 20, null, null, ModelCheckpoint.at(dir).resume());
        Nd4j.saveBinary(weights(m), out);
        System.out.println("@@ done");
    }
}
