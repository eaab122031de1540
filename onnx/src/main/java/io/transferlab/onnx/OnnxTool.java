package io.transferlab.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.transferlab.data.ImageInput;
import io.transferlab.data.Images;
import io.transferlab.models.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The ONNX module's command line (onnx/run.sh), for notebooks and for people who deploy without one:
 * <pre>
 * export  MODEL.tlmodel OUT.onnx                     write the saved model as an ONNX file
 * compare [--tolerance T] MODEL.tlmodel MODEL.onnx IMAGE_OR_FOLDER...
 *                                                    each image through the library and through ONNX Runtime
 * </pre>
 * {@code compare} prepares every image as the saved model says (size, interpolation, preprocessing), runs it through
 * {@code Model.predict} and through ONNX Runtime, and prints both top classes and probabilities side by side with
 * their largest difference; it fails (exit status 1) when a difference exceeds the tolerance (default 1e-4) or the
 * two outputs differ in size. Exit status 1 on an unreadable model, ONNX file or image; 2 on a wrong command line.
 */
public final class OnnxTool {
    private OnnxTool() {
    }

    public static void main(String[] args) {
        int status;
        try {
            status = run(args);
        } catch (IllegalArgumentException | IllegalStateException | IOException | OrtException e) {
            System.err.println("onnx: " + e.getMessage());
            status = 1;
        }
        System.exit(status);
    }

    static int run(String[] args) throws IOException, OrtException {
        if (args.length == 3 && args[0].equals("export")) {
            Model model = Model.load(Path.of(args[1]));
            Path out = Onnx.export(model, Path.of(args[2]));
            System.out.printf(Locale.ROOT, "exported %s (%,d parameters) to %s: %,d bytes, opset %d, input NHWC %s%n",
                    model.name(), model.countParams(), out, Files.size(out), Onnx.OPSET, model.inputShape());
            return 0;
        }
        if (args.length >= 4 && args[0].equals("compare")) {
            int at = 1;
            double tolerance = 1e-4;
            if (args[1].equals("--tolerance") && args.length >= 6) {
                tolerance = Double.parseDouble(args[2]);
                at = 3;
            }
            List<Path> images = new ArrayList<>();
            for (int i = at + 2; i < args.length; i++) {
                images.addAll(images(Path.of(args[i])));
            }
            double worst = compare(Model.load(Path.of(args[at])), Path.of(args[at + 1]), images);
            if (!(worst <= tolerance)) {
                System.err.printf(Locale.ROOT, "onnx: ONNX Runtime and predict differ by %.2e, more than the tolerance %.1e%n",
                        worst, tolerance);
                return 1;
            }
            return 0;
        }
        System.err.println("usage: onnx/run.sh export MODEL.tlmodel OUT.onnx\n"
                + "       onnx/run.sh compare [--tolerance T] MODEL.tlmodel MODEL.onnx IMAGE_OR_FOLDER...");
        return 2;
    }

    private static List<Path> images(Path p) throws IOException {
        if (Files.isRegularFile(p)) {
            return List.of(p);
        }
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("No such image or folder: " + p);
        }
        try (Stream<Path> s = Files.walk(p)) {
            List<Path> found = s.filter(Files::isRegularFile).filter(Images::hasImageExtension).sorted().toList();
            if (found.isEmpty()) {
                throw new IllegalArgumentException("No images in " + p);
            }
            return found;
        }
    }

    /** Prints, per image, the library's and ONNX Runtime's top class and probability, and the largest difference. */
    static double compare(Model model, Path onnxFile, List<Path> images) throws IOException, OrtException {
        ImageInput input = model.imageInput();
        if (input == null) {
            throw new IllegalStateException("The saved model does not say how its images are prepared (no image input)");
        }
        List<String> names = model.classNames();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double worst = 0;
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(onnxFile.toString(), opts)) {
            System.out.printf(Locale.ROOT, "%-28s %-22s %-22s %s%n", "image", "library (predict)", "ONNX Runtime", "|difference|");
            for (Path image : images) {
                float[] pixels = input.load(image);
                long[] shape = {1, input.height(), input.width(), 3};
                INDArray x = Nd4j.create(pixels, shape, 'c');
                INDArray ours = model.predict(x);
                float[] theirs;
                try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), shape);
                     OrtSession.Result r = session.run(Map.of(Onnx.INPUT, t))) {
                    OnnxTensor out = (OnnxTensor) r.get(Onnx.OUTPUT).orElseThrow();
                    FloatBuffer b = out.getFloatBuffer();
                    theirs = new float[b.remaining()];
                    b.get(theirs);
                }
                float[] mine = ours.dup().data().asFloat();
                if (mine.length != theirs.length) {
                    throw new IllegalStateException("The ONNX file gives " + theirs.length + " outputs per image, the model "
                            + mine.length + ": " + onnxFile + " is not this model's export");
                }
                double diff = 0;
                for (int i = 0; i < mine.length; i++) {
                    diff = Math.max(diff, Math.abs(mine[i] - theirs[i]));
                }
                worst = Math.max(worst, diff);
                System.out.printf(Locale.ROOT, "%-28s %-22s %-22s %.1e%n", shorten(image.getFileName().toString()),
                        top(mine, names), top(theirs, names), diff);
            }
        }
        System.out.printf(Locale.ROOT, "largest |ONNX Runtime - predict| over %d images: %.1e%n", images.size(), worst);
        return worst;
    }

    private static String top(float[] p, List<String> names) {
        int k;
        double prob;
        if (p.length == 1) { // one sigmoid unit: class 1 with p, class 0 with 1 - p
            k = p[0] >= 0.5f ? 1 : 0;
            prob = k == 1 ? p[0] : 1 - p[0];
        } else {
            k = 0;
            for (int i = 1; i < p.length; i++) {
                if (p[i] > p[k]) {
                    k = i;
                }
            }
            prob = p[k];
        }
        String name = names != null && k < names.size() ? names.get(k) : "class " + k;
        return String.format(Locale.ROOT, "%s %.4f", name, prob);
    }

    private static String shorten(String s) {
        return s.length() <= 28 ? s : "..." + s.substring(s.length() - 25);
    }
}
