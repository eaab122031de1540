package io.transferlab.cli;

import io.transferlab.models.Model;
import io.transferlab.models.ModelFileException;
import tech.tablesaw.api.Table;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command-line predictor ({@code scripts/predict.sh}): loads a model saved with {@code model.save(path)} and
 * prints the top classes of each image given, or of every image in each folder given.
 *
 * <pre>
 * scripts/predict.sh [--top K] MODEL IMAGE_OR_FOLDER...
 * cat.jpg: cats 0.9731, dogs 0.0269
 * </pre>
 *
 * Exit status: 0 when every image was classified; 1 when the model cannot be loaded or an image given by name
 * cannot be read (the message names it; the other images are still classified; an unreadable image inside a
 * folder is skipped with a warning); 2 for a wrong command line.
 */
public final class Predict {
    static final String USAGE = "usage: predict.sh [--top K] MODEL IMAGE_OR_FOLDER...\n"
            + "  MODEL            a model file written by model.save(path)\n"
            + "  IMAGE_OR_FOLDER  image files (jpg, png, bmp, gif) or folders of them (subfolders too)\n"
            + "  --top K          how many classes to print per image (default 5)";

    private Predict() {
    }

    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        System.out.flush();
        System.exit(status);
    }

    /** Runs the command; returns the exit status (for tests, which call it in-process). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        int top = 5;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                out.println(USAGE);
                return 0;
            }
            if (a.equals("--top") || a.startsWith("--top=")) {
                String v = a.startsWith("--top=") ? a.substring(6) : i + 1 < args.length ? args[++i] : null;
                try {
                    top = Integer.parseInt(v);
                } catch (NumberFormatException | NullPointerException e) {
                    top = -1;
                }
                if (top <= 0) {
                    err.println("predict: --top needs a positive whole number, got " + v + "\n" + USAGE);
                    return 2;
                }
            } else if (a.startsWith("-") && a.length() > 1) {
                err.println("predict: unknown option " + a + "\n" + USAGE);
                return 2;
            } else {
                rest.add(a);
            }
        }
        if (rest.size() < 2) {
            err.println("predict: give a model file and at least one image or folder\n" + USAGE);
            return 2;
        }
        Model model;
        try {
            model = Model.load(Path.of(rest.get(0)));
        } catch (ModelFileException | IllegalArgumentException | java.io.UncheckedIOException e) {
            err.println("predict: cannot load the model: " + e.getMessage());
            return 1;
        }
        int failures = 0;
        for (String name : rest.subList(1, rest.size())) {
            Path p = Path.of(name);
            try {
                Table t = model.predict(p, top);
                boolean folder = Files.isDirectory(p);
                for (int r = 0; r < t.rowCount(); r++) {
                    String image = folder ? p.resolve(t.stringColumn("image").get(r)).toString() : name;
                    out.println(image + ": " + classes(t, r));
                }
            } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
                err.println("predict: " + e.getMessage());
                failures++;
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private static String classes(Table t, int row) {
        StringBuilder sb = new StringBuilder();
        for (int c = 1; c + 1 < t.columnCount(); c += 2) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(t.stringColumn(c).get(row)).append(' ')
                    .append(String.format(Locale.ROOT, "%.4f", t.doubleColumn(c + 1).get(row)));
        }
        return sb.toString();
    }
}
