package io.transferlab.download;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Remembers which large files (weights of hundreds of megabytes) were checked against their published checksum, so
 * a file is hashed once, not every time a model is built. A file is taken as verified again only while its path,
 * size and modification time are those it had when it was hashed and the checksum asked for is the same; a file
 * that was truncated, replaced or touched since is hashed again before its numbers are used.
 *
 * <p>The memory is a small tab-separated file (path, size, modification time in milliseconds, algorithm, digest);
 * losing or corrupting it only costs a re-check. Only successful checks are remembered.
 */
public final class VerifiedFiles {
    /** How many full digests were computed by this class (tests use it to see that a check was skipped). */
    static final AtomicInteger DIGESTS = new AtomicInteger();

    private final Path memo;

    /** A memory kept in the given file (created on first success; its folder is created too). */
    public VerifiedFiles(Path memo) {
        this.memo = memo;
    }

    /**
     * Whether the file exists and has the checksum: from memory when the file is unchanged since it was verified,
     * otherwise by hashing it (and remembering a success). A null checksum means nothing to check.
     */
    public boolean verified(Path file, Download.Checksum sum) throws IOException {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        if (sum == null) {
            return true;
        }
        String key = key(file, sum);
        List<String> lines = read();
        if (lines.contains(key)) {
            return true;
        }
        DIGESTS.incrementAndGet();
        if (!Download.digest(file, sum.algorithm()).equals(sum.hex())) {
            return false;
        }
        remember(file, key, lines);
        return true;
    }

    private static String key(Path file, Download.Checksum sum) throws IOException {
        Path abs = file.toAbsolutePath().normalize();
        return abs + "\t" + Files.size(abs) + "\t" + Files.getLastModifiedTime(abs).toMillis() + "\t" + sum.algorithm()
                + "\t" + sum.hex();
    }

    private List<String> read() {
        try {
            return Files.isRegularFile(memo) ? new ArrayList<>(Files.readAllLines(memo)) : new ArrayList<>();
        } catch (IOException | RuntimeException e) {
            return new ArrayList<>(); // unreadable memory: everything is checked again
        }
    }

    private void remember(Path file, String key, List<String> lines) {
        String prefix = file.toAbsolutePath().normalize() + "\t";
        lines.removeIf(l -> l.startsWith(prefix)); // an older state of the same file
        lines.add(key);
        try {
            Path dir = memo.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, memo.getFileName().toString(), ".tmp");
            Files.write(tmp, lines);
            Files.move(tmp, memo, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            // a read-only cache only means the next run checks again
        }
    }
}
