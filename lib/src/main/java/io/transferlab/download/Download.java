package io.transferlab.download;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Downloads a file with a progress line, checks its checksum and only then moves it into place, so an
 * interrupted or corrupt download never leaves a file that looks complete. An interrupted download continues
 * where it stopped (HTTP Range) on the next call; a finished, verified file is not fetched again.
 */
public final class Download {
    private Download() {
    }

    /** An expected checksum: algorithm ("MD5", "SHA-256") and hex digest. */
    public record Checksum(String algorithm, String hex) {
        public static Checksum md5(String hex) {
            return new Checksum("MD5", hex.toLowerCase());
        }

        public static Checksum sha256(String hex) {
            return new Checksum("SHA-256", hex.toLowerCase());
        }

        @Override
        public String toString() {
            return algorithm + " " + hex;
        }
    }

    /** The checksum of a file. */
    public static String digest(Path file, String algorithm) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("Unknown checksum algorithm " + algorithm, e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Whether the file exists and has the checksum. */
    public static boolean verified(Path file, Checksum sum) throws IOException {
        return Files.isRegularFile(file) && (sum == null || digest(file, sum.algorithm()).equals(sum.hex()));
    }

    /**
     * Fetches url into target unless target already holds the right content. Partial data waits in
     * {@code target.part}; the finished file is checked, then renamed to target.
     */
    public static Path fetch(String url, Path target, Checksum sum) throws IOException {
        if (verified(target, sum)) {
            return target;
        }
        if (Files.exists(target)) {
            throw new IOException(target + " exists but its " + sum + " does not match: it is corrupt or another file."
                    + " Delete it and run again.");
        }
        Files.createDirectories(target.toAbsolutePath().getParent());
        Path part = target.resolveSibling(target.getFileName() + ".part");
        long have = Files.exists(part) ? Files.size(part) : 0;
        HttpURLConnection c;
        try {
            c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        } catch (IllegalArgumentException e) {
            throw new IOException("Bad URL " + url, e);
        }
        c.setConnectTimeout(20_000);
        c.setReadTimeout(60_000);
        if (have > 0) {
            c.setRequestProperty("Range", "bytes=" + have + "-");
        }
        int code;
        try {
            code = c.getResponseCode();
        } catch (IOException e) {
            throw new IOException("Cannot download " + url + " (" + e + "). If this machine is offline, download it "
                    + "elsewhere and put it at " + target.toAbsolutePath(), e);
        }
        boolean append = have > 0 && code == HttpURLConnection.HTTP_PARTIAL;
        if (code != HttpURLConnection.HTTP_OK && !append) {
            throw new IOException("Download of " + url + " failed: HTTP " + code + ". Put the file at " + target.toAbsolutePath()
                    + " by hand if the address has moved.");
        }
        if (!append) {
            have = 0;
        }
        long total = c.getContentLengthLong() < 0 ? -1 : c.getContentLengthLong() + have;
        System.out.printf("Downloading %s%n  to %s%s%n", url, target, append ? " (continuing at " + mb(have) + ")" : "");
        long t0 = System.nanoTime();
        long last = t0;
        long done = have;
        try (InputStream in = c.getInputStream();
             OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                done += n;
                if (Thread.interrupted()) { // consumed: the exception reports it
                    throw new java.io.InterruptedIOException("Download of " + url + " interrupted at " + mb(done)
                            + "; the partial file " + part + " is kept: run again to continue");
                }
                long now = System.nanoTime();
                if (now - last > 2_000_000_000L) {
                    System.out.println("  " + progress(done, total, (now - t0) / 1e9));
                    last = now;
                }
            }
        }
        System.out.println("  " + progress(done, total, (System.nanoTime() - t0) / 1e9));
        if (total >= 0 && done != total) {
            throw new IOException("Download of " + url + " stopped at " + mb(done) + " of " + mb(total)
                    + "; run again to continue");
        }
        if (sum != null) {
            String got = digest(part, sum.algorithm());
            if (!got.equals(sum.hex())) {
                Files.delete(part);
                throw new IOException("Downloaded " + url + " but its " + sum.algorithm() + " is " + got + ", expected "
                        + sum.hex() + ". The partial file was deleted; try again, or check the address.");
            }
        }
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    private static String progress(long done, long total, double secs) {
        String rate = String.format("%.1f MB/s", done / 1e6 / Math.max(secs, 1e-3));
        if (total <= 0) {
            return mb(done) + " - " + rate;
        }
        int width = 30;
        int filled = (int) (width * done / total);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + mb(done) + " / " + mb(total) + " - " + rate;
    }

    private static String mb(long bytes) {
        return String.format("%.1f MB", bytes / 1e6);
    }
}
