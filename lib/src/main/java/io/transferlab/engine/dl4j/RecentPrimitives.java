package io.transferlab.engine.dl4j;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer's oneDNN primitives by key (the input shape, and what else they were made for), the two most recently
 * used: a training set's batches and its smaller last one. Older ones are closed, freeing their native memory.
 */
final class RecentPrimitives<P extends AutoCloseable> extends LinkedHashMap<List<Long>, P> {
    RecentPrimitives() {
        super(4, 0.75f, true);
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<List<Long>, P> eldest) {
        if (size() <= 2) {
            return false;
        }
        try {
            eldest.getValue().close();
        } catch (Exception e) {
            throw new IllegalStateException("closing oneDNN primitives failed", e);
        }
        return true;
    }
}
