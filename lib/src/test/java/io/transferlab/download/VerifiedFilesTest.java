package io.transferlab.download;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A weights file is hashed once; a truncated, replaced or touched file is hashed again and caught. */
class VerifiedFilesTest {
    @TempDir
    Path tmp;

    @Test
    void hashesOnceAndChecksAgainWhenTheFileChanges() throws Exception {
        Path file = tmp.resolve("weights.h5");
        byte[] content = new byte[100_000];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 31);
        }
        Files.write(file, content);
        Download.Checksum good = Download.Checksum.md5(Download.digest(file, "MD5"));
        VerifiedFiles memory = new VerifiedFiles(tmp.resolve("cache/verified.tsv"));

        int before = VerifiedFiles.DIGESTS.get();
        assertTrue(memory.verified(file, good));
        assertEquals(before + 1, VerifiedFiles.DIGESTS.get(), "the first check hashes the file");
        assertTrue(new VerifiedFiles(tmp.resolve("cache/verified.tsv")).verified(file, good));
        assertEquals(before + 1, VerifiedFiles.DIGESTS.get(), "an unchanged file is not hashed again (a new JVM reads the memory file)");

        // truncated: the size differs, so it is hashed again and fails
        Files.write(file, java.util.Arrays.copyOf(content, 50_000));
        assertFalse(memory.verified(file, good));
        assertEquals(before + 2, VerifiedFiles.DIGESTS.get());

        // replaced by another file of the same size with the old modification time restored: caught by the hash
        // only if the time differs, so keep a different time (as any copy or download would)
        Files.write(file, content);
        content[7] ^= 1;
        Files.write(file, content);
        Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 5_000));
        assertFalse(memory.verified(file, good), "same size, other content, other time: hashed again and refused");

        // a failure is never remembered, and a different checksum asked for is checked afresh
        assertFalse(memory.verified(file, good));
        Download.Checksum other = Download.Checksum.md5(Download.digest(file, "MD5"));
        int n = VerifiedFiles.DIGESTS.get();
        assertTrue(memory.verified(file, other));
        assertEquals(n + 1, VerifiedFiles.DIGESTS.get());
        assertFalse(memory.verified(tmp.resolve("missing.h5"), good));
    }

    @Test
    void anUnreadableMemoryOnlyCostsARecheck() throws Exception {
        Path file = tmp.resolve("w.h5");
        Files.writeString(file, "weights");
        Download.Checksum good = Download.Checksum.sha256(Download.digest(file, "SHA-256"));
        Path memo = tmp.resolve("verified.tsv");
        Files.createDirectories(memo); // a folder where the memory file should be: cannot be read or written
        assertTrue(new VerifiedFiles(memo).verified(file, good));
        assertFalse(new VerifiedFiles(memo).verified(file, Download.Checksum.sha256("00")));
    }
}
