package io.transferlab.data;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Shuffled batches gather exactly the examples of the epoch's order, for flat and image-shaped arrays. */
class ArrayDataTest {

    @Test
    void rowsAreGatheredInTheGivenOrder() {
        Nd4j.getRandom().setSeed(3);
        INDArray images = Nd4j.rand(DataType.FLOAT, 10, 2, 3, 4);
        long[] idx = {7, 0, 3, 3, 9};
        INDArray got = ArrayData.rows(images, idx);
        assertArrayEquals(new long[]{5, 2, 3, 4}, got.shape());
        for (int i = 0; i < idx.length; i++) {
            assertEquals(images.get(NDArrayIndex.point(idx[i])), got.get(NDArrayIndex.point(i)), "row " + i);
        }
    }

    @Test
    void rowsOfAViewAreGatheredFromTheView() {
        Nd4j.getRandom().setSeed(4);
        INDArray all = Nd4j.rand(DataType.FLOAT, 12, 6);
        INDArray view = all.get(NDArrayIndex.interval(3, 11), NDArrayIndex.interval(1, 5)); // offset, strided rows
        long[] idx = {2, 7, 0};
        INDArray got = ArrayData.rows(view, idx);
        assertArrayEquals(new long[]{3, 4}, got.shape());
        for (int i = 0; i < idx.length; i++) {
            assertEquals(view.getRow(idx[i]), got.getRow(i), "row " + i);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> ArrayData.rows(view, new long[]{8}));
    }

    @Test
    void anEpochVisitsEveryExampleOnceWithLabelsKeptAlongside() {
        INDArray x = Nd4j.arange(0, 23).castTo(DataType.FLOAT).reshape(23, 1).repeat(1, 3);
        INDArray y = Nd4j.arange(0, 23).castTo(DataType.FLOAT).reshape(23, 1);
        Set<Integer> seen = new HashSet<>();
        for (Batch b : new ArrayData(x, y, 5, true, 4)) {
            for (int i = 0; i < b.size(); i++) {
                assertEquals(b.y().getFloat(i, 0), b.x().getFloat(i, 2), "features and label of one example");
                assertTrue(seen.add((int) b.y().getFloat(i, 0)), "visited twice");
            }
        }
        assertEquals(23, seen.size());
    }

    /**
     * Features.flat() hands fit a reshape view of the (n, 4, 4, 512) features: the data keeps one compact copy of it,
     * made once, instead of copying the whole view for every batch (which made notebook 03's head epochs 10x slower),
     * and serves the same batches as from a plain array.
     */
    @Test
    void aViewIsMadeCompactOnceAndServesTheSameBatches() {
        Nd4j.getRandom().setSeed(6);
        INDArray features = Nd4j.rand(DataType.FLOAT, 30, 2, 2, 3);
        INDArray flat = features.reshape('c', 30, 12);
        INDArray y = Nd4j.rand(DataType.FLOAT, 30, 1);
        assertFalse(ArrayData.isCompact(flat), "the reshape is a view: the test would prove nothing");
        var fromView = new ArrayData(flat, y, 7, true, 11);
        var fromCopy = new ArrayData(flat.dup('c'), y.dup(), 7, true, 11);
        assertTrue(ArrayData.isCompact(fromView.x()), "kept as a view: every batch would copy the whole array");
        var a = fromView.iterator();
        var b = fromCopy.iterator();
        int batches = 0;
        while (a.hasNext()) {
            Batch p = a.next(), q = b.next();
            assertEquals(q.x(), p.x(), "batch " + batches);
            assertEquals(q.y(), p.y(), "batch " + batches);
            batches++;
        }
        assertFalse(b.hasNext());
        assertEquals(5, batches);
    }

    @Test
    void inBatchesOfServesTheSameRowsInOrderWithoutCopying() {
        INDArray x = Nd4j.arange(0, 20).castTo(DataType.FLOAT).reshape(10, 2);
        INDArray y = Nd4j.arange(0, 10).castTo(DataType.FLOAT).reshape(10, 1);
        ArrayData d = new ArrayData(x, y, 3, true, 7);
        ArrayData big = d.inBatchesOf(4);
        assertSame(d.x(), big.x());
        assertEquals(4, big.batchSize());
        assertEquals(3, big.numBatches());
        List<Float> seen = new ArrayList<>();
        for (Batch b : big) {
            for (int r = 0; r < b.size(); r++) {
                seen.add(b.y().getFloat(r, 0));
            }
        }
        assertEquals(List.of(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f), seen, "in order, not shuffled");
    }
}
