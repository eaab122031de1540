package io.transferlab.layers.dl4j;

import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

/**
 * ND4J 1.0.0-M2.1's oneDNN-backed backward ops ({@code conv2d_bp}, {@code depthwise_conv2d_bp}) give wrong
 * gradients, and can read past the end of a buffer, when an argument is a permuted view rather than a dense array;
 * DL4J's channels-last layers pass exactly such views. The layers of this package hand those ops dense copies.
 */
final class DenseArrays {
    private DenseArrays() {
    }

    /** The array itself when it is already dense C-order from its first element, else a dense C-order copy. */
    static INDArray dense(INDArray a, LayerWorkspaceMgr workspaceMgr) {
        if (a == null) {
            return null;
        }
        boolean dense = a.ordering() == 'c' && a.offset() == 0 && Shape.hasDefaultStridesForShape(a);
        return dense ? a : workspaceMgr.dup(ArrayType.BP_WORKING_MEM, a, 'c');
    }
}
