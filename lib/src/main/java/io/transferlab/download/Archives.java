package io.transferlab.download;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Unpacks zip and tar.gz archives into a folder, refusing any entry whose path would land outside it ("zip
 * slip": absolute paths, "..", links). Files are written under a temporary name and renamed when complete.
 */
public final class Archives {
    private Archives() {
    }

    /** Where an entry goes, or an IOException naming the entry if it would escape the target folder. */
    static Path safeTarget(Path dir, String entryName, Path archive) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        Path target = root.resolve(entryName).normalize();
        if (entryName.startsWith("/") || entryName.contains("\\") || !target.startsWith(root) || target.equals(root)) {
            throw new IOException("Archive " + archive + " has an entry that would be written outside " + root + ": '"
                    + entryName + "'. Refusing to unpack it.");
        }
        return target;
    }

    private static void write(InputStream in, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling("." + target.getFileName() + ".part");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Unpacks a zip file; returns the number of files written. */
    public static int unzip(Path archive, Path dir) throws IOException {
        int n = 0;
        try (ZipInputStream zin = new ZipInputStream(new BufferedInputStream(Files.newInputStream(archive)))) {
            ZipEntry e;
            while ((e = zin.getNextEntry()) != null) {
                Path target = safeTarget(dir, e.getName(), archive);
                if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    write(zin, target);
                    n++;
                }
            }
        }
        return n;
    }

    /** Unpacks a .tar.gz file; links and special files are refused. Returns the number of files written. */
    public static int untarGz(Path archive, Path dir) throws IOException {
        int n = 0;
        try (TarArchiveInputStream tin = new TarArchiveInputStream(new GzipCompressorInputStream(
                new BufferedInputStream(Files.newInputStream(archive))))) {
            TarArchiveEntry e;
            while ((e = tin.getNextEntry()) != null) {
                Path target = safeTarget(dir, e.getName(), archive);
                if (e.isSymbolicLink() || e.isLink() || e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
                    throw new IOException("Archive " + archive + " has a link or special file '" + e.getName()
                            + "'. Refusing to unpack it.");
                } else if (e.isDirectory()) {
                    Files.createDirectories(target);
                } else if (e.isFile()) {
                    write(tin, target);
                    n++;
                } else {
                    throw new IOException("Archive " + archive + " has a link or special file '" + e.getName()
                            + "'. Refusing to unpack it.");
                }
            }
        }
        return n;
    }
}
