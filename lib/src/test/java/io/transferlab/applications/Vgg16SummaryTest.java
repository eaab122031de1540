package io.transferlab.applications;

import io.transferlab.graph.Functional;
import io.transferlab.graph.LayerNotFoundException;
import io.transferlab.models.Model;
import io.transferlab.models.Sequential;
import io.transferlab.layers.Shape;
import io.transferlab.layers.ShapeException;
import io.transferlab.layers.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/** The tutorials' parameter figures, which Keras prints for the same models. */
class Vgg16SummaryTest {

    @Test
    void vgg16WithoutTopHasKerasCount() {
        Model base = Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build();
        assertEquals(14_714_688L, base.countParams());
        assertEquals(Shape.of(4, 4, 512), base.outputShape());
        String text = base.summaryText();
        assertTrue(text.contains("Total params: 14,714,688\n"), text);
        assertTrue(text.contains("Trainable params: 14,714,688\n"), text);
        assertTrue(text.contains("Non-trainable params: 0\n"), text);
        assertTrue(text.startsWith("Model: \"vgg16\"\n"), text);
    }

    @Test
    void vgg16WithTopAt224HasKerasCount() {
        Model m = Applications.vgg16().build();
        assertEquals(138_357_544L, m.countParams());
        assertEquals(Shape.of(1000), m.outputShape());
        assertEquals(List.of("block1_conv1", "block1_conv2", "block1_pool"), m.layerNames().subList(1, 4));
        assertEquals(List.of("flatten", "fc1", "fc2", "predictions"), m.layerNames().subList(19, 23));
        assertTrue(m.summaryText().contains("Total params: 138,357,544\n"));
    }

    @Test
    void summaryRowsAreWrittenAsKerasWritesThem() {
        Model base = Applications.vgg16().includeTop(false).inputShape(256, 256, 3).build();
        List<String> lines = base.summaryText().lines().toList();
        assertEquals("Layer (type)                 Output Shape              Param #", lines.get(2));
        assertTrue(lines.get(4).matches("input_\\d+ \\(InputLayer\\) +\\[\\(None, 256, 256, 3\\)\\] +0"), lines.get(4));
        assertEquals("block1_conv1 (Conv2D)        (None, 256, 256, 64)      1792", lines.get(6));
        assertEquals("block5_pool (MaxPooling2D)   (None, 8, 8, 512)         0", lines.get(40));
    }

    @Test
    void withoutInputShapeTheBaseTakesAnySize() {
        Model base = Applications.vgg16().includeTop(false).build();
        assertEquals("(None, None, None, 512)", base.outputShape().toString());
        assertEquals(14_714_688L, base.countParams());
        Model at160 = Applications.vgg16().includeTop(false).inputShape(160, 160, 3).build();
        assertEquals(Shape.of(5, 5, 512), at160.outputShape());
    }

    /** Tutorial 3: input 256x256, VGG16 base + Flatten + Dense(4096) + Dense(4096) + Dense(5), functional form. */
    @Test
    void flowersModelFunctionalFormFreezing() {
        Model base = Applications.vgg16().includeTop(false).inputShape(256, 256, 3).build();
        Tensor x = Flatten().on(base.output());
        x = Dense(4096, "relu").on(x);
        x = Dense(4096, "relu").on(x);
        Tensor outputs = Dense(5, "softmax").on(x);
        Model model = Model.of(base.input(), outputs);
        assertEquals(165_738_309L, model.countParams());
        assertEquals(165_738_309L, model.trainableParams());

        base.freeze();
        assertEquals(151_023_621L, model.trainableParams());
        assertEquals(14_714_688L, model.nonTrainableParams());

        base.unfreeze();
        base.freeze(0, 15);
        assertEquals("block4_pool", base.getLayer(14).name());
        assertEquals(158_103_045L, model.trainableParams());
        assertEquals(7_635_264L, model.nonTrainableParams());
        String text = model.summaryText();
        assertTrue(text.contains("Total params: 165,738,309\nTrainable params: 158,103,045\nNon-trainable params: 7,635,264\n"), text);

        base.unfreeze();
        base.freezeUpTo("block4_pool");
        assertEquals(158_103_045L, model.trainableParams());
        base.freeze();
        base.unfreezeFrom("block5_conv1");
        assertEquals(158_103_045L, model.trainableParams());
    }

