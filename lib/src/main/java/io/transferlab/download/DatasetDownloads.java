package io.transferlab.download;

import io.transferlab.data.Images;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The real datasets of the notebooks, downloaded and laid out as class folders. Every step is idempotent (a
 * finished step is skipped) and resumable (an interrupted download continues; unpacking and splitting write into a
 * temporary folder renamed when complete). Archives are verified by checksum: CIFAR-10's MD5 is published by its
 * authors; for the others no checksum is published, so the SHA-256 of the first download is pinned in
 * {@code <archive>.sha256} and every later use is checked against it.
 *
 * <p>Run {@code data/download.sh NAME} (NAME: cats-and-dogs, flowers, cifar10).
 */
public final class DatasetDownloads {
    public static final String CATS_DOGS_URL =
            "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip";
    public static final String FLOWERS_URL =
            "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz";
    /** TensorFlow Datasets' published SHA-256 of flower_photos.tgz (228,813,984 bytes). */
    public static final String FLOWERS_SHA256 = "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c";
    public static final String CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
    public static final String CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
    public static final List<String> CIFAR10_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog",
            "frog", "horse", "ship", "truck");

    private DatasetDownloads() {
    }

    /** Downloads an archive; without a published checksum, pins the first download's SHA-256 and checks it after. */
    static Path archive(String url, Path dir, Download.Checksum published) throws IOException {
        Path target = dir.resolve(url.substring(url.lastIndexOf('/') + 1));
        Path pin = target.resolveSibling(target.getFileName() + ".sha256");
        Download.Checksum sum = published;
        if (sum == null && Files.exists(pin)) {
            sum = Download.Checksum.sha256(Files.readString(pin).trim().split("\\s+")[0]);
        }
        Download.fetch(url, target, sum);
        if (published == null && !Files.exists(pin)) {
            String sha = Download.digest(target, "SHA-256");
            Files.writeString(pin, sha + "  " + target.getFileName() + "\n");
            System.out.println("  SHA-256 " + sha + " (no checksum is published for this file; pinned in " + pin.getFileName() + ")");
        }
        return target;
    }

    /** Replaces dest by a folder filled by the action, atomically: a half-done result never looks complete. */
    interface Fill {
        void into(Path tmp) throws IOException;
    }

    static void buildFolder(Path dest, Fill fill) throws IOException {
        Path tmp = dest.resolveSibling("." + dest.getFileName() + ".building");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        fill.into(tmp);
        deleteTree(dest);
        Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    /**
     * Microsoft's Kaggle cats-vs-dogs archive, split as in the tutorial (the book's "cats_and_dogs_small"):
     * per class the first 1000 readable images for train, the next 500 for validation, the next 500 for test.
     * Corrupt images in the archive (there are some) are skipped and counted.
     */
    public static Path catsAndDogs(Path downloads, String url) throws IOException {
        Path dest = downloads.resolve("cats_and_dogs_small");
        if (Files.exists(dest.resolve(".complete"))) {
            System.out.println("cats_and_dogs_small is ready at " + dest);
            return dest;
        }
        Path zip = archive(url, downloads, null);
        Path unpacked = downloads.resolve("PetImages-unpacked");
        if (!Files.exists(unpacked.resolve(".complete"))) {
            System.out.println("Unpacking " + zip.getFileName());
            buildFolder(unpacked, tmp -> {
                Archives.unzip(zip, tmp);
                Files.writeString(tmp.resolve(".complete"), "ok\n");
            });
        }
        Path pets = findFolder(unpacked, "PetImages");
        buildFolder(dest, tmp -> {
            String[][] classes = {{"Cat", "cats"}, {"Dog", "dogs"}};
            int[] counts = {1000, 500, 500};
            String[] splits = {"train", "validation", "test"};
            for (String[] c : classes) {
                List<Path> files = readableImages(pets.resolve(c[0]), 2000);
                if (files.size() < 2000) {
                    throw new IOException("Only " + files.size() + " readable " + c[1] + " images in " + pets.resolve(c[0]));
                }
                int k = 0;
                for (int s = 0; s < 3; s++) {
                    Path out = tmp.resolve(splits[s]).resolve(c[1]);
                    Files.createDirectories(out);
                    for (int i = 0; i < counts[s]; i++, k++) {
                        Files.copy(files.get(k), out.resolve(c[1].substring(0, 3) + "." + k + ".jpg"));
                    }
                }
            }
            Files.writeString(tmp.resolve(".complete"), "ok\n");
        });
        System.out.println("cats_and_dogs_small: 2000 train / 1000 validation / 1000 test images at " + dest);
        return dest;
    }

    /** TensorFlow's flower_photos: 5 classes (daisy, dandelion, roses, sunflowers, tulips), 3670 photos. */
    public static Path flowers(Path downloads, String url) throws IOException {
        Path dest = downloads.resolve("flower_photos");
        if (Files.exists(dest.resolve(".complete"))) {
            System.out.println("flower_photos is ready at " + dest);
            return dest;
        }
        // the published checksum for the published file; another address (a mirror, a test server) pins its first download
        Path tgz = archive(url, downloads, url.equals(FLOWERS_URL) ? Download.Checksum.sha256(FLOWERS_SHA256) : null);
        buildFolder(dest, tmp -> {
            Path unpack = tmp.resolve(".unpack");
            Archives.untarGz(tgz, unpack);
            Path root = findFolder(unpack, "flower_photos");
            try (Stream<Path> s = Files.list(root)) {
                for (Path p : s.toList()) {
                    if (Files.isDirectory(p)) {
                        Files.move(p, tmp.resolve(p.getFileName()));
                    }
                }
            }
            deleteTree(unpack);
            Files.writeString(tmp.resolve(".complete"), "ok\n");
        });
        System.out.println("flower_photos ready at " + dest);
        return dest;
    }

    /** CIFAR-10 (binary version, MD5 checked) as PNG class folders: train (50,000) and test (10,000). */
    public static Path cifar10(Path downloads, String url) throws IOException {
        Path dest = downloads.resolve("cifar10");
        if (Files.exists(dest.resolve(".complete"))) {
            System.out.println("cifar10 is ready at " + dest);
            return dest;
        }
        Path tgz = archive(url, downloads, url.equals(CIFAR10_URL) ? Download.Checksum.md5(CIFAR10_MD5) : null);
        buildFolder(dest, tmp -> {
            Path unpack = tmp.resolve(".unpack");
            Archives.untarGz(tgz, unpack);
            Path bin = findFolder(unpack, "cifar-10-batches-bin");
            int[] next = new int[10];
            for (int b = 1; b <= 5; b++) {
                writeCifarBatch(bin.resolve("data_batch_" + b + ".bin"), tmp.resolve("train"), next);
            }
            writeCifarBatch(bin.resolve("test_batch.bin"), tmp.resolve("test"), new int[10]);
            deleteTree(unpack);
            Files.writeString(tmp.resolve(".complete"), "ok\n");
        });
        System.out.println("cifar10 ready at " + dest);
        return dest;
    }

    /** One CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue). */
    static void writeCifarBatch(Path file, Path out, int[] next) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException("CIFAR-10 archive lacks " + file.getFileName());
        }
        byte[] all = Files.readAllBytes(file);
        if (all.length % 3073 != 0) {
            throw new IOException(file + " has " + all.length + " bytes, not a whole number of 3073-byte records");
        }
        for (int r = 0; r < all.length / 3073; r++) {
            int off = r * 3073;
            int label = all[off] & 0xff;
            if (label >= 10) {
                throw new IOException(file + " record " + r + " has label " + label);
            }
            BufferedImage img = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            for (int p = 0; p < 1024; p++) {
                int red = all[off + 1 + p] & 0xff, green = all[off + 1 + 1024 + p] & 0xff, blue = all[off + 1 + 2048 + p] & 0xff;
                img.setRGB(p % 32, p / 32, (red << 16) | (green << 8) | blue);
            }
            Path dir = out.resolve(CIFAR10_CLASSES.get(label));
            Files.createDirectories(dir);
            ImageIO.write(img, "png", dir.resolve(String.format(Locale.ROOT, "%05d.png", next[label]++)).toFile());
        }
    }

    private static Path findFolder(Path root, String name) throws IOException {
        try (Stream<Path> s = Files.walk(root, 3)) {
            return s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().equals(name)).findFirst()
                    .orElseThrow(() -> new IOException("No folder '" + name + "' in the unpacked archive at " + root));
        }
    }

    /** Up to n decodable images of a folder, in numeric file order; unreadable ones are reported. */
    static List<Path> readableImages(Path dir, int n) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.list(dir)) {
            all = s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".jpg"))
                    .sorted(Comparator.comparingLong(DatasetDownloads::number).thenComparing(Path::toString)).toList();
        }
        List<Path> ok = new ArrayList<>();
        int bad = 0;
        for (Path p : all) {
            if (ok.size() == n) {
                break;
            }
            try (InputStream in = Files.newInputStream(p)) {
                if (Files.size(p) > 0 && Images.read(p) != null) {
                    ok.add(p);
                    continue;
                }
            } catch (IOException | RuntimeException e) {
                // counted below
            }
            bad++;
        }
        if (bad > 0) {
            System.out.println("  skipped " + bad + " unreadable image(s) in " + dir);
        }
        return ok;
    }

    private static long number(Path p) {
        String n = p.getFileName().toString();
        String digits = n.replaceAll("\\D", "");
        return digits.isEmpty() ? Long.MAX_VALUE : Long.parseLong(digits.length() > 15 ? digits.substring(0, 15) : digits);
    }

    /** Command line: {@code DatasetDownloads NAME [DOWNLOADS_DIR]}. */
    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: data/download.sh cats-and-dogs|flowers|cifar10 [folder]");
            System.exit(2);
        }
        Path dir = args.length > 1 ? Path.of(args[1]) : io.transferlab.data.Datasets.downloads();
        Files.createDirectories(dir);
        switch (args[0]) {
            case "cats-and-dogs" -> catsAndDogs(dir, CATS_DOGS_URL);
            case "flowers" -> flowers(dir, FLOWERS_URL);
            case "cifar10" -> cifar10(dir, CIFAR10_URL);
            default -> {
                System.err.println("Unknown dataset '" + args[0] + "'; known: cats-and-dogs, flowers, cifar10");
                System.exit(2);
            }
        }
    }
}
