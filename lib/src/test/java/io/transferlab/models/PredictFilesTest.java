package io.transferlab.models;

import io.transferlab.applications.Applications;
import io.transferlab.applications.ImageNet;
import io.transferlab.cli.Predict;
import io.transferlab.data.Batch;
import io.transferlab.data.ImageFolder;
import io.transferlab.data.ImageInput;
import io.transferlab.data.Images;
import io.transferlab.data.Preprocessing;
import io.transferlab.optimizers.Optimizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import tech.tablesaw.api.Table;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static io.transferlab.layers.Layers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Predicting on image files: the same pixels as the training data's ImageFolder (so the same probabilities as
 * model.predict on its batches, exactly), class names from the class folders after fit, the top classes as a
 * Tablesaw table; an undecodable image skipped with a warning in a folder and an error alone. Keras's ImageNet class
 * index and decodePredictions. The command-line predictor, in-process and as a child process.
 */
class PredictFilesTest {
    @TempDir
    Path tmp;

    /** Class folders red/ and blue/ of small PNG and JPEG images, and a broken JPEG in blue/. */
    Path folder() throws Exception {
        Path root = tmp.resolve("images");
        Random rnd = new Random(3);
        for (String cls : List.of("blue", "red")) {
            Files.createDirectories(root.resolve(cls));
            for (int i = 0; i < 4; i++) {
                BufferedImage img = new BufferedImage(20 + 3 * i, 17 + i, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < img.getHeight(); y++) {
                    for (int x = 0; x < img.getWidth(); x++) {
                        int v = rnd.nextInt(120);
                        img.setRGB(x, y, cls.equals("red") ? (135 + v) << 16 | v << 8 | v : v << 16 | v << 8 | (135 + v));
                    }
                }
                ImageIO.write(img, i % 2 == 0 ? "png" : "jpg", root.resolve(cls).resolve(cls + i + (i % 2 == 0 ? ".png" : ".jpg")).toFile());
            }
        }
        byte[] jpeg = Files.readAllBytes(root.resolve("blue/blue1.jpg"));
        Files.write(root.resolve("blue/broken.jpg"), java.util.Arrays.copyOf(jpeg, jpeg.length / 2));
        return root;
    }

    static Model smallCnn() {
        var in = Input("px", 16, 16, 3);
        var y = Conv2D(4, 3, "relu", "c").on(in);
        y = MaxPooling2D(2, "p").on(y);
        y = Flatten("f").on(y);
        return Model.of("colours", in, Dense(2, "softmax", "out").on(y));
    }

    @Test
    void filesGiveWhatTheTrainingPipelineGives() throws Exception {
        Path root = folder();
        Model m = smallCnn();
        m.compile(Optimizer.Adam(1e-3), "categorical_crossentropy", "accuracy");
        ImageFolder train = ImageFolder.at(root).targetSize(16, 16).batchSize(4).preprocessing(Preprocessing.RESCALE)
                .interpolation(Images.Interpolation.BILINEAR).shuffle(false).build();
        assertNull(m.classNames());
        m.fit(train, 1, null);
        assertEquals(List.of("blue", "red"), m.classNames(), "the class folders");
        assertEquals(new ImageInput(16, 16, Preprocessing.RESCALE, Images.Interpolation.BILINEAR), m.imageInput());

        // the probabilities model.predict gives on the ImageFolder's own batches, file by file
        java.util.Map<String, float[]> want = new java.util.HashMap<>();
        for (Batch b : train) {
            INDArray p = m.predict(b.x());
            for (int i = 0; i < b.files().size(); i++) {
                want.put(root.relativize(b.files().get(i)).toString(), p.getRow(i).toFloatVector());
            }
        }
        PrintStream err = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        Table t;
        try {
            System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
            t = m.predict(root);
        } finally {
            System.setErr(err);
        }
        assertTrue(warnings.toString(StandardCharsets.UTF_8).contains("broken.jpg"), warnings.toString());
        assertEquals(8, t.rowCount(), "the broken image is skipped:\n" + t);
        assertEquals(List.of("image", "class", "probability", "class_2", "probability_2"), t.columnNames());
        for (int r = 0; r < t.rowCount(); r++) {
            float[] p = want.get(t.stringColumn("image").get(r));
            assertNotNull(p, t.stringColumn("image").get(r));
            int best = p[1] > p[0] ? 1 : 0;
            assertEquals(List.of("blue", "red").get(best), t.stringColumn("class").get(r));
            assertEquals(p[best], t.doubleColumn("probability").get(r), 0.0, "the same number, exactly");
            assertEquals(p[1 - best], t.doubleColumn("probability_2").get(r), 0.0);
        }
        // one file: the same; a broken one alone is an error naming it
        Table one = m.predictFiles(List.of(root.resolve("red/red2.png")), 1);
        assertEquals(1, one.rowCount());
        assertEquals(List.of("image", "class", "probability"), one.columnNames());
        var e = assertThrows(IllegalArgumentException.class, () -> m.predict(root.resolve("blue/broken.jpg")));
        assertTrue(e.getMessage().contains("broken.jpg"), e.getMessage());

        // saved and loaded, the model still knows its classes and how to read its images
        Path file = tmp.resolve("colours.tlmodel");
        m.save(file);
        Table again = Model.load(file).predict(root);
        assertEquals(t.toString(), again.toString());

        // the command line: the same classes, a clear failure for a bad model or image
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream cliErr = new ByteArrayOutputStream();
        int status = Predict.run(new String[]{"--top", "1", file.toString(), root.resolve("red").toString(),
                root.resolve("blue/blue0.png").toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(cliErr, true, StandardCharsets.UTF_8));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, cliErr.toString(StandardCharsets.UTF_8));
        assertEquals(5, printed.lines().count(), printed);
        for (String line : printed.lines().toList()) {
            String image = line.substring(0, line.indexOf(": "));
            String rel = root.relativize(Path.of(image)).toString();
            float[] p = want.get(rel);
            String best = p[1] > p[0] ? "red" : "blue";
            assertEquals(image + ": " + best + " " + String.format(java.util.Locale.ROOT, "%.4f", Math.max(p[0], p[1])), line);
        }
        cliErr.reset();
        assertEquals(1, Predict.run(new String[]{tmp.resolve("none.tlmodel").toString(), root.toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(cliErr, true, StandardCharsets.UTF_8)));
        assertTrue(cliErr.toString(StandardCharsets.UTF_8).contains("cannot load the model") &&
                cliErr.toString(StandardCharsets.UTF_8).contains("none.tlmodel"), cliErr.toString());
        cliErr.reset();
        assertEquals(1, Predict.run(new String[]{file.toString(), root.resolve("blue/broken.jpg").toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(cliErr, true, StandardCharsets.UTF_8)));
        assertTrue(cliErr.toString(StandardCharsets.UTF_8).contains("broken.jpg"), cliErr.toString());
        assertEquals(2, Predict.run(new String[]{file.toString()}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(new ByteArrayOutputStream())), "no image: a usage error");

        // and as its own process, with its exit status
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Predict.class.getName(),
                file.toString(), root.resolve("blue/broken.jpg").toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), log);
        assertTrue(log.contains("predict: Cannot read image") && log.contains("broken.jpg"), log);
    }

