package io.transferlab.runtime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The L2 cache size read from Linux's sysfs, as the head trainer sizes its tiles by it. */
class BackendCacheTest {
    @Test
    void sysfsCacheSizesParse() {
        assertEquals(2048L << 10, Backend.parseCacheSize("2048K\n"));
        assertEquals(1L << 20, Backend.parseCacheSize("1M"));
        assertEquals(512, Backend.parseCacheSize("512"));
        assertEquals(-1, Backend.parseCacheSize("big"));
        assertEquals(-1, Backend.parseCacheSize(""));
    }

    @Test
    void l2CacheIsWithinItsClamp() {
        int l2 = Backend.l2CacheBytes();
        assertTrue(l2 >= 256 << 10 && l2 <= 8 << 20, "L2 " + l2);
        // on Linux x86 machines sysfs's index2 is the unified L2: the value is that size (within the clamp)
        var index2 = java.nio.file.Path.of("/sys/devices/system/cpu/cpu0/cache/index2");
        try {
            if ("2".equals(java.nio.file.Files.readString(index2.resolve("level")).trim())) {
                long size = Backend.parseCacheSize(java.nio.file.Files.readString(index2.resolve("size")));
                assertEquals(Math.max(256L << 10, Math.min(8L << 20, size)), l2);
            }
        } catch (java.io.IOException e) {
            // no sysfs cache information here: the default was checked above
        }
    }
}
