package io.transferlab.engine.dl4j;

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

    /**
     * The array itself when it is already dense C-order from its first element, else a dense C-order copy in the
     * backward pass's working memory.
     */
    static INDArray dense(INDArray a, LayerWorkspaceMgr workspaceMgr) {
        return dense(a, workspaceMgr, ArrayType.BP_WORKING_MEM);
    }

    /**
     * As {@link #dense(INDArray, LayerWorkspaceMgr)}, a copy going to the given kind of memory, or, where the
     * workspace manager has no place for that kind (inference configures fewer), to the workspace open now: the copy
     * only lives as long as the layer's call.
     */
    static INDArray dense(INDArray a, LayerWorkspaceMgr workspaceMgr, ArrayType copyTo) {
        if (a == null) {
            return null;
        }
        boolean dense = a.ordering() == 'c' && a.offset() == 0 && Shape.hasDefaultStridesForShape(a);
        if (dense) {
            return a;
        }
        return workspaceMgr.hasConfiguration(copyTo) || workspaceMgr.isScopedOut(copyTo)
                ? workspaceMgr.dup(copyTo, a, 'c') : a.dup('c');
    }

    /**
     * Runs a layer's pass with its input swapped for a dense copy where it is a view ({@code set} puts an array in
     * the layer's input field), then puts the original back, whatever the pass does.
     */
    static <R> R withDenseInput(INDArray original, java.util.function.Consumer<INDArray> set,
                                LayerWorkspaceMgr workspaceMgr, ArrayType copyTo, java.util.function.Supplier<R> pass) {
        set.accept(dense(original, workspaceMgr, copyTo));
        try {
            return pass.get();
        } finally {
            set.accept(original);
        }
    }
}
