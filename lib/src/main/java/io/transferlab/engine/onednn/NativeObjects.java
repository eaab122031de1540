package io.transferlab.engine.onednn;

import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.List;

/**
 * The native objects (oneDNN descriptors, primitives, memories, argument maps) that a set of primitives makes and
 * owns: each is registered when made and all are freed, newest first, on {@link #close()}.
 */
abstract class NativeObjects implements AutoCloseable {
    private final List<Pointer> owned = new ArrayList<>();

    /** Registers p to be freed on close, and returns it. */
    protected final <P extends Pointer> P own(P p) {
        owned.add(p);
        return p;
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            owned.get(i).close();
        }
        owned.clear();
    }
}
