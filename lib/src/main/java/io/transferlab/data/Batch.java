package io.transferlab.data;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.List;

/** One batch: images (n, h, w, 3) channels-last, labels (n, 1) for binary or (n, classes) one-hot, and the files. */
public record Batch(INDArray x, INDArray y, List<Path> files) {
    public int size() {
        return (int) x.size(0);
    }
}
