package io.transferlab.train;

import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.models.Model;
import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Tensor;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.FrozenLayerWithBackprop;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/** Frozen layers during training: before any trainable layer they are skipped by backprop; after one, passed through. */
class FrozenLayersTrainingTest {

    private static INDArray[] data() {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 40, 8, 8, 3);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 40, 1);
        for (int i = 0; i < 40; i += 2) {
            y.putScalar(i, 0, 1);
            x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i)).addi(0.5);
        }
        return new INDArray[]{x, y};
    }

    private static List<INDArray> copy(Layer l) {
        return l.getWeights().stream().map(INDArray::dup).toList();
    }

    @Test
    void frozenBatchNormBetweenTrainableLayersPassesGradientsAndKeepsItsStatistics() {
        Tensor in = Input(8, 8, 3);
        Conv2D first = new Conv2D(4, 3, 3, "first");
        BatchNormalization bn = new BatchNormalization("bn");
        Conv2D second = new Conv2D(4, 3, 3, "second");
        Tensor x = first.padding("same").on(in);
        x = bn.on(x);
        x = second.padding("same").activation("relu").on(x);
        x = GlobalAveragePooling2D().on(x);
        Model m = Model.of(in, Dense(1, "sigmoid").on(x));
        // non-trivial statistics, so that the frozen layer's factor matters
        bn.setWeights(List.of(Nd4j.valueArrayOf(new long[]{4}, 1.5f), Nd4j.valueArrayOf(new long[]{4}, 0.1f),
                Nd4j.valueArrayOf(new long[]{4}, 0.2f), Nd4j.valueArrayOf(new long[]{4}, 2.0f)));
        bn.setTrainable(false);
        m.compile(Optimizer.Adam(1e-2), "binary_crossentropy");
        List<INDArray> bnBefore = copy(bn), firstBefore = copy(first);
        assertInstanceOf(FrozenLayerWithBackprop.class, Dl4jEngine.get().network(m).getLayer("bn"));

        INDArray[] d = data();
        History h = m.fit(d[0], d[1], 3, 10, null, null);
        assertEquals(3, h.size());
        for (int i = 0; i < bnBefore.size(); i++) {
            assertEquals(bnBefore.get(i), bn.getWeights().get(i), "frozen batch norm weight " + i + " changed");
        }
        assertNotEquals(firstBefore.get(0), first.getWeights().get(0), "the gradient reached the trainable layer before bn");
    }

    @Test
    void frozenLayersBeforeAnyTrainableOneAreSkippedAndDropoutStillDrops() {
        Tensor in = Input(8, 8, 3);
        Conv2D base = new Conv2D(4, 3, 3, "base");
        Tensor x = base.padding("same").activation("relu").on(in);
        x = GlobalAveragePooling2D().on(x);
        x = Dropout(0.5).on(x);
        Model m = Model.of(in, Dense(1, "sigmoid").on(x));
        base.setTrainable(false);
        m.compile(Optimizer.Adam(1e-2), "binary_crossentropy");
        var net = Dl4jEngine.get().network(m);
        assertInstanceOf(FrozenLayer.class, net.getLayer("base"));
        assertFalse(net.getLayer(m.layers().get(3).name()) instanceof FrozenLayer, "dropout must run in training mode");
        List<INDArray> before = copy(base);
        INDArray[] d = data();
        m.fit(d[0], d[1], 2, 10, null, null);
        assertEquals(before.get(0), base.getWeights().get(0));
    }
}
