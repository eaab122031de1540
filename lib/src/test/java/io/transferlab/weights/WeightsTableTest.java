package io.transferlab.weights;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The published weight files, line by line against Keras's application sources: keras/applications/vgg16.py and
 * vgg19.py (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP and the file_hash arguments), inception_v3.py, resnet.py
 * (BASE_WEIGHTS_PATH + model_name + "_weights_tf_dim_ordering_tf_kernels[_notop].h5", WEIGHTS_HASHES),
 * densenet.py (BASE_WEIGHTS_PATH + "densenet" + depth + "_weights_tf_dim_ordering_tf_kernels[_notop].h5", file_hash),
 * mobilenet.py (BASE_WEIGHT_PATH ending in keras-applications/mobilenet/, "mobilenet_%s_%d_tf[_no_top].h5") and
 * mobilenet_v2.py (".../mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_" + alpha + "_" + rows) and
 * xception.py (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP under keras-applications/xception/, file_hash as passed to get_file).
 */
class WeightsTableTest {
    private static final String BASE = "https://storage.googleapis.com/tensorflow/keras-applications/";

    /** model, include_top, folder, file, MD5 as Keras's sources give them. */
    private static final List<String[]> KERAS = List.of(
            new String[]{"vgg16", "true", "vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b"},
            new String[]{"vgg16", "false", "vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc"},
            new String[]{"vgg19", "true", "vgg19", "vgg19_weights_tf_dim_ordering_tf_kernels.h5", "cbe5617147190e668d6c5d5026f83318"},
            new String[]{"vgg19", "false", "vgg19", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "253f8cb515780f3b799900260a226db6"},
            new String[]{"inception_v3", "true", "inception_v3", "inception_v3_weights_tf_dim_ordering_tf_kernels.h5", "9a0d58056eeedaa3f26cb7ebd46da564"},
            new String[]{"inception_v3", "false", "inception_v3", "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "bcbd6486424b2319ff4ef7d526e38f63"},
            new String[]{"resnet50", "true", "resnet", "resnet50_weights_tf_dim_ordering_tf_kernels.h5", "2cb95161c43110f7111970584f804107"},
            new String[]{"resnet50", "false", "resnet", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "4d473c1dd8becc155b73f8504c6f6626"},
            new String[]{"resnet101", "true", "resnet", "resnet101_weights_tf_dim_ordering_tf_kernels.h5", "f1aeb4b969a6efcfb50fad2f0c20cfc5"},
            new String[]{"resnet101", "false", "resnet", "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5", "88cf7a10940856eca736dc7b7e228a21"},
            new String[]{"resnet152", "true", "resnet", "resnet152_weights_tf_dim_ordering_tf_kernels.h5", "100835be76be38e30d865e96f2aaae62"},
            new String[]{"resnet152", "false", "resnet", "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5", "ee4c566cf9a93f14d82f913c2dc6dd0c"},
            new String[]{"resnet50v2", "true", "resnet", "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5", "3ef43a0b657b3be2300d5770ece849e0"},
            new String[]{"resnet50v2", "false", "resnet", "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "fac2f116257151a9d068a22e544a4917"},
            new String[]{"resnet101v2", "true", "resnet", "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5", "6343647c601c52e1368623803854d971"},
            new String[]{"resnet101v2", "false", "resnet", "resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "c0ed64b8031c3730f411d2eb4eea35b5"},
            new String[]{"resnet152v2", "true", "resnet", "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5", "a49b44d1979771252814e80f8ec446f9"},
            new String[]{"resnet152v2", "false", "resnet", "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "ed17cf2e0169df9d443503ef94b23b33"},
            new String[]{"xception", "true", "xception", "xception_weights_tf_dim_ordering_tf_kernels.h5", "0a58e3b7378bc2990ea3b43d5981f1f6"},
            new String[]{"xception", "false", "xception", "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "b0042744bf5b25fce3cb969f33bebb97"},
            new String[]{"densenet121", "true", "densenet", "densenet121_weights_tf_dim_ordering_tf_kernels.h5", "9d60b8095a5708f2dcce2bca79d332c7"},
            new String[]{"densenet121", "false", "densenet", "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5", "30ee3e1110167f948a6b9946edeeb738"},
            new String[]{"densenet169", "true", "densenet", "densenet169_weights_tf_dim_ordering_tf_kernels.h5", "d699b8f76981ab1b30698df4c175e90b"},
            new String[]{"densenet169", "false", "densenet", "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5", "b8c4d4c20dd625c148057b9ff1c1176b"},
            new String[]{"densenet201", "true", "densenet", "densenet201_weights_tf_dim_ordering_tf_kernels.h5", "1ceb130c1ea1b78c3bf6114dbdfd8807"},
            new String[]{"densenet201", "false", "densenet", "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5", "c13680b51ded0fb44dff2d8f86ac8bb1"});

    /**
     * efficientnet.py: BASE_WEIGHTS_PATH "https://storage.googleapis.com/keras-applications/" + model_name + ".h5" or
     * "_notop.h5", file_hash from WEIGHTS_HASHES. Those hashes have 32 hex digits, so Keras's get_file (hash_algorithm
     * "auto": SHA-256 only for 64 digits) checks them as MD5, and so does the store.
     */
    private static final List<String[]> KERAS_EFFICIENTNET = List.of(
            new String[]{"efficientnetb0", "true", "keras-applications", "efficientnetb0.h5", "902e53a9f72be733fc0bcb005b3ebbac"},
            new String[]{"efficientnetb0", "false", "keras-applications", "efficientnetb0_notop.h5", "50bc09e76180e00e4465e1a485ddc09d"},
            new String[]{"efficientnetb1", "true", "keras-applications", "efficientnetb1.h5", "1d254153d4ab51201f1646940f018540"},
            new String[]{"efficientnetb1", "false", "keras-applications", "efficientnetb1_notop.h5", "74c4e6b3e1f6a1eea24c589628592432"},
            new String[]{"efficientnetb2", "true", "keras-applications", "efficientnetb2.h5", "b15cce36ff4dcbd00b6dd88e7857a6ad"},
            new String[]{"efficientnetb2", "false", "keras-applications", "efficientnetb2_notop.h5", "111f8e2ac8aa800a7a99e3239f7bfb39"},
            new String[]{"efficientnetb3", "true", "keras-applications", "efficientnetb3.h5", "ffd1fdc53d0ce67064dc6a9c7960ede0"},
            new String[]{"efficientnetb3", "false", "keras-applications", "efficientnetb3_notop.h5", "af6d107764bb5b1abb91932881670226"},
            new String[]{"efficientnetb4", "true", "keras-applications", "efficientnetb4.h5", "18c95ad55216b8f92d7e70b3a046e2fc"},
            new String[]{"efficientnetb4", "false", "keras-applications", "efficientnetb4_notop.h5", "ebc24e6d6c33eaebbd558eafbeedf1ba"},
            new String[]{"efficientnetb5", "true", "keras-applications", "efficientnetb5.h5", "ace28f2a6363774853a83a0b21b9421a"},
            new String[]{"efficientnetb5", "false", "keras-applications", "efficientnetb5_notop.h5", "38879255a25d3c92d5e44e04ae6cec6f"},
            new String[]{"efficientnetb6", "true", "keras-applications", "efficientnetb6.h5", "165f6e37dce68623721b423839de8be5"},
            new String[]{"efficientnetb6", "false", "keras-applications", "efficientnetb6_notop.h5", "9ecce42647a20130c1f39a5d4cb75743"},
            new String[]{"efficientnetb7", "true", "keras-applications", "efficientnetb7.h5", "8c03f828fec3ef71311cd463b6759d99"},
            new String[]{"efficientnetb7", "false", "keras-applications", "efficientnetb7_notop.h5", "cbcfe4450ddf6f3ad90b1b398090fe4a"});

    @Test
    void efficientNetFilesAndHashesAreKeras() {
        for (String[] k : KERAS_EFFICIENTNET) {
            WeightStore.WeightsFile f = WeightStore.file(k[0], Boolean.parseBoolean(k[1]));
            String what = k[0] + (k[1].equals("true") ? " with top" : " without top");
            assertEquals(k[3], f.fileName(), what);
            assertEquals(k[4], f.md5(), what);
            assertEquals("https://storage.googleapis.com/" + k[2] + "/" + k[3], f.url(), what);
            assertEquals("MD5", f.checksum().algorithm(), what);
        }
        // a 64-digit hash is SHA-256, as in Keras's get_file
        String sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assertEquals("SHA-256", new WeightStore.WeightsFile("x", "x.h5", sha).checksum().algorithm());
        assertEquals(null, new WeightStore.WeightsFile("x", "x.h5", null).checksum());
    }

    @Test
    void everyFileAndHashIsKeras() {
        for (String[] k : KERAS) {
            WeightStore.WeightsFile f = WeightStore.file(k[0], Boolean.parseBoolean(k[1]));
            String what = k[0] + (k[1].equals("true") ? " with top" : " without top");
            assertEquals(k[3], f.fileName(), what);
            assertEquals(k[4], f.md5(), what);
            assertEquals(BASE + k[2] + "/" + k[3], f.url(), what);
        }
    }

    @Test
    void mobileNetFilesAreWhereKerasPutsThem() {
        // v1 lives under mobilenet/, not mobilenet_v1/ (the 32 v1 addresses were wrong before)
        assertEquals(BASE + "mobilenet/mobilenet_2_5_224_tf_no_top.h5", WeightStore.mobileNet(0.25, 224, false).url());
        assertEquals(BASE + "mobilenet/mobilenet_1_0_128_tf.h5", WeightStore.mobileNet(1.0, 128, true).url());
        assertEquals(BASE + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5",
                WeightStore.mobileNetV2(0.35, 96, false).url());
        assertEquals(BASE + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224.h5",
                WeightStore.mobileNetV2(1.4, 224, true).url());
        // alpha 1.3 and 1.4 are published only at 224: refused before any download, saying so
        var e = assertThrows(IllegalArgumentException.class, () -> WeightStore.mobileNetV2(1.3, 192, false));
        assertTrue(e.getMessage().contains("only at 224"), e.getMessage());
    }
}