    /** Tutorial 3, supplement 1: Sequential with the base as one row. */
    @Test
    void flowersModelSequentialFormShowsBaseAsOneRow() {
        Model base = Applications.vgg16().includeTop(false).inputShape(256, 256, 3).build();
        Sequential model = Sequential.of(base, Flatten(), Dense(4096, "relu"), Dense(4096, "relu"), Dense(5, "softmax"));
        base.setTrainable(false);
        String text = model.summaryText();
        assertTrue(text.contains("vgg16 (Functional)           (None, 8, 8, 512)         14714688\n"), text);
        assertTrue(text.contains("Total params: 165,738,309\nTrainable params: 151,023,621\nNon-trainable params: 14,714,688\n"), text);
        assertEquals(5, model.layers().size());

        base.setTrainable(true);
        ((Model) model.getLayer(0)).freeze(0, 15);
        assertEquals(158_103_045L, model.trainableParams());
        assertEquals(7_635_264L, model.nonTrainableParams());
    }

    @Test
    void unknownLayerNameListsNearestFirst() {
        Model base = Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build();
        var e = assertThrows(LayerNotFoundException.class, () -> base.getLayer("block2_poll"));
        assertTrue(e.getMessage().contains("No layer named 'block2_poll' in model 'vgg16'. Nearest: block2_pool,"), e.getMessage());
    }

    @Test
    void freezeRangeOutOfBoundsSaysTheValidRange() {
        Model base = Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build();
        var e = assertThrows(IndexOutOfBoundsException.class, () -> base.freeze(0, 30));
        assertTrue(e.getMessage().contains("has 19 layers"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> base.getLayer(19));
        // nothing was frozen by the failed call
        assertEquals(14_714_688L, base.trainableParams());
    }

    @Test
    void tooSmallInputNamesTheSmallestThatWorks() {
        var e = assertThrows(ShapeException.class,
                () -> Applications.vgg16().includeTop(false).inputShape(16, 16, 3).build());
        assertTrue(e.getMessage().contains("smallest input that works is 32x32"), e.getMessage());
        assertEquals(Shape.of(1, 1, 512), Applications.vgg16().includeTop(false).inputShape(32, 32, 3).build().outputShape());
    }

    @Test
    void wrongChannelCountIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Applications.vgg16().inputShape(224, 224, 1));
    }

    /** Tutorial 3's first form: augmentation layers, then VGG16 built on their output (Keras's input_tensor). */
    @Test
    void vgg16OnAnInputTensorContinuesTheGraph() {
        var augmentation = Sequential.withInput(256, 256, 3);
        augmentation.add(RandomFlip("horizontal"));
        augmentation.add(RandomRotation(0.1));
        augmentation.add(RandomZoom(0.2));
        Tensor inputs = Input(256, 256, 3);
        Model base = Applications.vgg16().includeTop(false).inputTensor(augmentation.on(inputs)).build();
        Tensor x = Flatten().on(base.output());
        x = Dense(4096, "relu").on(x);
        x = Dense(4096, "relu").on(x);
        Model model = Model.of(inputs, Dense(5, "softmax").on(x));
        assertEquals(165_738_309L, model.countParams());
        assertTrue(model.summaryText().contains("(Sequential)"), model.summaryText());
        assertEquals("block1_conv1", base.getLayer(2).name(), "input, augmentation block, then VGG16's layers");
        base.freeze();
        assertEquals(151_023_621L, model.trainableParams());
        base.unfreeze();
        base.freeze(0, 15);
        assertEquals(158_103_045L, model.trainableParams());
        assertEquals(7_635_264L, model.nonTrainableParams());
    }
}
