package io.transferlab.applications;

import io.transferlab.layers.Dense;
import io.transferlab.models.Model;
import io.transferlab.optimizers.Optimizer;
import io.transferlab.train.History;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-tuning the families that have no test of their own for it (Xception, DenseNet121 and EfficientNetB0 do; MobileNet's is notebook 07's):
 * the base without top at a small size with average pooling, a new softmax head, everything up to the last block
 * frozen; three steps lower the loss, a frozen layer keeps its weights and a layer of the open block learns.
 */
class ApplicationsFineTuneTest {

    @ParameterizedTest(name = "{0}: frozen up to {1}")
    @CsvSource({
            "ResNet50, conv5_block2_out, conv4_block6_3_conv, conv5_block3_3_conv",
            "ResNet50V2, conv5_block2_out, conv4_block6_3_conv, conv5_block3_3_conv",
            "VGG19, block5_conv3, block5_conv3, block5_conv4"})
    void theLastBlockAndANewHeadLearn(String network, String frozenUpTo, String frozenLayer, String openLayer) {
        Model base = Applications.byName(network).includeTop(false).inputShape(32, 32, 3).pooling("avg").build();
        Model model = Model.of(base.input(), new Dense(2, "softmax", "head").on(base.output()));
        model.freezeUpTo(frozenUpTo);
        assertTrue(!model.getLayer(frozenLayer).isTrainable() && model.getLayer(openLayer).isTrainable(), network);
        model.compile(Optimizer.Adam(1e-3), "categorical_crossentropy", "accuracy");

        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 32, 32, 3).muli(2).subi(1);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 2);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 2, 1f);
            if (i % 2 == 0) {
                x.get(NDArrayIndex.point(i)).addi(0.5); // class 0: brighter images
            }
        }
        // random weights shrink the signal through a deep base (VGG19 has no batch normalization to restore it):
        // scale the inputs so that the base's features have about unit size, as real weights and images give
        double featureStd = base.predict(x).stdNumber().doubleValue();
        x.muli(Math.min(1e4, Math.max(1, 1 / featureStd)));
        INDArray frozenBefore = model.getLayer(frozenLayer).getWeights().get(0).dup();
        INDArray openBefore = model.getLayer(openLayer).getWeights().get(0).dup();

        History h = model.fit(x, y, 3, 8, null, null);
        double[] loss = h.get("loss");
        System.out.println(network + " fine-tuning loss by epoch: " + Arrays.toString(loss));
        assertTrue(loss[2] < 0.9 * loss[0], network + ": the loss should fall: " + Arrays.toString(loss));
        assertEquals(frozenBefore, model.getLayer(frozenLayer).getWeights().get(0), network + ": a frozen layer changed");
        assertNotEquals(openBefore, model.getLayer(openLayer).getWeights().get(0), network + ": " + openLayer + " did not learn");
    }
}
