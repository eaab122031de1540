package io.transferlab.data;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.HashSet;
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
}
