package io.transferlab.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * In-memory arrays served in batches, as Keras's fit(x, y, batch_size=...): x (n, ...) and y (n, k).
 * Shuffled each epoch with a seed when asked.
 */
public final class ArrayData implements Dataset {
    private final INDArray x;
    private final INDArray y;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private int epoch;

    public ArrayData(INDArray x, INDArray y, int batchSize, boolean shuffle, long seed) {
        if (x.size(0) != y.size(0)) {
            throw new IllegalArgumentException("x has " + x.size(0) + " examples but y has " + y.size(0));
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        // one compact copy now, where the arrays are views (Features.flat()'s reshape is one), instead of a copy of
        // the whole array for every batch in rows(): that made notebook 03's head epochs 10x slower
        this.x = compact(x);
        this.y = compact(y.rank() == 1 ? y.reshape(y.length(), 1) : y);
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
    }

    public int size() {
        return (int) x.size(0);
    }

    /** Examples per batch. */
    public int batchSize() {
        return batchSize;
    }

    /** The same arrays (not copied), served in batches of another size, in order. */
    public ArrayData inBatchesOf(int n) {
        return new ArrayData(x, y, n, false, 0);
    }

    public int numBatches() {
        return (size() + batchSize - 1) / batchSize;
    }

    public INDArray x() {
        return x;
    }

    public INDArray y() {
        return y;
    }

    /**
     * The given examples (first axis) as a new c-ordered array: one bulk memory copy per example. (ND4J's native
     * {@code pullRows} took about 3 ms for a batch of 20 rows of 8,192 floats here, a third of a classifier head's
     * training step; these copies take a few microseconds.)
     */
    static INDArray rows(INDArray a, long[] idx) {
        long n = a.size(0);
        INDArray src = compact(a);
        long[] shape = a.shape().clone();
        shape[0] = idx.length;
        long rowBytes = n == 0 ? 0 : src.length() / n * src.dataType().width();
        if (src.length() * src.dataType().width() > Integer.MAX_VALUE) {  // beyond one NIO buffer: ND4J's gather
            int[] ints = new int[idx.length];
            for (int i = 0; i < idx.length; i++) {
                ints[i] = Math.toIntExact(idx[i]);
            }
            INDArray flat = src.reshape('c', n, src.length() / n);
            return Nd4j.pullRows(flat, 1, ints, 'c').reshape('c', shape);
        }
        INDArray out = Nd4j.createUninitialized(src.dataType(), shape, 'c');
        ByteBuffer from = src.data().asNio();
        ByteBuffer to = out.data().asNio();
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= n) {
                throw new IndexOutOfBoundsException("example " + idx[i] + " of " + n);
            }
            to.put((int) (i * rowBytes), from, (int) (idx[i] * rowBytes), (int) rowBytes);
        }
        return out;
    }

    /** The array itself when its elements lie in c order from the start of its own buffer, else a c-ordered copy. */
    static INDArray compact(INDArray a) {
        return isCompact(a) ? a : a.dup('c');
    }

    static boolean isCompact(INDArray a) {
        return a.ordering() == 'c' && !a.isView() && a.offset() == 0 && Shape.hasDefaultStridesForShape(a);
    }

    @Override
    public int epoch() {
        return epoch;
    }

    @Override
    public void setEpoch(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + value);
        }
        this.epoch = value;
    }

    @Override
    public Iterator<Batch> iterator() {
        int n = size();
        int thisEpoch = epoch++;
        int[] order = Dataset.epochOrder(n, shuffle, seed, thisEpoch);
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < n;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int end = Math.min(n, next + batchSize);
                long[] idx = new long[end - next];
                for (int i = 0; i < idx.length; i++) {
                    idx[i] = order[next + i];
                }
                next = end;
                List<java.nio.file.Path> none = new ArrayList<>();
                if (!shuffle) {
                    return new Batch(x.get(NDArrayIndex.interval(idx[0], idx[0] + idx.length)).dup(),
                            y.get(NDArrayIndex.interval(idx[0], idx[0] + idx.length)).dup(), none);
                }
                return new Batch(rows(x, idx), rows(y, idx), none);
            }
        };
    }
}
