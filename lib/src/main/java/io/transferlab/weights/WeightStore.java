package io.transferlab.weights;

import io.transferlab.download.Download;
import io.transferlab.download.VerifiedFiles;
import io.transferlab.runtime.Mode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where the published Keras ImageNet weight files are found or fetched. A file is looked up, in order, in
 * ~/.keras/models (where Keras keeps them, so people who used Keras have them already), in this project's cache
 * (environment TL_WEIGHTS, else ~/.cache/transferlab/weights), and in the test data beside the project (TL_SHARED).
 * When missing it is downloaded from Keras's address (or TL_WEIGHTS_URL, a mirror with the same layout) with a
 * progress line, its MD5 checked where Keras publishes one, and written atomically.
 *
 * <p>Builders given {@code weights("imagenet")} load through {@link #loadPublished}: when the file is neither on
 * this machine nor downloadable (offline; quick mode never downloads) it prints one line saying so and the model
 * keeps its random weights.
 */
public final class WeightStore {
    private static final String KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/";

    /** Where Keras's newer applications (EfficientNet) keep their files: BASE_WEIGHTS_PATH, without "tensorflow/". */
    private static final String STORAGE_URL = "https://storage.googleapis.com/";

    /**
     * A published weights file: its folder under the Keras address, its name and its hash (null when unpublished).
     * The hash is MD5 (32 hex digits) or SHA-256 (64), told apart by length as Keras's get_file does (file_hash with
     * hash_algorithm "auto"); the field keeps its old name.
     */
    public record WeightsFile(String folder, String fileName, String md5) {
        public String url() {
            String base = System.getenv("TL_WEIGHTS_URL");
            // the folder "keras-applications" is Keras's BASE_WEIGHTS_PATH of efficientnet.py, at the storage root
            String root = base == null || base.isBlank() ? (folder.equals("keras-applications") ? STORAGE_URL : KERAS_URL)
                    : (base.endsWith("/") ? base : base + "/");
            return root + folder + "/" + fileName;
        }

        /** The checksum to verify, or null: SHA-256 for a 64-digit hash, MD5 otherwise (Keras's "auto"). */
        public Download.Checksum checksum() {
            if (md5 == null) {
                return null;
            }
            return md5.length() == 64 ? Download.Checksum.sha256(md5) : Download.Checksum.md5(md5);
        }
    }

    /**
     * Keras's published files and the MD5 hashes its applications check, as keras/applications/vgg16.py, vgg19.py,
     * inception_v3.py and resnet.py (WEIGHTS_HASHES) give them, and densenet.py (DENSENET121_WEIGHT_PATH ... and the
     * file_hash arguments).
     */
    private static final Map<String, WeightsFile> KNOWN = Map.ofEntries(
            Map.entry("vgg16", new WeightsFile("vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b")),
            Map.entry("vgg16_notop", new WeightsFile("vgg16", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc")),
            Map.entry("vgg19", new WeightsFile("vgg19", "vgg19_weights_tf_dim_ordering_tf_kernels.h5", "cbe5617147190e668d6c5d5026f83318")),
            Map.entry("vgg19_notop", new WeightsFile("vgg19", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "253f8cb515780f3b799900260a226db6")),
            Map.entry("inception_v3", new WeightsFile("inception_v3", "inception_v3_weights_tf_dim_ordering_tf_kernels.h5", "9a0d58056eeedaa3f26cb7ebd46da564")),
            Map.entry("inception_v3_notop", new WeightsFile("inception_v3", "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "bcbd6486424b2319ff4ef7d526e38f63")),
            Map.entry("resnet50", new WeightsFile("resnet", "resnet50_weights_tf_dim_ordering_tf_kernels.h5", "2cb95161c43110f7111970584f804107")),
            Map.entry("resnet50_notop", new WeightsFile("resnet", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "4d473c1dd8becc155b73f8504c6f6626")),
            Map.entry("resnet101", new WeightsFile("resnet", "resnet101_weights_tf_dim_ordering_tf_kernels.h5", "f1aeb4b969a6efcfb50fad2f0c20cfc5")),
            Map.entry("resnet101_notop", new WeightsFile("resnet", "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5", "88cf7a10940856eca736dc7b7e228a21")),
            Map.entry("resnet152", new WeightsFile("resnet", "resnet152_weights_tf_dim_ordering_tf_kernels.h5", "100835be76be38e30d865e96f2aaae62")),
            Map.entry("resnet152_notop", new WeightsFile("resnet", "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5", "ee4c566cf9a93f14d82f913c2dc6dd0c")),
            Map.entry("resnet50v2", new WeightsFile("resnet", "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5", "3ef43a0b657b3be2300d5770ece849e0")),
            Map.entry("resnet50v2_notop", new WeightsFile("resnet", "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "fac2f116257151a9d068a22e544a4917")),
            Map.entry("resnet101v2", new WeightsFile("resnet", "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5", "6343647c601c52e1368623803854d971")),
            Map.entry("resnet101v2_notop", new WeightsFile("resnet", "resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "c0ed64b8031c3730f411d2eb4eea35b5")),
            Map.entry("resnet152v2", new WeightsFile("resnet", "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5", "a49b44d1979771252814e80f8ec446f9")),
            Map.entry("resnet152v2_notop", new WeightsFile("resnet", "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "ed17cf2e0169df9d443503ef94b23b33")),
            // efficientnet.py: BASE_WEIGHTS_PATH + model_name + (".h5" | "_notop.h5"), WEIGHTS_HASHES (32 digits: MD5)
            Map.entry("efficientnetb0", new WeightsFile("keras-applications", "efficientnetb0.h5", "902e53a9f72be733fc0bcb005b3ebbac")),
            Map.entry("efficientnetb0_notop", new WeightsFile("keras-applications", "efficientnetb0_notop.h5", "50bc09e76180e00e4465e1a485ddc09d")),
            Map.entry("efficientnetb1", new WeightsFile("keras-applications", "efficientnetb1.h5", "1d254153d4ab51201f1646940f018540")),
            Map.entry("efficientnetb1_notop", new WeightsFile("keras-applications", "efficientnetb1_notop.h5", "74c4e6b3e1f6a1eea24c589628592432")),
            Map.entry("efficientnetb2", new WeightsFile("keras-applications", "efficientnetb2.h5", "b15cce36ff4dcbd00b6dd88e7857a6ad")),
            Map.entry("efficientnetb2_notop", new WeightsFile("keras-applications", "efficientnetb2_notop.h5", "111f8e2ac8aa800a7a99e3239f7bfb39")),
            Map.entry("efficientnetb3", new WeightsFile("keras-applications", "efficientnetb3.h5", "ffd1fdc53d0ce67064dc6a9c7960ede0")),
            Map.entry("efficientnetb3_notop", new WeightsFile("keras-applications", "efficientnetb3_notop.h5", "af6d107764bb5b1abb91932881670226")),
            Map.entry("efficientnetb4", new WeightsFile("keras-applications", "efficientnetb4.h5", "18c95ad55216b8f92d7e70b3a046e2fc")),
            Map.entry("efficientnetb4_notop", new WeightsFile("keras-applications", "efficientnetb4_notop.h5", "ebc24e6d6c33eaebbd558eafbeedf1ba")),
            Map.entry("efficientnetb5", new WeightsFile("keras-applications", "efficientnetb5.h5", "ace28f2a6363774853a83a0b21b9421a")),
            Map.entry("efficientnetb5_notop", new WeightsFile("keras-applications", "efficientnetb5_notop.h5", "38879255a25d3c92d5e44e04ae6cec6f")),
            Map.entry("efficientnetb6", new WeightsFile("keras-applications", "efficientnetb6.h5", "165f6e37dce68623721b423839de8be5")),
            Map.entry("efficientnetb6_notop", new WeightsFile("keras-applications", "efficientnetb6_notop.h5", "9ecce42647a20130c1f39a5d4cb75743")),
            Map.entry("efficientnetb7", new WeightsFile("keras-applications", "efficientnetb7.h5", "8c03f828fec3ef71311cd463b6759d99")),
            Map.entry("efficientnetb7_notop", new WeightsFile("keras-applications", "efficientnetb7_notop.h5", "cbcfe4450ddf6f3ad90b1b398090fe4a")),
            // xception.py: TF_WEIGHTS_PATH / TF_WEIGHTS_PATH_NO_TOP and the hashes passed to get_file
            Map.entry("xception", new WeightsFile("xception", "xception_weights_tf_dim_ordering_tf_kernels.h5", "0a58e3b7378bc2990ea3b43d5981f1f6")),
            Map.entry("xception_notop", new WeightsFile("xception", "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "b0042744bf5b25fce3cb969f33bebb97")),
            // densenet.py: BASE_WEIGHTS_PATH + DENSENET*_WEIGHT_PATH(_NO_TOP), file_hash
            Map.entry("densenet121", new WeightsFile("densenet", "densenet121_weights_tf_dim_ordering_tf_kernels.h5", "9d60b8095a5708f2dcce2bca79d332c7")),
            Map.entry("densenet121_notop", new WeightsFile("densenet", "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5", "30ee3e1110167f948a6b9946edeeb738")),
            Map.entry("densenet169", new WeightsFile("densenet", "densenet169_weights_tf_dim_ordering_tf_kernels.h5", "d699b8f76981ab1b30698df4c175e90b")),
            Map.entry("densenet169_notop", new WeightsFile("densenet", "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5", "b8c4d4c20dd625c148057b9ff1c1176b")),
            Map.entry("densenet201", new WeightsFile("densenet", "densenet201_weights_tf_dim_ordering_tf_kernels.h5", "1ceb130c1ea1b78c3bf6114dbdfd8807")),
            Map.entry("densenet201_notop", new WeightsFile("densenet", "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5", "c13680b51ded0fb44dff2d8f86ac8bb1")));

    /** MD5s known for MobileNet files (Keras publishes none; these were checked by hand). */
    private static final Map<String, String> MOBILENET_MD5 = Map.of(
            "mobilenet_2_5_224_tf_no_top.h5", "f313cee49f5d33dfb06f2b255c4adb64");

    /**
     * Files already checked against their published hash, remembered by path, size and modification time (in the
     * cache folder), so a 500 MB file is hashed once and a truncated or replaced one is still caught before use.
     */
    private static final VerifiedFiles VERIFIED = new VerifiedFiles(cacheDir().resolve("verified.tsv"));

    private WeightStore() {
    }

    /** The file for a model: "vgg16", "inception_v3"; with includeTop or without. */
    public static WeightsFile file(String model, boolean includeTop) {
        WeightsFile f = KNOWN.get(includeTop ? model : model + "_notop");
        if (f == null) {
            throw new IllegalArgumentException("No published ImageNet weights known for '" + model + "'; known: vgg16, vgg19, resnet50/101/152(v2), densenet121/169/201, "
                    + "inception_v3, xception, efficientnetb0..b7, and MobileNet / MobileNetV2 through their builders");
        }
        return f;
    }

    /** Keras's MobileNet v1 file for alpha (0.25, 0.5, 0.75, 1.0) and rows (128, 160, 192, 224). */
    public static WeightsFile mobileNet(double alpha, int rows, boolean includeTop) {
        String a = switch ((int) Math.round(alpha * 100)) {
            case 25 -> "2_5";
            case 50 -> "5_0";
            case 75 -> "7_5";
            case 100 -> "1_0";
            default -> throw new IllegalArgumentException("Keras publishes MobileNet weights for alpha 0.25, 0.5, 0.75, 1.0; got " + alpha);
        };
        if (rows != 128 && rows != 160 && rows != 192 && rows != 224) {
            throw new IllegalArgumentException("Keras publishes MobileNet weights for input sizes 128, 160, 192, 224; got " + rows);
        }
        String name = "mobilenet_" + a + "_" + rows + "_tf" + (includeTop ? "" : "_no_top") + ".h5";
        // Keras's mobilenet.py: BASE_WEIGHT_PATH ends in keras-applications/mobilenet/ (not mobilenet_v1/)
        return new WeightsFile("mobilenet", name, MOBILENET_MD5.get(name));
    }

    /** Keras's MobileNetV2 file for alpha and rows (96, 128, 160, 192, 224). */
    public static WeightsFile mobileNetV2(double alpha, int rows, boolean includeTop) {
        List<Double> alphas = List.of(0.35, 0.5, 0.75, 1.0, 1.3, 1.4);
        if (alphas.stream().noneMatch(x -> Math.abs(x - alpha) < 1e-9)) {
            throw new IllegalArgumentException("Keras publishes MobileNetV2 weights for alpha " + alphas + "; got " + alpha);
        }
        if (List.of(96, 128, 160, 192, 224).stream().noneMatch(r -> r == rows)) {
            throw new IllegalArgumentException("Keras publishes MobileNetV2 weights for input sizes 96, 128, 160, 192, 224; got " + rows);
        }
        if (alpha > 1.0 + 1e-9 && rows != 224) {
            throw new IllegalArgumentException("Keras publishes MobileNetV2 weights for alpha " + alpha + " only at 224x224 "
                    + "(got " + rows + "): use inputShape(224, 224, 3), or alpha 0.35, 0.5, 0.75 or 1.0 at " + rows);
        }
        String name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_" + alpha + "_" + rows + (includeTop ? "" : "_no_top") + ".h5";
        return new WeightsFile("mobilenet_v2", name, null);
    }

    /** The project's weights cache folder. */
    public static Path cacheDir() {
        String env = System.getenv("TL_WEIGHTS");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "transferlab", "weights");
    }

    /** Places a file is looked for, in order. */
    public static List<Path> candidates(WeightsFile f) {
        List<Path> c = new ArrayList<>();
        c.add(Path.of(System.getProperty("user.home"), ".keras", "models", f.fileName()));
        c.add(cacheDir().resolve(f.fileName()));
        String shared = System.getenv("TL_SHARED");
        if (shared != null && !shared.isBlank()) {
            c.add(Path.of(shared, "weights", f.fileName()));
        }
        return c;
    }

    /** The local copy, or null when there is none. */
    public static Path find(WeightsFile f) {
        for (Path p : candidates(f)) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * The file, MD5-checked where known: found on this machine or, outside quick mode, downloaded into the cache.
     * When it is neither, prints one line (the file, the folders looked in, why there was no download, that the
     * run continues with random weights) and returns null.
     *
     * @throws WeightsFileException if a local copy is there but has the wrong MD5 (truncated or another file)
     */
    public static Path locate(WeightsFile f) {
        String why;
        if (find(f) != null) {
            return fetch(f);
        } else if (Mode.quick()) {
            why = "quick mode does not download";
        } else {
            try {
                return fetch(f);
            } catch (UncheckedIOException e) {
                String cause = e.getCause() == null ? e.getMessage() : e.getCause().toString();
                why = "download from " + f.url() + " failed: " + cause.lines().findFirst().orElse("").strip();
            }
        }
        System.out.println("NOTE: ImageNet weights " + f.fileName() + " not found in "
                + candidates(f).stream().map(p -> p.getParent().toString()).collect(Collectors.joining(", "))
                + " (" + why + "): continuing with RANDOM weights, so the figures below show the mechanics, not what "
                + "transfer learning achieves.");
        return null;
    }

    /**
     * The local copy, downloading it into the cache when missing. Offline, the error names the file, where to
     * put it and the address to get it from.
     */
    public static Path fetch(WeightsFile f) {
        Path local = find(f);
        try {
            if (local != null) {
                if (f.md5() != null && !VERIFIED.verified(local, f.checksum())) {
                    throw new WeightsFileException(local + " does not have the " + f.checksum().algorithm()
                            + " Keras publishes for " + f.fileName() + " (" + f.md5() + "): it is truncated or another "
                            + "file. Delete it; it will be downloaded again.");
                }
                return local;
            }
            return Download.fetch(f.url(), cacheDir().resolve(f.fileName()), f.checksum());
        } catch (IOException e) {
            throw new UncheckedIOException("ImageNet weights " + f.fileName() + " are not on this machine and could not be "
                    + "downloaded: " + e.getMessage() + "\nPut the file in " + cacheDir() + " (or ~/.keras/models); it is at "
                    + f.url(), e);
        }
    }
}
