package io.transferlab.applications;

import io.transferlab.layers.BatchNormalization;
import io.transferlab.layers.Layer;
import io.transferlab.layers.SeparableConv2D;
import io.transferlab.layers.Shape;
import io.transferlab.models.Model;
import io.transferlab.weights.WeightStore;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Xception as keras.applications builds it: Keras's published counts (22,910,480 with the top; 20,861,480
 * without), the non-trainable share computed from the architecture (the moving mean and variance of every batch
 * normalization), Keras's layer names, sizes and options.
 */
class XceptionTest {

    @Test
    void countsAreKeras() {
        Model top = Applications.xception().build();
        assertEquals(22_910_480L, top.countParams());
        assertEquals(Shape.of(299, 299, 3), top.inputShape());
        Model base = Applications.xception().includeTop(false).build();
        assertEquals(20_861_480L, base.countParams());
        // batch normalizations' channels, block by block as xception.py builds them: block1 32, 64; blocks 2, 3, 4
        // two separable convolutions and the shortcut each (128, 256, 728); blocks 5-12 three of 728; block 13 728,
        // 1024 and the 1024 shortcut; block 14 1536, 2048. Two statistics per channel are not trainable.
        long channels = 32 + 64 + 3 * 128 + 3 * 256 + 3 * 728 + 8 * 3 * 728 + 728 + 2 * 1024 + 1536 + 2048;
        assertEquals(2 * channels, base.nonTrainableParams());
        assertEquals(54_528L, base.nonTrainableParams());
        assertEquals(20_861_480L - 54_528L, base.trainableParams());
        long bnChannels = base.layers().stream().filter(l -> l instanceof BatchNormalization)
                .mapToLong(l -> l.weightSpecs().get(0).shape()[0]).sum();
        assertEquals(channels, bnChannels);
        assertEquals(34, base.layers().stream().filter(l -> l instanceof SeparableConv2D).count());
    }

    @Test
    void namesAndShapesAreKeras() {
        Model base = Applications.xception().includeTop(false).inputShape(299, 299, 3).build();
        assertEquals(132, base.layers().size());
        assertEquals(Shape.of(10, 10, 2048), base.outputShape());
        List<String> names = base.layerNames();
        assertEquals(List.of("block1_conv1", "block1_conv1_bn", "block1_conv1_act", "block1_conv2", "block1_conv2_bn",
                "block1_conv2_act"), names.subList(1, 7));
        assertEquals("block14_sepconv2_act", names.get(names.size() - 1));
        for (String n : List.of("conv2d", "conv2d_3", "batch_normalization_3", "add", "add_11", "block2_sepconv2_act",
                "block13_pool", "block12_sepconv3_bn")) {
            assertTrue(names.contains(n), n + " missing");
        }
        assertTrue(!names.contains("block2_sepconv1_act") && !names.contains("conv2d_4") && !names.contains("add_12"));
        for (Layer l : base.layers()) {
            if (l instanceof SeparableConv2D s) {
                assertTrue(!s.hasBias(), l.name());
            }
        }
        assertEquals(Shape.of(3, 3, 2048), Applications.xception().includeTop(false).inputShape(71, 71, 3).build().outputShape());
        assertEquals(Shape.of(-1, -1, 2048), Applications.xception().includeTop(false).build().outputShape());
        Model avg = Applications.xception().includeTop(false).pooling("avg").inputShape(96, 96, 3).build();
        assertEquals(Shape.of(2048), avg.outputShape());
        assertEquals("global_average_pooling2d", avg.layerNames().get(avg.layerNames().size() - 1));
        Model max = Applications.xception().includeTop(false).pooling("max").inputShape(96, 96, 3).build();
        assertEquals("global_max_pooling2d", max.layerNames().get(max.layerNames().size() - 1));
        Model top = Applications.xception().classes(10).classifierActivation("linear").build();
        assertEquals(List.of("avg_pool", "predictions"), top.layerNames().subList(132, 134));
        assertEquals(Shape.of(10), top.outputShape());
    }

    @Test
    void sizeRulesAreKeras() {
        var e = assertThrows(IllegalArgumentException.class, () -> Applications.xception().includeTop(false).inputShape(70, 96, 3));
        assertTrue(e.getMessage().contains("71x71"), e.getMessage());
        var imagenet = assertThrows(IllegalArgumentException.class,
                () -> Applications.xception().weights("imagenet").inputShape(224, 224, 3).build());
        assertTrue(imagenet.getMessage().contains("299x299x3"), imagenet.getMessage());
    }

    @Test
    void publishedWeightFiles() {
        WeightStore.WeightsFile f = WeightStore.file("xception", false);
        assertEquals("xception_weights_tf_dim_ordering_tf_kernels_notop.h5", f.fileName());
        assertEquals("b0042744bf5b25fce3cb969f33bebb97", f.md5());
        assertTrue(f.url().endsWith("/keras-applications/xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5"));
        assertEquals("0a58e3b7378bc2990ea3b43d5981f1f6", WeightStore.file("xception", true).md5());
        assertEquals(io.transferlab.data.Preprocessing.TF, io.transferlab.data.Preprocessing.forModel("xception"));
    }
}
