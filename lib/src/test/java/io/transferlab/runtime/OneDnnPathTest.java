package io.transferlab.runtime;

import io.transferlab.graph.Model;
import io.transferlab.layers.Conv2D;
import io.transferlab.layers.MaxPooling2D;
import io.transferlab.layers.Tensor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static io.transferlab.layers.Layers.Input;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The library switches on DL4J's oneDNN path: convolutions of a VGG16 block really run through oneDNN, and give
 * the same numbers as DL4J's built-in path.
 */
class OneDnnPathTest {

    @AfterEach
    void restore() {
        Backend.setHelpersEnabled(true);
    }

    /** VGG16's block2 at 56x56 (the input block2 sees for a 112x112 image): two 3x3 convs, 64->128, and a pool. */
    private static Model vggBlock2() {
        Tensor in = Input(56, 56, 64);
        Tensor x = new Conv2D(128, 3, 3, "block2_conv1").padding("same").activation("relu").on(in);
        x = new Conv2D(128, 3, 3, "block2_conv2").padding("same").activation("relu").on(x);
        x = new MaxPooling2D(2, 2, "block2_pool").on(x);
        return Model.of("block2", in, x);
    }

    @Test
    void oneDnnIsOnByDefaultAndUsedByConvolutions() {
        assertTrue(Backend.oneDnnActive(), "oneDNN should be on: " + Backend.describe());
        Model block = vggBlock2();
        ComputationGraph net = block.network();
        assertInstanceOf(MKLDNNConvHelper.class, ((ConvolutionLayer) net.getLayer("block2_conv1")).getHelper());
        assertInstanceOf(MKLDNNConvHelper.class, ((ConvolutionLayer) net.getLayer("block2_conv2")).getHelper());
        assertInstanceOf(MKLDNNSubsamplingHelper.class, ((SubsamplingLayer) net.getLayer("block2_pool")).getHelper());
    }

    @Test
    void oneDnnGivesTheSameNumbersAsTheBuiltInPath() {
        Model block = vggBlock2();
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 56, 56, 64);

        Backend.setHelpersEnabled(true);
        ComputationGraph fast = block.newNetwork();
        assertNotNull(((ConvolutionLayer) fast.getLayer("block2_conv1")).getHelper());
        INDArray a = fast.outputSingle(false, x.dup());

        Backend.setHelpersEnabled(false);
        ComputationGraph plain = block.newNetwork();
        assertNull(((ConvolutionLayer) plain.getLayer("block2_conv1")).getHelper(), "built-in path expected");
        INDArray b = plain.outputSingle(false, x.dup());

        assertArrayEquals(new long[]{4, 28, 28, 128}, a.shape());
        double maxAbs = a.sub(b).amaxNumber().doubleValue();
        double scale = b.amaxNumber().doubleValue();
        assertTrue(scale > 0.1, "outputs should not be trivial, max " + scale);
        assertTrue(maxAbs <= 1e-4, "oneDNN vs built-in max abs diff " + maxAbs);
    }
}
