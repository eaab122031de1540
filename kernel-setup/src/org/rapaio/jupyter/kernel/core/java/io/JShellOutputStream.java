package org.rapaio.jupyter.kernel.core.java.io;

import org.rapaio.jupyter.kernel.channels.Channels;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Replaces the kernel's class of the same name (this copy comes first on the kernel's class path): a cell's
 * standard output or error, sent to the notebook at most every {@link #EVERY_MILLIS} ms (the stock class sent a
 * message at every println, and past a thousand queued messages the socket drops them), and at most
 * {@link #LIMIT_BYTES} per cell: a cell that prints megabytes gets its first megabyte and one note saying how much
 * was left out, instead of a browser that freezes on the flood.
 */
public class JShellOutputStream extends ByteArrayOutputStream {
    /** What one cell may send to one stream (TL_KERNEL_OUTPUT_LIMIT, in bytes, changes it). */
    static final long LIMIT_BYTES = limit();
    static final long EVERY_MILLIS = 100;
    private static final java.util.concurrent.ScheduledExecutorService TIMER =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "output-flush");
                t.setDaemon(true);
                return t;
            });
    private final boolean err;
    private Channels channels;
    private long sent;
    private long dropped;
    private long lastSend;
    private boolean scheduled;
    private long windowStart;
    private int windowSends;
    private static final java.util.Set<JShellOutputStream> ALL =
            java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>());

    /** Sends what every stream holds back (before display data, so that text printed before it comes first). */
    public static void sendAllPending() {
        java.util.List<JShellOutputStream> streams;
        synchronized (ALL) {
            streams = new java.util.ArrayList<>(ALL);
        }
        for (JShellOutputStream s : streams) {
            synchronized (s) {
                if (s.channels != null) {
                    s.sendPending();
                }
            }
        }
    }

    public JShellOutputStream(boolean err) {
        super(1024);
        this.err = err;
        synchronized (ALL) {
            ALL.add(this);
        }
    }

    private static long limit() {
        String v = System.getenv("TL_KERNEL_OUTPUT_LIMIT");
        try {
            return v == null || v.isBlank() ? 1 << 20 : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return 1 << 20;
        }
    }

    /** Called when a cell starts: its output goes to these channels, counted from zero. */
    public synchronized void bindChannels(Channels channels) {
        this.channels = channels;
        this.sent = 0;
        this.dropped = 0;
    }

    /** Called when the cell ends; says what was left out, if anything. */
    public synchronized void unbindChannels() {
        if (channels != null) {
            sendPending();
        }
        if (channels != null && dropped > 0) {
            send(String.format("%n[output truncated: %,d more bytes of this cell's %s were not shown; write large output "
                    + "to a file instead]%n", dropped, err ? "standard error" : "output"));
        }
        this.channels = null;
    }

    private void send(String text) {
        if (err) {
            channels.writeToStdErr(text);
        } else {
            channels.writeToStdOut(text);
        }
    }

    /** Sends what was written, unless something was sent less than {@link #EVERY_MILLIS} ago (then a timer does). */
    @Override
    public synchronized void flush() {
        if (count == 0) {
            return;
        }
        if (channels == null) {
            throw new IllegalStateException("No bound env at flush.");
        }
        long now = System.currentTimeMillis();
        if (now - windowStart > 1000) {
            windowStart = now;
            windowSends = 0;
        }
        // a few lines go out at once, in order; a flood (dozens of flushes a second) is sent in batches
        if (windowSends < 20 || now - lastSend >= EVERY_MILLIS) {
            windowSends++;
            sendPending();
        } else if (!scheduled) {
            scheduled = true;
            TIMER.schedule(() -> {
                synchronized (this) {
                    scheduled = false;
                    if (channels != null) {
                        sendPending();
                    }
                }
            }, EVERY_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    private void sendPending() {
        if (count == 0) {
            return;
        }
        if (sent >= LIMIT_BYTES) {
            dropped += count;
        } else {
            int keep = (int) Math.min(count, LIMIT_BYTES - sent);
            String contents = new String(buf, 0, keep, StandardCharsets.UTF_8);
            sent += keep;
            dropped += count - keep;
            send(contents);
        }
        lastSend = System.currentTimeMillis();
        reset();
    }
}
