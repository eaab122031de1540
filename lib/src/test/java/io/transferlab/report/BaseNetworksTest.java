package io.transferlab.report;

import io.transferlab.applications.Applications;
import io.transferlab.models.Model;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The "choosing a base network" table: its depth column counts what Keras's applications table counts. */
class BaseNetworksTest {
    /** The Depth column of the table on keras.io/api/applications (networks with their ImageNet top). */
    private static final Map<String, Integer> KERAS_DEPTH = Map.ofEntries(
            Map.entry("VGG16", 16), Map.entry("VGG19", 19), Map.entry("ResNet50", 107), Map.entry("ResNet50V2", 103),
            Map.entry("ResNet101", 209), Map.entry("ResNet101V2", 205), Map.entry("ResNet152", 311),
            Map.entry("ResNet152V2", 307), Map.entry("InceptionV3", 189), Map.entry("MobileNet", 55),
            Map.entry("MobileNetV2", 105), Map.entry("Xception", 81), Map.entry("DenseNet121", 242),
            Map.entry("DenseNet169", 338), Map.entry("DenseNet201", 402));

    @Test
    void depthIsKerassCountOfLayersWithWeights() {
        List<String> checked = new ArrayList<>();
        for (String name : Applications.names()) {
            Integer want = KERAS_DEPTH.get(name);
            if (want != null) {
                Model m = Applications.byName(name).build();
                assertEquals(want.intValue(), BaseNetworks.depth(m), name + ": layers with weights");
                checked.add(name);
            }
        }
        assertEquals(KERAS_DEPTH.size(), checked.size(), "checked " + checked);
    }

    @Test
    void everyFactoryOfApplicationsIsInTheRegistry() {
        List<String> factories = new ArrayList<>();
        for (java.lang.reflect.Method m : Applications.class.getDeclaredMethods()) {
            if (java.lang.reflect.Modifier.isStatic(m.getModifiers()) && java.lang.reflect.Modifier.isPublic(m.getModifiers())
                    && m.getParameterCount() == 0
                    && io.transferlab.applications.ApplicationBuilder.class.isAssignableFrom(m.getReturnType())) {
                factories.add(m.getName());
            }
        }
        assertEquals(factories.size(), Applications.names().size(),
                "factories " + factories + " against the registry " + Applications.names());
        for (String f : factories) {
            assertTrue(Applications.names().stream().anyMatch(n -> n.equalsIgnoreCase(f)), f + " is not in the registry");
        }
    }

    @Test
    void measuresAndTabulates() {
        List<String> lines = new ArrayList<>();
        BaseNetworks b = BaseNetworks.measure(List.of("MobileNet"), 1, 1, lines::add);
        BaseNetworks.Row r = b.rows().get(0);
        assertEquals(224, r.inputSize());
        assertEquals(4_253_864, r.params());
        assertEquals(4_253_864 * 4 / 1e6, r.weightsMb(), 1e-9);
        assertEquals("(None, 7, 7, 1024)", r.features().replace("null", "None"));
        assertTrue(r.msPerImage() > 0);
        if (io.transferlab.runtime.MixedPrecision.bf16Unsupported() == null) {
            assertTrue(r.msPerImageBf16() > 0, "timed under mixed_bfloat16 too");
            assertTrue(b.toHtml().contains("mixed_bfloat16"));
        } else {
            assertTrue(Double.isNaN(r.msPerImageBf16()));
        }
        assertEquals("float32", io.transferlab.runtime.MixedPrecision.policy(), "the policy in force before is restored");
        assertEquals(2, lines.size());
        assertTrue(lines.get(1).startsWith("1 networks measured on "), lines.get(1));
        assertTrue(b.toHtml().contains("4,253,864"), b.toHtml());
        assertTrue(b.plot().getWidth() > 0);
        assertThrows(IllegalArgumentException.class, () -> Applications.byName("ResNet18"));
        assertEquals("resnet50", Applications.byName("resnet_50").name());
    }
}
