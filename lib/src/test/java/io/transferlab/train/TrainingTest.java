package io.transferlab.train;

import io.transferlab.report.TrainingMonitor;
import io.transferlab.engine.dl4j.Dl4jLowering;
import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import io.transferlab.layers.Dense;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

class TrainingTest {
    @TempDir
    Path tmp;

    /** Two Gaussian clouds in 20 dimensions, labels 0/1. */
    private static INDArray[] clouds(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, 20);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 1);
        for (int i = 0; i < n; i++) {
            if (i % 2 == 1) {
                y.putScalar(i, 0, 1);
                x.getRow(i).addi(0.8);
            }
        }
        return new INDArray[]{x, y};
    }

    private static Sequential head() {
        return Sequential.withInput(20).add(Dense(16, "relu")).add(Dense(1, "sigmoid"));
    }

    @Test
    void fitLearnsAndReportsKerasHistory() {
        INDArray[] tr = clouds(400, 1), va = clouds(200, 2);
        Model m = head();
        m.compile(Optimizer.RMSprop(1e-2), "binary_crossentropy", "accuracy");
        History h = m.fit(tr[0], tr[1], 8, 20, va[0], va[1]);
        assertEquals(8, h.size());
        assertTrue(h.last().valAccuracy() > 0.9, "val acc " + h.last().valAccuracy());
        assertTrue(h.last().loss() < h.epochs().get(0).loss(), "loss falls");
        assertEquals(8, h.table().rowCount());
        Evaluation ev = m.evaluate(va[0], va[1]);
        assertEquals(h.last().valAccuracy(), ev.accuracy(), 1e-9);
        assertEquals(h.last().valLoss(), ev.loss(), 1e-5);
        long[][] cm = ev.confusionMatrix();
        assertEquals(200, cm[0][0] + cm[0][1] + cm[1][0] + cm[1][1]);
    }

    @Test
    void softmaxWithCategoricalCrossentropy() {
        INDArray[] tr = clouds(300, 5);
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, 300, 2);
        for (int i = 0; i < 300; i++) {
            oneHot.putScalar(i, (int) tr[1].getDouble(i, 0), 1);
        }
        Model m = Sequential.withInput(20).add(Dense(2, "softmax"));
        m.compile(Optimizer.Adam(1e-2), "categorical_crossentropy", "accuracy");
        History h = m.fit(tr[0], oneHot, 15, 30, tr[0], oneHot);
        assertTrue(h.last().valAccuracy() > 0.9, "acc " + h.last().valAccuracy());
        // Keras's categorical crossentropy, computed independently from the predictions
        INDArray p = m.predict(tr[0]);
        double manual = 0;
        for (int i = 0; i < 300; i++) {
            manual -= Math.log(Math.max(1e-7, p.getDouble(i, (int) tr[1].getDouble(i, 0))));
        }
        assertEquals(manual / 300, h.last().valLoss(), 1e-4);
    }

    @Test
    void resumingFromACheckpointGivesTheSameResultAsTrainingStraight() throws Exception {
        INDArray[] tr = clouds(200, 3);
        Model straight = head();
        List<INDArray> init = List.of(); // both models start from the same weights
        straight.compile(Optimizer.RMSprop(1e-2), "binary_crossentropy");

        Model resumed = head();
        for (int i = 0; i < straight.layers().size(); i++) {
            resumed.layers().get(i).setWeights(straight.layers().get(i).getWeights().stream().map(INDArray::dup).toList());
        }
        resumed.compile(Optimizer.RMSprop(1e-2), "binary_crossentropy");

        History a = straight.fit(tr[0], tr[1], 4, 20, null, null);

        Path ckpt = tmp.resolve("ckpt");
        var data = new io.transferlab.data.ArrayData(tr[0], tr[1], 20, true, 1);
        History first = resumed.fit(data, 2, null, ModelCheckpoint.at(ckpt));
        assertEquals(2, first.size());
        assertTrue(Files.exists(ckpt.resolve("latest/params.bin")));
        // a fresh process would build the model again: here, a new model from the same layers
        Model again = head();
        for (int i = 0; i < again.layers().size(); i++) {
            again.layers().get(i).setWeights(resumed.layers().get(i).getWeights());
        }
        again.compile(Optimizer.RMSprop(1e-2), "binary_crossentropy");
        var data2 = new io.transferlab.data.ArrayData(tr[0], tr[1], 20, true, 1);
        data2.iterator();
        data2.iterator();       // the data has already given two epochs (shuffle order continues)
        History b = again.fit(data2, 4, null, ModelCheckpoint.at(ckpt).resume());
        assertEquals(4, b.size());
        assertEquals(a.last().loss(), b.last().loss(), 1e-5);
        INDArray wa = straight.layers().get(0).getWeights().get(0);
        INDArray wb = again.layers().get(0).getWeights().get(0);
        assertTrue(wa.equalsWithEps(wb, 1e-5), "same weights after resuming");
    }

    @Test
    void checkpointOfAnotherModelIsRefused() throws Exception {
        INDArray[] tr = clouds(40, 3);
        Model m = head();
        m.compile(Optimizer.RMSprop(), "binary_crossentropy");
        m.fit(tr[0], tr[1], 1, 20, null, null, ModelCheckpoint.at(tmp.resolve("c")));
        Model other = Sequential.withInput(20).add(Dense(3, "relu")).add(Dense(1, "sigmoid"));
        other.compile(Optimizer.RMSprop(), "binary_crossentropy");
        var e = assertThrows(IllegalStateException.class,
                () -> other.fit(tr[0], tr[1], 2, 20, null, null, ModelCheckpoint.at(tmp.resolve("c")).resume()));
        assertTrue(e.getMessage().contains("written by a different model"), e.getMessage());
    }

    @Test
    void earlyStoppingAndCsvLog() throws Exception {
        INDArray[] tr = clouds(100, 4);
        Model m = head();
        m.compile(Optimizer.RMSprop(1e-9), "binary_crossentropy");      // learns nothing: stops early
        Path csv = tmp.resolve("log.csv");
        History h = m.fit(tr[0], tr[1], 30, 20, tr[0], tr[1], new EarlyStopping("val_accuracy", 2), new CsvLogger(csv));
        assertTrue(h.size() < 30, "stopped after " + h.size());
        assertEquals(h.size(), History.fromCsv(csv).size());
    }

    @Test
    void dropoutIsKerasRateAndCompileChecksTheLoss() {
        Model m = Sequential.withInput(20).add(Dense(8, "relu")).add(Dropout(0.5)).add(Dense(3, "softmax"));
        var e = assertThrows(IllegalArgumentException.class, () -> m.compile(Optimizer.RMSprop(), "binary_crossentropy"));
        assertTrue(e.getMessage().contains("categorical_crossentropy"));
        var d = (org.deeplearning4j.nn.conf.layers.DropoutLayer) Dl4jLowering.part(m.layers().get(1), List.of(io.transferlab.layers.Shape.of(8)));
        assertEquals(0.5, ((org.deeplearning4j.nn.conf.dropout.Dropout) d.getIDropout()).getP(), 1e-12);
        assertThrows(IllegalStateException.class, () -> head().fit(clouds(10, 1)[0], clouds(10, 1)[1], 1, 5, null, null));
    }

    @Test
    void monitorWritesCurvesAndScalarsEveryEpoch() throws Exception {
        INDArray[] tr = clouds(60, 6);
        Model m = head();
        m.compile(Optimizer.RMSprop(), "binary_crossentropy");
        TrainingMonitor monitor = new TrainingMonitor(tmp.resolve("logs"));
        m.fit(tr[0], tr[1], 2, 20, tr[0], tr[1], monitor);
        assertEquals(2, History.fromCsv(monitor.scalars()).size());
        var png = javax.imageio.ImageIO.read(monitor.curves().toFile());
        assertTrue(png.getWidth() > 500 && png.getHeight() > 200);
    }

    /** Training accuracy comes from the training step's own forward pass: with frozen weights it equals evaluate(). */
    @Test
    void trainingAccuracyIsMeasuredOnTheTrainingForwardPass() {
        INDArray[] tr = clouds(100, 9);
        for (String act : new String[]{"sigmoid", "softmax"}) {
            Model m = act.equals("sigmoid") ? head() : Sequential.withInput(20).add(Dense(8, "relu")).add(Dense(2, "softmax"));
            INDArray y = tr[1];
            if (act.equals("softmax")) {
                y = Nd4j.zeros(DataType.FLOAT, 100, 2);
                for (int i = 0; i < 100; i++) {
                    y.putScalar(i, (int) tr[1].getDouble(i, 0), 1);
                }
            }
            m.compile(Optimizer.SGD(1e-12, 0), act.equals("sigmoid") ? "binary_crossentropy" : "categorical_crossentropy");
            History h = m.fit(tr[0], y, 1, 10, null, null);
            assertEquals(m.evaluate(tr[0], y).accuracy(), h.last().accuracy(), 1e-9, act);
        }
    }
}
