package io.transferlab.engine.onednn;

import io.transferlab.optimizers.Optimizer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.FloatBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One optimizer step over weights, gradients and optimizer state held as flat native float arrays: the
 * {@link OptimizerStep} arithmetic run in chunks copied to the Java heap (where the JIT vectorizes it), the chunks
 * shared out between the calling thread and helper threads. Two forms: {@link #step} changes the weights itself
 * (the oneDNN head trainer), {@link #change} leaves in the gradient array what is to be subtracted from the
 * weights (the contract of DL4J's updaters, whose step function subtracts it).
 *
 * <p>Threads: by default every core, at most 4 (the calling thread included). The pass is bound by memory traffic
 * (weights, gradients and state: 20 bytes a weight for RMSprop), which a second core nearly doubles: 38.5M weights
 * of RMSprop took 36 ms on one thread and 21 ms on two on this project's 2-core Xeon, and notebook 02's head trained
 * at 8-9 s/epoch instead of 11-12 (4 epochs, runs alternating). Beside a busy process the two were level (13-18
 * against 14-17 s/epoch): helpers claim chunks from a shared counter, so one that the machine does not run soon
 * leaves its chunks to the others instead of holding up the step; the calling thread waits only for chunks a
 * helper has started. {@code transferlab.headUpdateThreads=N} (read each step) asks for N, at most the cores and 4;
 * 1 keeps the pass on the calling thread. Arrays shorter than one chunk always stay on the calling thread.
 *
 * <p>Against ND4J's own updater ops, which DL4J's updaters call: Adam over MobileNet's last block (1.06M weights)
 * took about 26 ns a weight there, about 28 ms of a 330-400 ms fine-tuning step.
 */
public final class FlatOptimizer {
    private static final int CHUNK = 16384;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][CHUNK]);
    private static final int MAX_THREADS = Math.min(4, Runtime.getRuntime().availableProcessors());
    private static final ExecutorService HELPERS = MAX_THREADS <= 1 ? null
            : Executors.newFixedThreadPool(MAX_THREADS - 1, r -> {
                Thread t = new Thread(r, "transferlab-optimizer");
                t.setDaemon(true);
                return t;
            });

    private final OptimizerStep arithmetic;

    /**
     * The step of this Keras optimizer.
     *
     * @throws UnsupportedOperationException for rules without Java arithmetic here (SGD with Nesterov momentum)
     */
    public FlatOptimizer(Optimizer optimizer) {
        arithmetic = OptimizerStep.of(optimizer);
    }

    /** Whether an optimizer has arithmetic here (all but SGD with Nesterov momentum). */
    public static boolean supports(Optimizer optimizer) {
        try {
            OptimizerStep.of(optimizer);
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * State values per weight, laid out as DL4J lays out its updaters' state: RMSprop one (the squared-gradient
     * average, starting at epsilon), Adam two (m for all weights, then v), SGD with momentum one, plain SGD none.
     */
    public int stateSlots() {
        return arithmetic.stateSlots();
    }

    /** The threads of a pass, the calling thread included (read each step, for comparisons). */
    static int threads() {
        String v = System.getProperty("transferlab.headUpdateThreads");
        if (v == null) {
            return MAX_THREADS;
        }
        try {
            return Math.max(1, Math.min(MAX_THREADS, Integer.parseInt(v.trim())));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("transferlab.headUpdateThreads must be a whole number, got '" + v + "'");
        }
    }

    /**
     * The step with this 0-based iteration number: n weights at {@code params} change, their state at {@code state}
     * ({@link #stateSlots()} runs of n values, null when there are none) moves.
     */
    public void step(int iteration, Pointer params, Pointer grads, Pointer state, long n) {
        run(iteration, params, 0, grads, 0, state, 0, n, n);
    }

    /**
     * The step for the {@code count} weights from index {@code from} of a flat array of n weights (their state at
     * the same index of each of the {@link #stateSlots()} runs of n values), with their gradients at index
     * {@code gradsAt} of {@code grads}: the step of part of a network whose gradient is computed tile by tile.
     * Each weight changes exactly as in a {@link #step} over the whole array.
     */
    public void step(int iteration, Pointer params, Pointer grads, long gradsAt, Pointer state, long n, long from,
                     long count) {
        if (from < 0 || count < 0 || from + count > n) {
            throw new IllegalArgumentException("weights " + from + ".." + (from + count) + " of " + n);
        }
        run(iteration, params, from, grads, gradsAt, state, from, n, count);
    }

    /**
     * The step with this 0-based iteration number, as DL4J's updaters make it: the n gradients at {@code grads} are
     * replaced by what is to be subtracted from the weights, and the state moves. Subtracting it gives the weights
     * {@link #step} gives, bit for bit.
     */
    public void change(int iteration, Pointer grads, Pointer state, long n) {
        run(iteration, null, 0, grads, 0, state, 0, n, n);
    }

    /**
     * count weights at index pAt of params (null: the change goes into the gradients), gradients at gAt of grads,
     * state at sAt of state, its second slot slotStride further.
     */
    private void run(int iteration, Pointer params, long pAt, Pointer grads, long gAt, Pointer state, long sAt,
                     long slotStride, long count) {
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(count + " weights in one optimizer pass");
        }
        if (stateSlots() > 0 && state == null) {
            throw new IllegalArgumentException("the optimizer needs its state");
        }
        int n = (int) count;
        int chunks = (n + CHUNK - 1) / CHUNK;
        arithmetic.begin(iteration);
        Pass pass = new Pass(arithmetic, chunks, n, params, pAt, grads, gAt, state, sAt, slotStride);
        int threads = threads();
        if (HELPERS != null && threads > 1 && chunks > 1) {
            for (int h = 0; h < Math.min(threads - 1, chunks - 1); h++) {
                HELPERS.execute(pass::run);
            }
        }
        pass.run();
        while (pass.done().get() < chunks) {
            Thread.yield();
        }
        if (pass.failure().get() != null) {
            throw new IllegalStateException("the optimizer step failed", pass.failure().get());
        }
    }

    /**
     * The chunks of one pass, claimed one at a time by whichever thread is free; params null: the change goes into
     * the gradients instead.
     */
    private record Pass(OptimizerStep arithmetic, int chunks, int n, Pointer params, long pAt, Pointer grads,
                        long gAt, Pointer state, long sAt, long slotStride, AtomicInteger next, AtomicInteger done,
                        AtomicReference<Throwable> failure) {
        Pass(OptimizerStep arithmetic, int chunks, int n, Pointer params, long pAt, Pointer grads, long gAt,
             Pointer state, long sAt, long slotStride) {
            this(arithmetic, chunks, n, params, pAt, grads, gAt, state, sAt, slotStride, new AtomicInteger(),
                    new AtomicInteger(), new AtomicReference<>());
        }

        /** n floats from index at of p, as a buffer indexed from 0. */
        private FloatBuffer view(Pointer p, long at) {
            return new FloatPointer(p).position(at).limit(at + n).asBuffer();
        }

        void run() {
            int slots = arithmetic.stateSlots();
            FloatBuffer pAll = null;
            FloatBuffer gAll = null;
            FloatBuffer s1All = null;
            FloatBuffer s2All = null;
            float[][] t = null;
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                try {
                    if (gAll == null) {   // views of this thread's own (positions are per view)
                        // a buffer spans a pointer's position to its limit, which ND4J's pointers leave at 0
                        pAll = params == null ? null : view(params, pAt);
                        gAll = view(grads, gAt);
                        s1All = slots > 0 ? view(state, sAt) : null;
                        s2All = slots > 1 ? view(state, sAt + slotStride) : null;
                        t = SCRATCH.get(); // once per pass: a ThreadLocal lookup per chunk showed in profiles
                    }
                    int off = c * CHUNK;
                    int len = Math.min(CHUNK, n - off);
                    if (pAll != null) {
                        pAll.get(off, t[0], 0, len);
                    } else {
                        java.util.Arrays.fill(t[0], 0, len, 0f);   // 0 - change: the change, negated exactly
                    }
                    gAll.get(off, t[1], 0, len);
                    if (s1All != null) {
                        s1All.get(off, t[2], 0, len);
                    }
                    if (s2All != null) {
                        s2All.get(off, t[3], 0, len);
                    }
                    arithmetic.apply(t[0], t[1], t[2], t[3], len);
                    if (pAll != null) {
                        pAll.put(off, t[0], 0, len);
                    } else {
                        float[] d = t[0];
                        for (int i = 0; i < len; i++) {
                            d[i] = -d[i];
                        }
                        gAll.put(off, d, 0, len);
                    }
                    if (s1All != null) {
                        s1All.put(off, t[2], 0, len);
                    }
                    if (s2All != null) {
                        s2All.put(off, t[3], 0, len);
                    }
                } catch (Throwable e) {
                    failure.set(e);
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }
}
