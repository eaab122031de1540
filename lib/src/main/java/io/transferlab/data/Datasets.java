package io.transferlab.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.stream.Stream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the notebooks' datasets are. Each lookup says what it found, so a notebook's output always shows whether
 * it ran on the real data or on the generated sample.
 */
public final class Datasets {
    private Datasets() {
    }

    /** The project's folder for downloaded data: environment TL_DATA, else data/downloads in the repository. */
    public static Path downloads() {
        String env = System.getenv("TL_DATA");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("notebooks")) && Files.isDirectory(p.resolve("lib"))) {
                return p.resolve("data").resolve("downloads");
            }
        }
        return Path.of(System.getProperty("user.home"), ".cache", "transferlab", "data");
    }

    /** Test data that CI provides beside the project (environment TL_SHARED), or null. */
    public static Path shared() {
        String env = System.getenv("TL_SHARED");
        return env == null || env.isBlank() || !Files.isDirectory(Path.of(env)) ? null : Path.of(env);
    }

    /** A dataset found on disk: its root (with train/ and validation/ folders), whether real, and a description. */
    public record Found(Path root, boolean real, String description) {
        public Path train() {
            return root.resolve("train");
        }

        public Path validation() {
            return root.resolve("validation");
        }

        /** The test split, or the validation split when the dataset has no separate test folder. */
        public Path test() {
            Path t = root.resolve("test");
            return Files.isDirectory(t) ? t : validation();
        }

        /**
         * The same dataset cut to its first {@code perClass} images of each class (in file name order, as
         * ImageFolder's limitPerClass picks them) in every split, for a quick run of a tool that reads folders
         * (a Spark job, the command-line predictor). The images are linked (or copied) into a folder under the
         * temporary directory, named after the dataset and the limit; with Integer.MAX_VALUE this dataset itself.
         */
        public Found limitPerClass(int perClass) {
            if (perClass <= 0) {
                throw new IllegalArgumentException("limitPerClass must be positive, got " + perClass);
            }
            if (perClass == Integer.MAX_VALUE) {
                return this;
            }
            Path target = Path.of(System.getProperty("java.io.tmpdir"),
                    "transferlab-" + root.getFileName() + "-" + perClass + "-per-class");
            try {
                for (String split : List.of("train", "validation", "test")) {
                    Path from = root.resolve(split);
                    if (!Files.isDirectory(from)) {
                        continue;
                    }
                    List<Path> classes;
                    try (Stream<Path> s = Files.list(from)) {
                        classes = s.filter(Files::isDirectory).sorted().toList();
                    }
                    for (Path c : classes) {
                        Path to = target.resolve(split).resolve(c.getFileName().toString());
                        Files.createDirectories(to);
                        List<Path> images;
                        try (Stream<Path> s = Files.list(c)) {
                            images = s.filter(Files::isRegularFile).filter(Images::hasImageExtension).sorted()
                                    .limit(perClass).toList();
                        }
                        for (Path image : images) {
                            Path link = to.resolve(image.getFileName().toString());
                            if (Files.exists(link)) {
                                continue;
                            }
                            try {
                                Files.createLink(link, image);
                            } catch (IOException | UnsupportedOperationException e) {
                                Files.copy(image, link);
                            }
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot write the first " + perClass + " images per class of " + root
                        + " to " + target, e);
            }
            return new Found(target, real, description + " (first " + perClass + " images per class, at " + target + ")");
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /**
     * Cats vs dogs, the tutorials' 2000 train / 1000 validation images: data/downloads/cats_and_dogs_filtered
     * (see data/README.md), or the copy that CI provides; else the generated sample, with a note that says so.
     */
    public static Found catsAndDogs() {
        Path[] candidates = {downloads().resolve("cats_and_dogs_small"), downloads().resolve("cats_and_dogs_filtered"),
                shared() == null ? null : shared().resolve("data").resolve("cats_and_dogs_filtered")};
        for (Path c : candidates) {
            if (c != null && Files.isDirectory(c.resolve("train")) && Files.isDirectory(c.resolve("validation"))) {
                return new Found(c, true, c.getFileName() + " at " + c);
            }
        }
        return sample();
    }

    /**
     * TensorFlow's flower photos (5 classes, one folder per class, no train/validation split: use
     * ImageFolder's validationSplit), from data/downloads/flower_photos (data/download.sh flowers); else a generated
     * sample of 5 shape classes, with a note that says so. The Found's root is the class-folder root.
     */
    public static Found flowers() {
        Path real = downloads().resolve("flower_photos");
        if (Files.isDirectory(real.resolve("roses"))) {
            return new Found(real, true, "flower_photos at " + real);
        }
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "transferlab", "sample5");
        SampleImages.generate(dir, SampleImages.FIVE_CLASSES, 40, 0, 0, 160, 11);
        return new Found(dir.resolve("train"), false, "NOTE: flower_photos not found, using a generated sample of 5 "
                + "shape classes (40 images each) at " + dir + ". Run data/download.sh flowers for the real photos.");
    }

    /**
     * CIFAR-10 as class folders (train/, test/; 32x32 PNGs), from data/downloads/cifar10 (data/download.sh cifar10);
     * else a generated sample of 5 shape classes at 32x32, with a note that says so.
     */
    public static Found cifar10() {
        Path real = downloads().resolve("cifar10");
        if (Files.isDirectory(real.resolve("train")) && Files.isDirectory(real.resolve("test"))) {
            return new Found(real, true, "CIFAR-10 at " + real);
        }
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "transferlab", "sample5-32");
        SampleImages.generate(dir, SampleImages.FIVE_CLASSES, 60, 20, 20, 32, 13);
        return new Found(dir, false, "NOTE: CIFAR-10 not found, using a generated sample of 5 shape classes at 32x32 "
                + "(60 training images each) at " + dir + ". Run data/download.sh cifar10 for the real dataset.");
    }

    /** The generated sample (circles vs stripes). */
    public static Found sample() {
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "transferlab", "sample");
        SampleImages.generate(dir, 60, 30, 30, 160, 7);
        return new Found(dir, false, "NOTE: real data not found, using the generated sample (circles vs stripes, "
                + "60/30/30 images per class) at " + dir + ". Results on it say nothing about real photos; "
                + "see data/README.md to download the real dataset.");
    }
}
