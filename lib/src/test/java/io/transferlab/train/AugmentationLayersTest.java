package io.transferlab.train;

import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import io.transferlab.layers.Tensor;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/** Keras's augmentation layers in the model's input path: listed in the summary, identity at inference, applied in fit. */
class AugmentationLayersTest {

    @Test
    void augmentationSequentialIsOneSummaryRowAndIdentityAtInference() {
        var augmentation = Sequential.withInput(16, 16, 3);
        augmentation.add(RandomFlip("horizontal"));
        augmentation.add(RandomRotation(0.1));
        augmentation.add(RandomZoom(0.2));
        Tensor inputs = Input(16, 16, 3);
        Tensor x = augmentation.on(inputs);
        x = Flatten().on(x);
        Model model = Model.of(inputs, Dense(2, "softmax").on(x));
        String text = model.summaryText();
        assertTrue(text.contains("sequential") && text.contains("(Sequential)") && text.contains("(None, 16, 16, 3)"), text);

        INDArray img = Nd4j.rand(DataType.FLOAT, 3, 16, 16, 3);
        INDArray a = model.predict(img);
        INDArray b = model.predict(img);
        assertEquals(a, b, "no randomness at inference");

        var found = Trainer.inputAugmentation(model);
        assertNotNull(found);
        assertTrue(found.toString().contains("flip=true") && found.toString().contains("rotation=0.1")
                && found.toString().contains("zoom=0.2"), found.toString());
        INDArray aug = Trainer.augmentBatch(found, img, new java.util.Random(1));
        assertArrayEquals(img.shape(), aug.shape());
        assertNotEquals(img, aug, "training batches are transformed");
    }

    @Test
    void modelsWithoutAugmentationLayersAreLeftAlone() {
        Tensor in = Input(4, 4, 3);
        Model m = Model.of(in, Dense(1, "sigmoid").on(Flatten().on(in)));
        assertNull(Trainer.inputAugmentation(m));
    }
}
