package io.transferlab.applications;

import io.transferlab.layers.Dense;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.train.History;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * EfficientNetB0 (32x32, a 2-class head) fine-tunes end to end on DL4J, through squeeze-and-excitation, swish and
 * drop-connect: the loss goes down over a few steps, and at inference drop-connect and top dropout are inactive (two
 * predicts give the same numbers, on the plan and on DL4J).
 */
class EfficientNetFineTuneTest {
    @Test
    void fineTunesAndIsDeterministicAtInference() {
        Model base = Applications.efficientNetB0().includeTop(false).inputShape(32, 32, 3).pooling("avg").build();
        Model m = Model.of(base.input(), new Dense(2, "softmax", "head").on(base.output()));
        Nd4j.getRandom().setSeed(21);
        int n = 8;
        INDArray x = Nd4j.rand(DataType.FLOAT, n, 32, 32, 3).muli(255);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 2);
        for (int i = 0; i < n; i++) {
            // bright or dark on the red channel
            boolean bright = i % 2 == 0;
            x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i)).muli(bright ? 1.0 : 0.3);
            y.putScalar(i, bright ? 1 : 0, 1);
        }
        m.compile(Optimizer.Adam(3e-4), "categorical_crossentropy", "accuracy");
        History h = m.fit(x, y, 3, 8, null, null);
        double first = h.epochs().get(0).loss();
        double last = h.epochs().get(h.epochs().size() - 1).loss();
        System.out.printf("EfficientNetB0 fine-tuning: loss %s%n", h.epochs().stream().map(e -> String.format("%.4f", e.loss())).toList());
        assertTrue(last < first, "loss should go down: " + h.epochs());
        INDArray p1 = m.predict(x);
        INDArray p2 = m.predict(x);
        assertEquals(0.0, p1.sub(p2).norm2Number().doubleValue(), 0.0, "drop-connect must be inactive at inference");
        var g = io.transferlab.engine.dl4j.Dl4jEngine.get().network(m);
        INDArray d1 = g.outputSingle(false, x.dup());
        INDArray d2 = g.outputSingle(false, x.dup());
        assertEquals(0.0, d1.sub(d2).norm2Number().doubleValue(), 0.0);
        assertTrue(d1.sub(p1).norm2Number().doubleValue() / p1.norm2Number().doubleValue() < 1e-4, "plan and DL4J agree");
        // in training mode the drop-connect layers do act: two passes differ
        INDArray t1 = g.outputSingle(true, x.dup());
        INDArray t2 = g.outputSingle(true, x.dup());
        assertTrue(t1.sub(t2).norm2Number().doubleValue() > 0, "drop-connect should be random in training");
    }
}
