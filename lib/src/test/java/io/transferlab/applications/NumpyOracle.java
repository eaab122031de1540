package io.transferlab.applications;

import io.jhdf.HdfFile;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.models.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs one of scripts/oracles/*.py (independent numpy implementations of Keras's networks, double precision) and
 * compares a model of the library with its outputs: the relative error ||library - oracle|| / ||oracle|| on the fast
 * inference plan ({@code model.predict}) and on DL4J. Skips (with the reason) where /usr/bin/python3 lacks numpy or
 * h5py.
 */
final class NumpyOracle {
    private NumpyOracle() {
    }

    /** Runs the script with its arguments (the output folder first); returns that folder once the file exists. */
    static Path run(Path out, String script, String... args) throws Exception {
        Path py = Path.of("..", "scripts", "oracles", script).toAbsolutePath().normalize();
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", py.toString(), out.toString()));
        cmd.addAll(List.of(args));
        long start = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        boolean finished = p.waitFor(300, TimeUnit.SECONDS);
        assumeTrue(finished && p.exitValue() == 0,
                "the oracle needs /usr/bin/python3 with numpy and h5py (apt-get install python3-numpy python3-h5py): " + log);
        System.out.printf("%s %s: %.1f s (%s)%n", script, String.join(" ", args), (System.nanoTime() - start) / 1e9, log.strip());
        return out;
    }

    /** The relative errors {fast plan, DL4J} of the model on the oracle's input x&lt;size&gt; against y&lt;size&gt;. */
    static double[] errors(Model m, Path io, int size) {
        try (HdfFile h5 = new HdfFile(io)) {
            INDArray x = Nd4j.create((float[][][][]) h5.getDatasetByPath("x" + size).getData());
            INDArray want = Nd4j.create((float[][][][]) h5.getDatasetByPath("y" + size).getData());
            double scale = want.norm2Number().doubleValue();
            double fast = m.predict(x).sub(want).norm2Number().doubleValue() / scale;
            double dl4j = Dl4jEngine.get().network(m).outputSingle(false, x).sub(want).norm2Number().doubleValue() / scale;
            return new double[]{fast, dl4j};
        }
    }
}
