package io.transferlab.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decoded, resized images kept in memory between epochs (what tf.data's {@code cache()} does after decoding), so
 * that a training run over image folders decodes each photo once instead of once per epoch: notebook 07's small CNN
 * spent about a third of each epoch decoding the same 3,000 JPEGs again.
 *
 * <p>Only exact results are kept: images whose resized pixels are all whole numbers 0..255 (Keras's default
 * nearest-neighbour resizing, or no resizing), stored as one byte per value, so that a cached image gives the same
 * floats bit for bit. Bilinear results, fractional, are decoded each time. An entry is keyed by the file (path,
 * size, modification time and the file system's file key, which a file moved into its place changes), the target
 * size, the interpolation and the decoder; entries are added until the cache holds its capacity, then no more
 * (no eviction: an epoch reads the same files again).
 *
 * <p>Capacity: {@code TL_IMAGE_CACHE_MB} (or the system property {@code transferlab.imageCacheMb}), by default an
 * eighth of the Java heap (1 GB in the notebook kernel's 8 GB: 15,000 photos at 150x150); 0 switches it off.
 */
public final class DecodedImages {
    private record Key(String path, long size, long modified, Object fileKey, int height, int width,
                       Images.Interpolation mode, String decoder) {
    }

    private static final Map<Key, byte[]> CACHE = new ConcurrentHashMap<>();
    private static final AtomicLong BYTES = new AtomicLong();

    private DecodedImages() {
    }

    /** The cache's capacity in bytes. */
    static long capacity() {
        String v = System.getProperty("transferlab.imageCacheMb", System.getenv("TL_IMAGE_CACHE_MB"));
        if (v == null || v.isBlank()) {
            return Runtime.getRuntime().maxMemory() / 8;
        }
        try {
            return Math.max(0, Long.parseLong(v.trim())) << 20;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("TL_IMAGE_CACHE_MB (transferlab.imageCacheMb) must be a whole number of "
                    + "megabytes, got '" + v + "'");
        }
    }

    /** Bytes held now. */
    public static long bytesHeld() {
        return BYTES.get();
    }

    /** Empties the cache. */
    public static void clear() {
        CACHE.clear();
        BYTES.set(0);
    }

    /** {@link Images#load(Path, int, int, Images.Interpolation)}, from the cache when the file was decoded before. */
    static float[] load(Path file, int height, int width, Images.Interpolation mode) throws IOException {
        long capacity = capacity();
        if (capacity == 0) {
            return Images.load(file, height, width, mode);
        }
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            return Images.load(file, height, width, mode);   // its own error message
        }
        Key key = new Key(file.toAbsolutePath().normalize().toString(), a.size(), a.lastModifiedTime().toMillis(),
                a.fileKey(), height, width, mode, NativeJpeg.mode());
        byte[] packed = CACHE.get(key);
        if (packed != null) {
            float[] px = new float[packed.length];
            for (int i = 0; i < px.length; i++) {
                px[i] = packed[i] & 0xff;
            }
            return px;
        }
        float[] px = Images.load(file, height, width, mode);
        if (BYTES.get() >= capacity) {
            return px;   // full: nothing more is added
        }
        packed = pack(px);
        if (packed != null && BYTES.get() + packed.length <= capacity) {
            if (CACHE.putIfAbsent(key, packed) == null) {
                BYTES.addAndGet(packed.length);
            }
        }
        return px;
    }

    /** The values as bytes when every one is a whole number 0..255, else null. */
    private static byte[] pack(float[] px) {
        byte[] b = new byte[px.length];
        for (int i = 0; i < px.length; i++) {
            float v = px[i];
            int q = (int) v;
            if (q != v || q < 0 || q > 255) {
                return null;
            }
            b[i] = (byte) q;
        }
        return b;
    }
}
