package io.transferlab.layers;

import io.transferlab.runtime.Backend;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Keras's weight initializers, by Keras's names: the first values a layer's weights get when the layer is built, so
 * that a model has weights of its own before any engine runs it.
 *
 * <p>{@code glorot_uniform} draws from U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)), the fans
 * computed as Keras computes them: for a kernel (..., in, out) the receptive field (the product of the leading
 * dimensions) times in, and times out; for a vector its length for both.
 */
public record Initializer(String kerasName, double value) {
    public static final Initializer GLOROT_UNIFORM = new Initializer("glorot_uniform", Double.NaN);
    public static final Initializer ZEROS = new Initializer("zeros", 0);
    public static final Initializer ONES = new Initializer("ones", 1);

    /** Keras's constant initializer. */
    public static Initializer constant(double v) {
        return new Initializer("constant", v);
    }

    /**
     * The initializer Keras's layers use by default for a variable of this name: glorot_uniform for kernels,
     * ones for gamma and moving_variance, zeros for everything else (bias, beta, moving_mean).
     */
    public static Initializer kerasDefault(String variableName) {
        return switch (variableName) {
            case "kernel", "depthwise_kernel", "pointwise_kernel" -> GLOROT_UNIFORM;
            case "gamma", "moving_variance", "variance" -> ONES;
            default -> ZEROS;
        };
    }

    /** Fan-in and fan-out of a weight of this shape, as Keras computes them. */
    static long[] fans(long[] shape) {
        if (shape.length == 0) {
            return new long[]{1, 1};
        }
        if (shape.length == 1) {
            return new long[]{shape[0], shape[0]};
        }
        long receptive = 1;
        for (int i = 0; i < shape.length - 2; i++) {
            receptive *= shape[i];
        }
        return new long[]{shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive};
    }

    /** New float values of this shape; random initializers draw from a generator seeded with {@code seed}. */
    public INDArray create(long[] shape, long seed) {
        Backend.init();
        if ("glorot_uniform".equals(kerasName)) {
            long[] f = fans(shape);
            double limit = Math.sqrt(6.0 / (f[0] + f[1]));
            INDArray a = Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
            // drawn on the Java side in chunks (ND4J's seeded generators allocate a large native state each)
            java.nio.FloatBuffer out = a.data().asNioFloat();
            java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
            float[] chunk = new float[(int) Math.min(a.length(), 1 << 16)];
            for (long done = 0; done < a.length(); ) {
                int n = (int) Math.min(chunk.length, a.length() - done);
                for (int i = 0; i < n; i++) {
                    chunk[i] = (float) ((random.nextDouble() * 2 - 1) * limit);
                }
                out.put(chunk, 0, n);
                done += n;
            }
            return a;
        }
        return Nd4j.valueArrayOf(shape, value, DataType.FLOAT);
    }
}
