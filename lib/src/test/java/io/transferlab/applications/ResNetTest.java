package io.transferlab.applications;

import io.transferlab.layers.Shape;
import io.transferlab.models.Model;
import io.transferlab.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ResNet family as keras.applications builds it. Counts: Keras's published figures (ResNet50 25,636,712 with
 * top, 23,587,712 without, of which 53,120 non-trainable: the batch-norm statistics; ResNet50V2 25,613,800 with
 * top; the applications table's 44.7M and 60.4M for the deeper ones). Weight files and MD5s: resnet.py's
 * WEIGHTS_HASHES.
 */
class ResNetTest {
    @Test
    void resNet50CountsAndNamesAreKeras() {
        Model top = Applications.resNet50().build();
        assertEquals(25_636_712L, top.countParams());
        Model base = Applications.resNet50().includeTop(false).build();
        assertEquals(23_587_712L, base.countParams());
        assertEquals(23_534_592L, base.trainableParams());
        assertEquals(53_120L, base.nonTrainableParams());
        assertEquals(List.of("input_1", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
                "conv2_block1_1_conv"), base.layerNames().subList(0, 8).stream()
                .map(n -> n.startsWith("input") ? "input_1" : n).toList());
        assertEquals("conv5_block3_out", base.getLayer(base.layers().size() - 1).name());
        assertEquals(Shape.of(-1, -1, 2048), base.outputShape()); // no input_shape without the top: any size, as in Keras
        assertEquals(Shape.of(7, 7, 2048), Applications.resNet50().includeTop(false).inputShape(224, 224, 3).build().outputShape());
        assertTrue(base.layerNames().contains("conv2_block1_0_conv") && base.layerNames().contains("conv4_block6_add"));
    }

    @Test
    void theOtherDepthsAndV2() {
        assertEquals(25_613_800L, Applications.resNet50V2().build().countParams());
        Model v2 = Applications.resNet50V2().includeTop(false).inputShape(224, 224, 3).build();
        assertEquals("post_relu", v2.getLayer(v2.layers().size() - 1).name());
        assertEquals(Shape.of(7, 7, 2048), v2.outputShape());
        assertEquals(44.7, Applications.resNet101().build().countParams() / 1e6, 0.05);
        assertEquals(60.4, Applications.resNet152().build().countParams() / 1e6, 0.05);
        assertEquals(44.7, Applications.resNet101V2().build().countParams() / 1e6, 0.05);
        assertEquals(60.4, Applications.resNet152V2().build().countParams() / 1e6, 0.05);
    }

    @Test
    void runsOnTheFastPathLikeOnDl4j() {
        Model m = Applications.resNet50V2().includeTop(false).inputShape(64, 64, 3).pooling("avg").build();
        assertTrue(io.transferlab.inference.Inference.describe(m).startsWith("oneDNN plan"), io.transferlab.inference.Inference.describe(m));
        Nd4j.getRandom().setSeed(3);
        var x = Nd4j.rand(DataType.FLOAT, 2, 64, 64, 3);
        var fast = m.predict(x);
        var dl4j = io.transferlab.engine.dl4j.Dl4jEngine.get().network(m).outputSingle(false, x);
        double rel = fast.sub(dl4j).norm2Number().doubleValue() / dl4j.norm2Number().doubleValue();
        assertTrue(rel < 1e-4, "relative difference " + rel);
    }

    @Test
    void publishedWeightFiles() {
        WeightStore.WeightsFile f = WeightStore.file("resnet50", false);
        assertEquals("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", f.fileName());
        assertEquals("4d473c1dd8becc155b73f8504c6f6626", f.md5());
        assertTrue(f.url().endsWith("/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"));
        assertEquals("2cb95161c43110f7111970584f804107", WeightStore.file("resnet50", true).md5());
        assertEquals("ed17cf2e0169df9d443503ef94b23b33", WeightStore.file("resnet152v2", false).md5());
    }
}
