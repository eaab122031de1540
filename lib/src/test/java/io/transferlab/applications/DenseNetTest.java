package io.transferlab.applications;

import io.transferlab.data.Preprocessing;
import io.transferlab.inference.Inference;
import io.transferlab.layers.Shape;
import io.transferlab.models.Model;
import io.transferlab.weights.WeightStore;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DenseNet121/169/201 as keras.applications builds them. DenseNet121 with top: 8,062,504 (Keras's documented
 * figure); the others' figures (DenseNet169 14,307,880, DenseNet201 20,242,984 with top), the counts without top and
 * the non-trainable batch-norm statistics were computed by hand from densenet.py's layers: conv1 7x7x3x64 without
 * bias; per bottleneck block 4c (BN) + 128c (1x1) + 512 (BN) + 36,864 (3x3) for c input channels; per transition 4c +
 * c*c/2; the last BN 4c; the top 1001 * 1000 for c = 1024, 1664, 1920.
 */
class DenseNetTest {
    @Test
    void countsAreKeras() {
        long[][] want = {
                // with top, without top, trainable without top, non-trainable
                {8_062_504L, 7_037_504L, 6_953_856L, 83_648L},
                {14_307_880L, 12_642_880L, 12_484_480L, 158_400L},
                {20_242_984L, 18_321_984L, 18_092_928L, 229_056L}};
        List<java.util.function.Supplier<DenseNet>> builders =
                List.of(Applications::denseNet121, Applications::denseNet169, Applications::denseNet201);
        for (int i = 0; i < 3; i++) {
            Model top = builders.get(i).get().build();
            Model base = builders.get(i).get().includeTop(false).build();
            assertEquals(want[i][0], top.countParams(), top.name());
            assertEquals(want[i][1], base.countParams(), base.name());
            assertEquals(want[i][2], base.trainableParams(), base.name());
            assertEquals(want[i][3], base.nonTrainableParams(), base.name());
            assertEquals(want[i][3], top.nonTrainableParams(), top.name());
        }
    }

    @Test
    void namesAndShapesAreKeras() {
        Model m = Applications.denseNet121().build();
        assertEquals("densenet121", m.name());
        assertEquals(List.of("zero_padding2d", "conv1/conv", "conv1/bn", "conv1/relu", "zero_padding2d_1", "pool1",
                "conv2_block1_0_bn", "conv2_block1_0_relu", "conv2_block1_1_conv", "conv2_block1_1_bn",
                "conv2_block1_1_relu", "conv2_block1_2_conv", "conv2_block1_concat"), m.layerNames().subList(1, 14));
        assertEquals(List.of("conv5_block16_concat", "bn", "relu", "avg_pool", "fc1000"),
                m.layerNames().subList(m.layerNames().size() - 5, m.layerNames().size()));
        assertEquals(Shape.of(7, 7, 1024), m.getLayer("relu").output().shape());
        assertEquals(Shape.of(28, 28, 128), m.getLayer("pool2_pool").output().shape());
        assertEquals(Shape.of(56, 56, 256), m.getLayer("conv2_block6_concat").output().shape());
        assertEquals(Shape.of(56, 56, 128), m.getLayer("pool2_conv").output().shape());
        assertEquals(Shape.of(14, 14, 256), m.getLayer("pool3_pool").output().shape());
        assertEquals(Shape.of(7, 7, 512), m.getLayer("pool4_pool").output().shape());
        assertEquals(Shape.of(1000), m.outputShape());
        // Keras's layer count: input + 2 paddings + stem 3 + pool1 + 58 blocks x 7 + 3 transitions x 4 + bn, relu, avg_pool, fc1000
        assertEquals(1 + 2 + 3 + 1 + 58 * 7 + 3 * 4 + 4, m.layers().size());
        Model base = Applications.denseNet201().includeTop(false).pooling("max").build();
        assertEquals("max_pool", base.getLayer(base.layers().size() - 1).name());
        assertEquals(Shape.of(1920), base.outputShape());
        assertEquals(Shape.of(-1, -1, 1664), Applications.denseNet169().includeTop(false).build().outputShape());
    }

    @Test
    void smallestInputIs32() {
        assertEquals(Shape.of(1, 1, 1024), Applications.denseNet121().includeTop(false).inputShape(32, 32, 3).build().outputShape());
        var e = assertThrows(IllegalArgumentException.class, () -> Applications.denseNet121().inputShape(31, 64, 3));
        assertTrue(e.getMessage().contains("at least 32x32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Applications.denseNet121().inputShape(64, 64, 1));
        // the ImageNet classifier only takes 224x224
        var imagenet = assertThrows(IllegalArgumentException.class,
                () -> Applications.denseNet121().inputShape(64, 64, 3).weights("imagenet").build());
        assertTrue(imagenet.getMessage().contains("224x224x3"), imagenet.getMessage());
    }

    @Test
    void runsOnTheFastPlanWithoutFallingBack() {
        Model m = Applications.denseNet121().includeTop(false).inputShape(64, 64, 3).pooling("avg").build();
        String path = Inference.describe(m);
        assertTrue(path.startsWith("oneDNN plan"), path);
        Nd4j.getRandom().setSeed(3);
        var x = Nd4j.rand(DataType.FLOAT, 2, 64, 64, 3);
        var fast = m.predict(x);
        assertEquals(null, io.transferlab.engine.onednn.OneDnnEngine.get().whyNot(m));
        var dl4j = io.transferlab.engine.dl4j.Dl4jEngine.get().network(m).outputSingle(false, x);
        assertArrayEquals(new long[]{2, 1024}, fast.shape());
        double rel = fast.sub(dl4j).norm2Number().doubleValue() / dl4j.norm2Number().doubleValue();
        assertTrue(rel < 1e-4, "relative difference " + rel);
    }

    @Test
    void publishedFilesAndPreprocessing() {
        WeightStore.WeightsFile f = WeightStore.file("densenet121", false);
        assertEquals("https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
                + "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5", f.url());
        assertEquals("30ee3e1110167f948a6b9946edeeb738", f.md5());
        assertEquals(Preprocessing.TORCH, Preprocessing.forModel("densenet169"));
        float[] px = {255f, 0f, 127.5f};
        Preprocessing.TORCH.apply(px);
        // Keras's mode "torch": x / 255, minus (0.485, 0.456, 0.406), divided by (0.229, 0.224, 0.225), RGB kept
        assertEquals((1 - 0.485) / 0.229, px[0], 1e-5);
        assertEquals((0 - 0.456) / 0.224, px[1], 1e-5);
        assertEquals((0.5 - 0.406) / 0.225, px[2], 1e-5);
        assertEquals(Preprocessing.TF, Preprocessing.forModel("resnet50v2"));
        assertEquals(Preprocessing.CAFFE, Preprocessing.forModel("resnet50"));
    }
}
