package io.transferlab.runtime;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bulk copy gives the same array as ND4J's own element-by-element {@code Nd4j.create}. */
class FloatArraysTest {

    @Test
    void sameArrayAsNd4jCreate() {
        float[] v = new float[2 * 5 * 7 * 3];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(i) * 100;
        }
        INDArray bulk = FloatArrays.of(v, 2, 5, 7, 3);
        INDArray reference = Nd4j.create(v, new long[]{2, 5, 7, 3}, 'c');
        assertArrayEquals(reference.shape(), bulk.shape());
        assertEquals('c', bulk.ordering());
        assertArrayEquals(reference.data().asFloat(), bulk.data().asFloat());
        assertEquals(reference.getFloat(1, 4, 6, 2), bulk.getFloat(1, 4, 6, 2));
    }

    @Test
    void filledImageByImageThroughTheBuffer() {
        INDArray x = FloatArrays.empty(3, 2, 2, 3);
        for (int k = 0; k < 3; k++) {
            float[] image = new float[12];
            java.util.Arrays.fill(image, k + 0.5f);
            FloatArrays.buffer(x).put(k * 12, image);
        }
        assertEquals(2.5f, x.getFloat(2, 1, 1, 2));
        assertEquals(0.5f, x.getFloat(0, 0, 0, 0));
    }

    /** copyOf equals ND4J's element-by-element read for plain arrays, views, Fortran order and doubles. */
    @Test
    void copyOfReadsAnyArrayInCOrder() {
        INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 6, 5, 4);
        INDArray[] cases = {x, x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 5)), x.permute(2, 0, 1),
                x.dup('f'), x.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)};
        for (INDArray a : cases) {
            assertArrayEquals(a.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat(),
                    FloatArrays.copyOf(a), a.shapeInfoToString());
        }
    }

    @Test
    void wrongLengthAndViewsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> FloatArrays.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("5 values for shape [2, 3]"), e.getMessage());
        INDArray view = FloatArrays.of(new float[12], 3, 4).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3));
        assertThrows(IllegalArgumentException.class, () -> FloatArrays.buffer(view));
        INDArray permuted = FloatArrays.empty(2, 3, 4).permute(2, 1, 0); // calls itself 'c', other strides
        assertThrows(IllegalArgumentException.class, () -> FloatArrays.buffer(permuted));
    }
}
