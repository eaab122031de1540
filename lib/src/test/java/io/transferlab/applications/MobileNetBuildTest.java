package io.transferlab.applications;

import io.transferlab.engine.dl4j.Dl4jEngine;
import io.transferlab.models.Model;
import io.transferlab.layers.Names;
import io.transferlab.layers.Shape;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** MobileNet and MobileNetV2 with Keras's layer names, shapes and parameter counts. */
class MobileNetBuildTest {

    @Test
    void mobileNetQuarterWidthWithoutTopHasKerasCount() {
        Model m = Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(224, 224, 3).build();
        assertEquals(218_544L, m.countParams());
        assertEquals("mobilenet_0.25_224", m.name());
        assertEquals(Shape.of(7, 7, 256), m.outputShape());
        // BatchNormalization moving statistics are Keras's non-trainable weights: 2 per channel
        assertEquals(m.countParams() - m.trainableParams(), 2L * channelsOfAllBatchNorms(m));
        // every BatchNormalization has scale and center, so DL4J counts what Keras counts
        assertEquals(m.countParams(), Dl4jEngine.get().network(m).numParams());
        List<String> names = m.layerNames();
        assertEquals(List.of("conv1", "conv1_bn", "conv1_relu", "conv_dw_1", "conv_dw_1_bn", "conv_dw_1_relu",
                "conv_pw_1", "conv_pw_1_bn", "conv_pw_1_relu", "conv_pad_2", "conv_dw_2"), names.subList(1, 12));
        assertEquals("conv_pw_13_relu", names.get(names.size() - 1));
        assertEquals(1 + 3 + 13 * 6 + 4, names.size()); // input, conv1 block, 13 blocks, 4 paddings
        assertTrue(m.summaryText().contains("Total params: 218,544\n"), m.summaryText());
    }

    private static long channelsOfAllBatchNorms(Model m) {
        return m.layers().stream().filter(l -> l instanceof io.transferlab.layers.BatchNormalization)
                .mapToLong(l -> l.weightSpecs().get(0).shape()[0]).sum();
    }

    @Test
    void mobileNetFullWidthHasKerasCounts() {
        Names.reset();
        Model top = Applications.mobileNet().build();
        assertEquals(4_253_864L, top.countParams());
        assertEquals(Shape.of(1000), top.outputShape());
        assertEquals("mobilenet_1.00_224", top.name());
        List<String> names = top.layerNames();
        assertEquals(List.of("global_average_pooling2d", "reshape_1", "dropout", "conv_preds", "reshape_2", "predictions"),
                names.subList(names.size() - 6, names.size()));
        Model noTop = Applications.mobileNet().includeTop(false).build();
        assertEquals(3_228_864L, noTop.countParams());
        assertEquals(Shape.of(Shape.NONE, Shape.NONE, 1024), noTop.outputShape());
        assertEquals("mobilenet_1.00_None", noTop.name());
        Model pooled = Applications.mobileNet().alpha(0.5).includeTop(false).inputShape(160, 160, 3).pooling("max").build();
        assertEquals(Shape.of(512), pooled.outputShape());
        assertEquals("mobilenet_0.50_160", pooled.name());
        var e = assertThrows(IllegalArgumentException.class,
                () -> Applications.mobileNet().classes(10).weights("imagenet").build());
        assertTrue(e.getMessage().contains("1000 classes"), e.getMessage());
    }

    @Test
    void mobileNetV2HasKerasCountsAndNames() {
        Model top = Applications.mobileNetV2().build();
        assertEquals(3_538_984L, top.countParams());
        assertEquals("mobilenetv2_1.00_224", top.name());
        Model noTop = Applications.mobileNetV2().includeTop(false).inputShape(224, 224, 3).build();
        assertEquals(2_257_984L, noTop.countParams());
        assertEquals(Shape.of(7, 7, 1280), noTop.outputShape());
        assertEquals(noTop.countParams(), Dl4jEngine.get().network(noTop).numParams());
        List<String> names = noTop.layerNames();
        assertEquals(List.of("Conv1", "bn_Conv1", "Conv1_relu", "expanded_conv_depthwise", "expanded_conv_depthwise_BN",
                "expanded_conv_depthwise_relu", "expanded_conv_project", "expanded_conv_project_BN", "block_1_expand",
                "block_1_expand_BN", "block_1_expand_relu", "block_1_pad", "block_1_depthwise"), names.subList(1, 14));
        assertTrue(names.contains("block_2_add"));
        assertFalse(names.contains("block_3_add"));
        assertEquals(List.of("Conv_1", "Conv_1_bn", "out_relu"), names.subList(names.size() - 3, names.size()));
        assertEquals(0.999, ((io.transferlab.layers.BatchNormalization) noTop.getLayer("block_5_project_BN")).momentum());
    }

    @Test
    void smallInputsRunAndTooSmallOnesAreRefused() {
        Model v2 = Applications.mobileNetV2().alpha(0.35).includeTop(false).inputShape(35, 33, 3).pooling("avg").build();
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 35, 33, 3);
        INDArray y = v2.predict(x);
        assertArrayEquals(new long[]{2, v2.outputShape().get(0)}, y.shape());
        assertFalse(y.isNaN().any());
        // Keras's correct_pad: Conv1 gives 18x17; even height pads (0, 1), odd width pads (1, 1)
        assertEquals(Shape.of(18, 17, 48), v2.getLayer("block_1_pad").inputShapes().get(0));
        assertArrayEquals(new int[]{0, 1, 1, 1}, ((io.transferlab.layers.ZeroPadding2D) v2.getLayer("block_1_pad")).padding());
        Model v1 = Applications.mobileNet().alpha(0.25).includeTop(true).classes(3).inputShape(64, 64, 3).build();
        INDArray p = v1.predict(Nd4j.rand(DataType.FLOAT, 2, 64, 64, 3));
        assertEquals(1.0, p.sum(1).getDouble(0), 1e-4);
        var e = assertThrows(IllegalArgumentException.class, () -> Applications.mobileNet().inputShape(31, 64, 3));
        assertTrue(e.getMessage().contains("at least 32x32"), e.getMessage());
    }

    @Test
    void networksSurviveDl4jJsonAndCloning() {
        Model v2 = Applications.mobileNetV2().alpha(0.35).classes(5).inputShape(32, 32, 3).build();
        Model v1 = Applications.mobileNet().alpha(0.25).classes(5).inputShape(32, 32, 3).build();
        for (Model m : List.of(v1, v2)) {
            var conf = Dl4jEngine.get().network(m).getConfiguration();
            assertEquals(conf, org.deeplearning4j.nn.conf.ComputationGraphConfiguration.fromJson(conf.toJson()), m.name());
            INDArray x = Nd4j.rand(DataType.FLOAT, 2, 32, 32, 3);
            assertEquals(m.predict(x), Dl4jEngine.get().network(m).clone().outputSingle(false, x), m.name());
        }
    }
}
