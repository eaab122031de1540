package org.rapaio.jupyter.kernel.channels;

import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

/*
 * Drop-in replacement for LoopThread of rapaio-jupyter-kernel 3.0.1 (same
 * public constructor and methods). install-kernel.sh compiles it and puts it
 * in front of the kernel jar on the class path, so this class wins.
 *
 * Why: in 3.0.1 about one kernel start in six hangs ("Kernel didn't respond
 * in 60 seconds"). Two defects, both seen with jstack:
 *
 *  1. start() started the thread and only afterwards set running = true. A
 *     new thread that got to the while (running) test first saw false and
 *     ended at once, leaving its socket (shell, control or heartbeat) bound
 *     but never read.
 *  2. Channels.connect() binds the sockets, which starts the loops, and only
 *     then creates and fills the handler map. The client has usually queued a
 *     kernel_info_request before the kernel binds, so it arrives immediately;
 *     the shell loop then looks up its handler in a null map, the
 *     NullPointerException escapes run(), and the shell thread is gone.
 *
 * Fix, kept to this class plus io.transferlab.kernel.KernelLauncher:
 *  - running is set before the thread starts;
 *  - a start gate: the launcher closes it before Channels.connect() and opens
 *    it after connect() returns, so no loop reads a message before the
 *    handlers exist (early messages simply wait in the ZeroMQ socket);
 *  - an exception from one loop iteration is logged instead of killing the
 *    loop (the loop gives up only after many failures in a row).
 * Without the launcher the gate stays open and only the first and last
 * points apply.
 */
public final class LoopThread extends Thread {

    private static final Logger LOGGER = Logger.getLogger(LoopThread.class.getSimpleName());
    private static final int MAX_FAILURES_IN_A_ROW = 100;

    private static volatile CountDownLatch gate;

    /** Loops started after this call wait for {@link #openGate()} before their first iteration. */
    public static void closeGate() {
        gate = new CountDownLatch(1);
    }

    /** Lets waiting (and future) loops run. */
    public static void openGate() {
        CountDownLatch g = gate;
        if (g != null) {
            g.countDown();
        }
    }

    private final long sleepMillis;
    private final Runnable loopBody;
    private volatile boolean running = false;

    public LoopThread(String name, long sleep, Runnable loopBody) {
        super(name);
        this.sleepMillis = sleep;
        this.loopBody = loopBody;
    }

    @Override
    public synchronized void start() {
        running = true; // must happen before the thread can test it
        super.start();
    }

    @Override
    public void run() {
        int failures = 0;
        try {
            CountDownLatch g = gate;
            if (g != null) {
                g.await();
            }
            while (running) {
                try {
                    loopBody.run();
                    failures = 0;
                } catch (RuntimeException e) {
                    if (!running) {
                        break; // socket closed under us during shutdown
                    }
                    failures++;
                    // the kernel's log format prints no stack traces: put the cause in the message
                    StackTraceElement[] at = e.getStackTrace();
                    LOGGER.log(Level.SEVERE, getName() + ": loop iteration failed (" + failures + " in a row): " + e
                            + (at.length > 0 ? " at " + at[0] : ""), e);
                    if (failures >= MAX_FAILURES_IN_A_ROW) {
                        LOGGER.severe(getName() + ": too many failures, loop stops");
                        break;
                    }
                }
                Thread.sleep(sleepMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            running = false;
        }
    }

    public void shutdown() {
        running = false;
    }
}
