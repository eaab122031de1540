package io.transferlab.applications;

import io.transferlab.layers.Dropout;
import io.transferlab.layers.Shape;
import io.transferlab.layers.ZeroPadding2D;
import io.transferlab.models.Model;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * EfficientNetB0..B7 as keras.applications builds them. Counts with the top: Keras's applications table
 * (keras.io/api/applications: B0 5,330,571, B1 7,856,239, B2 9,177,569, B3 12,320,535, B4 19,466,823, B5 30,562,527,
 * B6 43,265,143, B7 66,658,687); B0 without the top 4,049,571, of which 42,023 are not trainable (batch-norm
 * statistics, and the normalization's mean, variance and count).
 */
class EfficientNetTest {
    private static final List<Supplier<EfficientNet>> VARIANTS = List.of(Applications::efficientNetB0,
            Applications::efficientNetB1, Applications::efficientNetB2, Applications::efficientNetB3,
            Applications::efficientNetB4, Applications::efficientNetB5, Applications::efficientNetB6,
            Applications::efficientNetB7);
    private static final long[] KERAS_TOTALS = {5_330_571L, 7_856_239L, 9_177_569L, 12_320_535L, 19_466_823L,
            30_562_527L, 43_265_143L, 66_658_687L};
    private static final int[] SIZES = {224, 240, 260, 300, 380, 456, 528, 600};

    @Test
    void everyVariantHasKerasCountAndSize() {
        for (int b = 0; b < 8; b++) {
            Model m = VARIANTS.get(b).get().build();
            assertEquals(KERAS_TOTALS[b], m.countParams(), "EfficientNetB" + b);
            assertEquals("efficientnetb" + b, m.name());
            assertEquals(Shape.of(SIZES[b], SIZES[b], 3), m.inputShape(), "EfficientNetB" + b + " default size");
            assertEquals(Shape.of(1000), m.outputShape());
        }
    }

    @Test
    void b0NamesCountsAndLayers() {
        Model base = Applications.efficientNetB0().includeTop(false).build();
        assertEquals(4_049_571L, base.countParams());
        assertEquals(42_023L, base.nonTrainableParams());
        assertEquals(4_007_548L, base.trainableParams());
        assertEquals(Shape.of(-1, -1, 1280), base.outputShape());
        List<String> names = base.layerNames();
        assertEquals(List.of("rescaling", "normalization", "stem_conv_pad", "stem_conv", "stem_bn", "stem_activation",
                "block1a_dwconv", "block1a_bn", "block1a_activation", "block1a_se_squeeze", "block1a_se_reshape",
                "block1a_se_reduce", "block1a_se_expand", "block1a_se_excite", "block1a_project_conv",
                "block1a_project_bn", "block2a_expand_conv"), names.subList(1, 18));
        assertEquals("Normalization", base.getLayer("normalization").typeName());
        assertEquals(List.of("top_conv", "top_bn", "top_activation"), names.subList(names.size() - 3, names.size()));
        // 16 blocks in B0 (1+2+2+3+3+4+1), each with squeeze-and-excitation
        assertEquals(16, names.stream().filter(n -> n.endsWith("_se_excite")).count());
        // block1a and every first block of a stage change shape: no drop, no add
        assertFalse(names.contains("block1a_add") || names.contains("block2a_add") || names.contains("block2a_drop"));
        assertTrue(names.contains("block2b_drop") && names.contains("block2b_add") && names.contains("block7a_project_bn"));
        assertFalse(names.contains("block7a_add"));
        assertEquals(9, names.stream().filter(n -> n.endsWith("_drop")).count());
        // drop-connect: 0.2 * block index / 16, one decision per example
        Dropout d = (Dropout) base.getLayer("block2b_drop");
        assertEquals(0.2 * 2 / 16, d.rate(), 1e-12);
        assertArrayEquals(new long[]{Shape.NONE, 1, 1, 1}, d.noiseShape());
        assertEquals(0.2 * 14 / 16, ((Dropout) base.getLayer("block6d_drop")).rate(), 1e-12); // block 15 of 16
        Model top = Applications.efficientNetB0().build();
        assertEquals(List.of("avg_pool", "top_dropout", "predictions"),
                top.layerNames().subList(top.layerNames().size() - 3, top.layerNames().size()));
        assertEquals(0.2, ((Dropout) top.getLayer("top_dropout")).rate());
        assertEquals(0.5, ((Dropout) Applications.efficientNetB7().build().getLayer("top_dropout")).rate());
    }

    @Test
    void correctPadAndWidthRounding() {
        Model m = Applications.efficientNetB0().includeTop(false).inputShape(224, 224, 3).build();
        // even input: one row and column more after than before (Keras's correct_pad)
        assertArrayEquals(new int[]{0, 1, 0, 1}, ((ZeroPadding2D) m.getLayer("stem_conv_pad")).padding());
        assertArrayEquals(new int[]{1, 2, 1, 2}, ((ZeroPadding2D) m.getLayer("block3a_dwconv_pad")).padding());
        assertEquals(Shape.of(7, 7, 1280), m.outputShape());
        Model odd = Applications.efficientNetB0().includeTop(false).inputShape(33, 33, 3).build();
        assertArrayEquals(new int[]{1, 1, 1, 1}, ((ZeroPadding2D) odd.getLayer("stem_conv_pad")).padding());
        // any size without input shape: Keras pads as for an even size
        assertArrayEquals(new int[]{0, 1, 0, 1}, ((ZeroPadding2D) Applications.efficientNetB0().includeTop(false).build()
                .getLayer("stem_conv_pad")).padding());
        // round_filters: B7's stem 64, top 2560; B2's stem 32, top 1408 (1280 * 1.1), block7 352
        Model b7 = Applications.efficientNetB7().includeTop(false).build();
        assertEquals(64, b7.getLayer("stem_conv").outputShape().get(2));
        assertEquals(2560, b7.outputShape().get(2));
        assertTrue(b7.layerNames().contains("block2g_add") && !b7.layerNames().contains("block2h_add"));
        Model b2 = Applications.efficientNetB2().includeTop(false).build();
        assertEquals(1408, b2.outputShape().get(2));
        assertEquals(352, b2.getLayer("block7b_project_bn").outputShape().get(2));
    }

    @Test
    void builderOptionsAsTheOtherApplications() {
        Model avg = Applications.efficientNetB0().includeTop(false).pooling("avg").inputShape(64, 64, 3).build();
        assertEquals(Shape.of(1280), avg.outputShape());
        assertEquals("avg_pool", avg.layerNames().get(avg.layerNames().size() - 1));
        Model max = Applications.efficientNetB0().includeTop(false).pooling("max").inputShape(64, 64, 3).build();
        assertEquals("max_pool", max.layerNames().get(max.layerNames().size() - 1));
        Model five = Applications.efficientNetB0().classes(5).classifierActivation(null).inputShape(224, 224, 3).build();
        assertEquals(Shape.of(5), five.outputShape());
        assertEquals(5_330_571L - 1281L * 995, five.countParams());
        assertThrows(IllegalArgumentException.class, () -> Applications.efficientNetB0().inputShape(16, 16, 3));
        assertThrows(IllegalArgumentException.class,
                () -> Applications.efficientNetB0().classes(5).weights("imagenet").build());
    }
}
