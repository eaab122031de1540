package io.transferlab.applications;

import io.transferlab.models.Model;
import io.transferlab.weights.WeightStore;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VGG19 as keras.applications.VGG19 builds it; the counts are Keras's published figures (its applications table:
 * 143.7M with top) and what keras.applications.VGG19(include_top=False).count_params() gives.
 */
class Vgg19Test {
    @Test
    void countsAndNamesAreKeras() {
        Model top = Applications.vgg19().build();
        assertEquals(143_667_240L, top.countParams());
        assertEquals(26, top.layers().size()); // input, 16 convolutions, 5 poolings, flatten, fc1, fc2, predictions
        Model base = Applications.vgg19().includeTop(false).build();
        assertEquals(20_024_384L, base.countParams());
        assertEquals("block5_pool", base.getLayer(base.layers().size() - 1).name());
        assertEquals(java.util.List.of("block3_conv4", "block4_conv4", "block5_conv4"), base.layerNames().stream()
                .filter(n -> n.endsWith("_conv4")).toList());
        assertEquals(io.transferlab.layers.Shape.of(4, 4, 512),
                Applications.vgg19().includeTop(false).inputShape(150, 150, 3).build().outputShape());
    }

    @Test
    void itsPublishedWeightsAreKnown() {
        WeightStore.WeightsFile f = WeightStore.file("vgg19", false);
        assertEquals("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", f.fileName());
        assertEquals("253f8cb515780f3b799900260a226db6", f.md5());
        assertTrue(f.url().endsWith("/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"), f.url());
        assertEquals("cbe5617147190e668d6c5d5026f83318", WeightStore.file("vgg19", true).md5());
        assertThrows(IllegalArgumentException.class, () -> Applications.vgg19().includeTop(true).inputShape(150, 150, 3)
                .weights("imagenet").build());
    }
}
