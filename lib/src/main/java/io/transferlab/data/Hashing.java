package io.transferlab.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 of text or of a file's content, as hex. */
public final class Hashing {
    private Hashing() {
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(String text) {
        return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Content hashes already computed, by path and the file's size, modification time, inode and change time. */
    private static final java.util.Map<String, String> CONTENT = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The SHA-256 of a file's content, computed once per process for a file whose size, modification time, inode
     * and status-change time stay the same (a replaced or rewritten file has another inode or change time, even
     * when its size and modification time were restored).
     */
    public static String contentHash(Path file) throws IOException {
        var attrs = Files.readAttributes(file, "unix:size,lastModifiedTime,ino,ctime");
        String key = file.toAbsolutePath() + "|" + attrs.get("size") + "|" + attrs.get("lastModifiedTime") + "|"
                + attrs.get("ino") + "|" + attrs.get("ctime");
        String known = CONTENT.get(key);
        if (known == null) {
            known = sha256(file);
            CONTENT.put(key, known);
        }
        return known;
    }

    /** The SHA-256 of a file's content, read in one pass. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
