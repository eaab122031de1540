package io.transferlab.engine.api;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model compiled by an engine to differentiate its output with respect to the output of one of its layers (the
 * "feature map" of that layer): what saliency methods such as Grad-CAM need. Inference behaviour throughout (moving
 * batch-norm statistics, no dropout, augmentation layers passing through); weights are not changed.
 *
 * <p>The engine differentiates a weighted sum of the model's outputs per example, {@code score_n = sum_k
 * w[n, k] * out[n, k]}: a one-hot row picks one class's score, a row of -1 the negative logit of a one-unit
 * sigmoid. Where the compiled model was asked to leave out the output activation, {@code out} is the output
 * before it (the logits of a final softmax or sigmoid Dense).
 */
public interface LayerGradient {
    /**
     * What one pass gives, for a batch of N examples.
     *
     * @param activations the layer's output, (N, ...layer output shape), channels-last
     * @param gradients   d score_n / d activations[n], the same shape
     * @param outputs     the model's outputs that were differentiated, (N, units): logits where the output
     *                    activation was left out
     */
    record Result(INDArray activations, INDArray gradients, INDArray outputs) {
    }

    /**
     * One forward and one backward pass.
     *
     * @param x             inputs, (N, ...input shape), channels-last
     * @param outputWeights w, (N, units): d score / d output, per example
     */
    Result compute(INDArray x, INDArray outputWeights);

    /** The outputs that {@link #compute} differentiates (logits where the output activation is left out), forward pass only. */
    INDArray outputs(INDArray x);

    /** The layer whose output is differentiated against. */
    String layerName();

    /** Which engine computes it, and what exactly is differentiated (for notebooks). */
    String describe();
}
