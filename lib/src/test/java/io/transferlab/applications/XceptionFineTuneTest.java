package io.transferlab.applications;

import io.transferlab.layers.Dense;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.train.History;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-tuning Xception: the base without top at 71x71 with average pooling, a new Dense head, everything up to
 * the end of block 12 frozen; blocks 13 and 14 (separable convolutions, batch normalizations, the strided 1x1
 * shortcut) and the head train on DL4J, and three steps lower the loss.
 */
class XceptionFineTuneTest {

    @Test
    void blocks13And14AndANewHeadLearn() {
        Model base = Applications.xception().includeTop(false).inputShape(71, 71, 3).pooling("avg").build();
        Model model = Model.of(base.input(), new Dense(2, "softmax", "head").on(base.output()));
        model.freezeUpTo("add_10");
        assertTrue(model.getLayer("block13_sepconv1").isTrainable() && !model.getLayer("block12_sepconv3").isTrainable());
        model.compile(Optimizer.Adam(1e-3), "categorical_crossentropy", "accuracy");

        Nd4j.getRandom().setSeed(21);
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 71, 71, 3).muli(2).subi(1);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 2);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 2, 1f);
            if (i % 2 == 0) {
                x.get(NDArrayIndex.point(i)).addi(0.5); // class 0: brighter images
            }
        }
        INDArray frozenBefore = model.getLayer("block12_sepconv3").getWeights().get(1).dup();
        INDArray sepBefore = model.getLayer("block14_sepconv2").getWeights().get(1).dup();
        INDArray shortcutBefore = model.getLayer("conv2d_3").getWeights().get(0).dup();

        History h = model.fit(x, y, 3, 8, null, null);
        double[] loss = h.get("loss");
        System.out.println("Xception fine-tuning loss by epoch: " + Arrays.toString(loss));
        assertEquals(3, loss.length);
        assertTrue(loss[2] < loss[0], "the loss should fall: " + Arrays.toString(loss));
        assertEquals(frozenBefore, model.getLayer("block12_sepconv3").getWeights().get(1), "a frozen layer changed");
        assertNotEquals(sepBefore, model.getLayer("block14_sepconv2").getWeights().get(1), "block14_sepconv2 did not learn");
        assertNotEquals(shortcutBefore, model.getLayer("conv2d_3").getWeights().get(0), "the block 13 shortcut did not learn");
    }
}
