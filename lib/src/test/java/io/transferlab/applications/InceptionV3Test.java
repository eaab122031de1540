package io.transferlab.applications;

import io.transferlab.models.Model;
import io.transferlab.layers.Shape;
import io.transferlab.layers.Tensor;
import org.junit.jupiter.api.Test;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/** Keras's published InceptionV3 figures and the InceptionV3 tutorial's cut at mixed7. */
class InceptionV3Test {

    @Test
    void countsWithoutAndWithTop() {
        Model base = Applications.inceptionV3().includeTop(false).inputShape(299, 299, 3).build();
        assertEquals(21_802_784L, base.countParams());
        assertEquals(21_768_352L, base.trainableParams());
        assertEquals(34_432L, base.nonTrainableParams());
        assertEquals(Shape.of(8, 8, 2048), base.outputShape());
        Model full = Applications.inceptionV3().build();
        assertEquals(23_851_784L, full.countParams());
        assertEquals(Shape.of(1000), full.outputShape());
    }

    @Test
    void tutorialCutAtMixed7WithNewHead() {
        Model pre = Applications.inceptionV3().includeTop(false).inputShape(150, 150, 3).build();
        pre.freeze();
        var last = pre.getLayer("mixed7");
        assertEquals(Shape.of(7, 7, 768), last.outputShape());
        Tensor x = Flatten().on(last.output());
        x = Dense(1024, "relu").on(x);
        x = Dropout(0.2).on(x);
        x = Dense(1, "sigmoid").on(x);
        Model model = Model.of(pre.input(), x);
        assertEquals(47_512_481L, model.countParams());
        assertEquals(38_537_217L, model.trainableParams());
        assertEquals(8_975_264L, model.nonTrainableParams());
        String text = model.summaryText();
        assertTrue(text.contains("Total params: 47,512,481\nTrainable params: 38,537,217\nNon-trainable params: 8,975,264\n"), text);
        assertTrue(text.contains("Connected to"), "a graph model's summary shows connections");
        assertTrue(text.lines().anyMatch(l -> l.startsWith("mixed7 (Concatenate)") && l.contains("(None, 7, 7, 768)")
                && l.contains("'activation_")), text);
        assertEquals(8_975_264L, pre.upTo("mixed7").countParams());
    }

    @Test
    void withoutInputShapeAnySizeWorks() {
        Model base = Applications.inceptionV3().includeTop(false).build();
        assertEquals("(None, None, None, 2048)", base.outputShape().toString());
        assertEquals(21_802_784L, base.countParams());
        assertEquals(311, base.layers().size(), "Keras's InceptionV3 without top has 311 layers");
    }

    @Test
    void tooSmallInputSaysTheSmallestSize() {
        var e = assertThrows(io.transferlab.layers.ShapeException.class,
                () -> Applications.inceptionV3().includeTop(false).inputShape(60, 60, 3).build());
        assertTrue(e.getMessage().contains("smallest input that works is 75x75"), e.getMessage());
    }
}