    @Test
    void aModelThatDoesNotKnowItsImagesSaysHowToTellIt() throws Exception {
        Path root = folder();
        Model m = smallCnn();
        var e = assertThrows(IllegalStateException.class, () -> m.predict(root));
        assertTrue(e.getMessage().contains("imageInput"), e.getMessage());
        m.imageInput(ImageInput.of(16, Preprocessing.RESCALE)).classNames("blue", "red");
        assertEquals(8, m.predict(root, 1).rowCount());
        assertThrows(IllegalArgumentException.class, () -> m.classNames("only one"));
    }

    @Test
    void applicationsKnowTheirPreprocessingAndImageNetNames() {
        Model vgg = Applications.vgg16().includeTop(false).build();
        assertEquals(ImageInput.of(224, Preprocessing.CAFFE), vgg.imageInput(), "any size: Keras's default size");
        assertEquals(Preprocessing.TF, Applications.resNet50V2().includeTop(false).inputShape(64, 64, 3).build()
                .imageInput().preprocessing(), "ResNet v2 uses tf preprocessing");
        assertEquals(Preprocessing.TF, Applications.mobileNet().alpha(0.25).includeTop(false).inputShape(64, 64, 3)
                .build().imageInput().preprocessing());
        var head = Model.of(vgg.input(), Dense(2, "softmax").on(GlobalAveragePooling2D().on(vgg.output())));
        assertEquals(vgg.imageInput(), head.imageInput(), "a model on the base's input prepares images as the base");
        assertNull(head.classNames(), "but has its own classes");
    }

    @Test
    void decodePredictionsUsesKerasClassIndex() throws Exception {
        try (InputStream in = ImageNet.class.getResourceAsStream("imagenet_class_index.json")) {
            byte[] all = in.readAllBytes();
            assertEquals("c2c37ea517e94d9795004a39431a14cb",
                    HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(all)),
                    "the very file keras.applications.imagenet_utils downloads (its file_hash)");
        }
        List<String> ids = ImageNet.ids();
        List<String> names = ImageNet.names();
        assertEquals(1000, ids.size());
        assertEquals(List.of("n01440764", "tench"), List.of(ids.get(0), names.get(0)));
        assertEquals(List.of("n01443537", "goldfish"), List.of(ids.get(1), names.get(1)));
        assertEquals(List.of("n02123045", "tabby"), List.of(ids.get(281), names.get(281)));
        assertEquals(List.of("n02123159", "tiger_cat"), List.of(ids.get(282), names.get(282)));
        assertEquals(List.of("n15075141", "toilet_tissue"), List.of(ids.get(999), names.get(999)));

        INDArray p = Nd4j.zeros(DataType.FLOAT, 2, 1000);
        p.putScalar(0, 281, 0.7f);
        p.putScalar(0, 282, 0.2f);
        p.putScalar(0, 999, 0.1f);
        p.putScalar(1, 1, 1f);
        var d = Applications.decodePredictions(p, 3);
        assertEquals(List.of("tabby", "tiger_cat", "toilet_tissue"), d.get(0).stream().map(ImageNet.Prediction::name).toList());
        assertEquals("n02123045", d.get(0).get(0).id());
        assertEquals(0.7, d.get(0).get(0).probability(), 1e-7);
        assertEquals("goldfish", d.get(1).get(0).name());
        assertEquals(5, Applications.decodePredictions(p).get(0).size(), "Keras's default top=5");
        var e = assertThrows(IllegalArgumentException.class, () -> Applications.decodePredictions(Nd4j.zeros(2, 10), 3));
        assertTrue(e.getMessage().contains("(samples, 1000)"), e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void anOutputThatIsNotAProbabilityIsRefused() {
        org.nd4j.linalg.api.ndarray.INDArray logits = org.nd4j.linalg.factory.Nd4j.createFromArray(new float[][]{{3.2f}, {-2.2f}});
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> ImagePredictor.probabilities(logits, "linear"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'linear'"), e.getMessage());
        double[][] p = ImagePredictor.probabilities(org.nd4j.linalg.factory.Nd4j.createFromArray(new float[][]{{0.25f}}), "sigmoid");
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[]{0.75, 0.25}, p[0], 1e-7);
    }
}
