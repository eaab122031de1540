package io.transferlab.engine.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.cblas_sgemm;

/**
 * One float matrix product of fixed shape, {@code C = op(A) . op(B) (+ bias)}, all matrices dense and row-major,
 * op a transpose where asked: oneDNN's matmul primitive, made once and run many times, or OpenBLAS's sgemm where
 * oneDNN is not available.
 *
 * <p>Why not OpenBLAS throughout: for a classifier head's products (20 x 8192 by 8192 x 256 and its weight
 * gradient) oneDNN's AVX-512 kernels took 0.32 and 0.25 ms here, ND4J's OpenBLAS 1.0 and 0.5 ms; and OpenBLAS's own
 * thread pool competes for the cores with the OpenMP threads that ND4J and oneDNN share.
 */
public final class MatMul implements AutoCloseable {
    private final int m;
    private final int n;
    private final int k;
    private final boolean transA;
    private final boolean transB;
    private final boolean withBias;
    private final matmul primitive;
    private final memory a;
    private final memory b;
    private final memory c;
    private final memory bias;
    private final IntMemoryMap args;
    /** A product too small for a native call to pay: computed by plain loops (no OpenMP fork and barrier). */
    private final boolean plain;
    private float[] aScratch;
    private float[] bScratch;
    private float[] cScratch;
    private float[] biasScratch;

    /**
     * Products of at most this many multiply-adds run as plain loops: a classifier head's last layer (20 x 256 by
     * 256 x 1 and its gradients) took longer to enter and leave oneDNN's threads than to compute, and much longer
     * when another process keeps a core busy (a parallel region waits for a preempted thread).
     */
    static final long PLAIN_MAX = 1L << 16;

    /**
     * A product of an (m x k) by a (k x n) matrix into (m x n); {@code transA}: A is stored as (k x m),
     * {@code transB}: B is stored as (n x k); {@code withBias}: a row of n values is added to every row of C.
     */
    public MatMul(int m, int n, int k, boolean transA, boolean transB, boolean withBias) {
        this(m, n, k, transA, transB, withBias, OneDnn.unavailable() == null);
    }

    /** As above; {@code oneDnn} false: OpenBLAS (for tests of that path). */
    MatMul(int m, int n, int k, boolean transA, boolean transB, boolean withBias, boolean oneDnn) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("matrix sizes must be positive: m=" + m + " n=" + n + " k=" + k);
        }
        this.m = m;
        this.n = n;
        this.k = k;
        this.transA = transA;
        this.transB = transB;
        this.withBias = withBias;
        this.plain = (long) m * n * k <= PLAIN_MAX;
        if (!oneDnn || plain) {
            primitive = null;
            a = b = c = bias = null;
            args = null;
            return;
        }
        var engine = OneDnn.engine();
        memory.desc aDesc = matrix(m, k, transA);
        memory.desc bDesc = matrix(k, n, transB);
        memory.desc cDesc = matrix(m, n, false);
        memory.desc biasDesc = withBias ? matrix(1, n, false) : null;
        var desc = withBias ? new matmul.desc(aDesc, bDesc, biasDesc, cDesc) : new matmul.desc(aDesc, bDesc, cDesc);
        primitive = new matmul(new matmul.primitive_desc(desc, engine));
        a = new memory(aDesc, engine, (Pointer) null);
        b = new memory(bDesc, engine, (Pointer) null);
        c = new memory(cDesc, engine, (Pointer) null);
        bias = withBias ? new memory(biasDesc, engine, (Pointer) null) : null;
        args = new IntMemoryMap();
        args.put(DNNL_ARG_SRC, a);
        args.put(DNNL_ARG_WEIGHTS, b);
        args.put(DNNL_ARG_DST, c);
        if (withBias) {
            args.put(DNNL_ARG_BIAS, bias);
        }
    }

    /** A (rows x cols) matrix, stored row-major, or stored transposed (cols x rows, row-major). */
    private static memory.desc matrix(long rows, long cols, boolean transposed) {
        return new memory.desc(new long[]{rows, cols}, memory.data_type.f32,
                transposed ? memory.format_tag.ba : memory.format_tag.ab);
    }

    /** Which engine runs products made with the public constructor, and why when it is not oneDNN. */
    public static String defaultEngine() {
        return OneDnn.unavailable() == null ? ONEDNN : blas();
    }

    /** Which engine runs this product. */
    public String engine() {
        return plain ? "plain loops" : primitive != null ? ONEDNN : blas();
    }

    private static final String ONEDNN = "oneDNN matmul";

    private static String blas() {
        return "OpenBLAS sgemm" + (OneDnn.unavailable() == null ? "" : " (" + OneDnn.unavailable() + ")");
    }

    /**
     * C = op(A) . op(B) (+ bias). Each pointer's position counts, in floats, where its matrix starts; positions are
     * left as they were.
     */
    public void run(FloatPointer aData, FloatPointer bData, FloatPointer biasData, FloatPointer cData) {
        if (withBias != (biasData != null)) {
            throw new IllegalArgumentException(withBias ? "this product adds a bias: give one" : "this product has no bias");
        }
        if (plain) {
            loops(aData, bData, biasData, cData);
            return;
        }
        if (primitive == null) {
            blas(aData, bData, biasData, cData);
            return;
        }
        a.set_data_handle(at(aData));
        b.set_data_handle(at(bData));
        c.set_data_handle(at(cData));
        if (withBias) {
            bias.set_data_handle(at(biasData));
        }
        var stream = OneDnn.stream();
        synchronized (OneDnn.class) { // one stream for the process, and a stream is not thread-safe
            primitive.execute(stream, args);
            stream._wait();
        }
    }

    /** The address where a pointer's matrix starts (its position taken into account). */
    private static Pointer at(FloatPointer p) {
        long start = p.address() + p.position() * Float.BYTES;
        return new Pointer() {
            {
                address = start;
            }
        };
    }

    /** The product by plain loops, accumulated in double, for small products ({@link #PLAIN_MAX}). */
    private synchronized void loops(FloatPointer aData, FloatPointer bData, FloatPointer biasData, FloatPointer cData) {
        if (aScratch == null) {
            aScratch = new float[m * k];
            bScratch = new float[k * n];
            cScratch = new float[m * n];
            biasScratch = new float[n];
        }
        float[] av = aScratch;
        float[] bv = bScratch;
        float[] cv = cScratch;
        new FloatPointer(aData).get(av);                      // JavaCPP's bulk get and put start at the position
        new FloatPointer(bData).get(bv);
        float[] bias = biasScratch;
        if (withBias) {
            new FloatPointer(biasData).get(bias);
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = withBias ? bias[j] : 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) av[transA ? p * m + i : i * k + p] * bv[transB ? j * k + p : p * n + j];
                }
                cv[i * n + j] = (float) sum;
            }
        }
        new FloatPointer(cData).put(cv);
    }

    private void blas(FloatPointer aData, FloatPointer bData, FloatPointer biasData, FloatPointer cData) {
        float beta = 0f;
        if (withBias) {
            float[] row = new float[n];
            new FloatPointer(biasData).get(row);            // JavaCPP's bulk get and put start at the position
            var rows = new FloatPointer(cData);
            for (long r = 0; r < m; r++) {
                rows.position(cData.position() + r * n).put(row);
            }
            beta = 1f;
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, 1f,
                aData, transA ? m : k, bData, transB ? k : n, beta, cData, n);
    }

    @Override
    public void close() {
        if (primitive != null) {
            args.close();
            primitive.close();
            a.close();
            b.close();
            c.close();
            if (bias != null) {
                bias.close();
            }
        }
    }
}
