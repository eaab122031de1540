package io.transferlab.train;

import io.transferlab.applications.Applications;
import io.transferlab.layers.Layer;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static io.transferlab.layers.Layers.Dense;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DenseNet121 fine-tuned as a whole (every layer trainable, batch norms in training mode), at its smallest input
 * (32x32) with a two-class softmax head on average pooling: a few Adam steps on a task the network can learn (the
 * second class is brighter) lower the training loss, and the stem convolution's weights move. Three steps only: a
 * DL4J training step of DenseNet121 takes about 15 s of CPU here even at 32x32 (241 layers).
 */
class DenseNetFineTuneTest {
    @Test
    void denseNet121FineTunesAndTheLossFalls() {
        Model base = Applications.denseNet121().includeTop(false).inputShape(32, 32, 3).pooling("avg").build();
        Model m = Model.of(base.input(), Dense(2, "softmax").on(base.output()));
        assertEquals(7_037_504L + 1024 * 2 + 2, m.countParams());
        Nd4j.getRandom().setSeed(11);
        int n = 8;
        INDArray x = Nd4j.rand(DataType.FLOAT, n, 32, 32, 3).subi(0.5);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 2);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 2, 1);
            if (i % 2 == 1) {
                x.get(NDArrayIndex.point(i)).addi(0.6);
            }
        }
        Layer stem = m.getLayer("conv1/conv");
        INDArray before = stem.getWeights().get(0).dup();
        m.compile(Optimizer.Adam(1e-4), "categorical_crossentropy", "accuracy");
        History h = m.fit(x, y, 3, 8, null, null); // three steps: one batch per epoch
        assertEquals(3, h.size());
        double first = h.epochs().get(0).loss();
        double last = h.last().loss();
        System.out.printf("DenseNet121 fine-tuning, loss per epoch: %s%n",
                h.epochs().stream().map(e -> String.format("%.4f", e.loss())).toList());
        assertTrue(Double.isFinite(last) && last < first, "loss must fall: " + first + " -> " + last);
        assertNotEquals(before, stem.getWeights().get(0), "the stem convolution must be trained too");
    }
}
