package io.transferlab.layers;


import java.util.Arrays;
import java.util.List;

/**
 * Keras's Reshape: each example takes a new shape (batch excluded) with the same number of values, read in
 * row-major order; a 3D target is a channels-last image. One dimension may be -1, to be inferred.
 */
public class Reshape extends Layer {
    private final long[] targetShape;

    public Reshape(long[] targetShape, String name) {
        super(name);
        if (targetShape.length < 1 || targetShape.length > 3) {
            throw new IllegalArgumentException("Reshape supports target shapes of rank 1 to 3, got "
                    + Arrays.toString(targetShape));
        }
        int unknown = 0;
        for (long d : targetShape) {
            if (d == -1) {
                unknown++;
            } else if (d <= 0) {
                throw new IllegalArgumentException("Reshape target dimensions must be positive (or one -1), got "
                        + Arrays.toString(targetShape));
            }
        }
        if (unknown > 1) {
            throw new IllegalArgumentException("Reshape can infer only one dimension (-1), got " + Arrays.toString(targetShape));
        }
        this.targetShape = targetShape.clone();
    }

    /** The target shape as given (may contain -1). */
    public long[] targetShape() {
        return targetShape.clone();
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (!s.isFullyKnown()) {
            throw new IllegalArgumentException("Reshape '" + name() + "' needs a fully known input shape, got " + s);
        }
        long total = s.size();
        long known = 1;
        int unknownAt = -1;
        for (int i = 0; i < targetShape.length; i++) {
            if (targetShape[i] == -1) {
                unknownAt = i;
            } else {
                known *= targetShape[i];
            }
        }
        long[] out = targetShape.clone();
        if (unknownAt >= 0) {
            if (total % known != 0) {
                throw new IllegalArgumentException("Reshape '" + name() + "' cannot reshape " + s + " (" + total
                        + " values) to " + Arrays.toString(targetShape));
            }
            out[unknownAt] = total / known;
        } else if (known != total) {
            throw new IllegalArgumentException("Reshape '" + name() + "': total size of new shape "
                    + Arrays.toString(targetShape) + " (" + known + ") must equal that of the input " + s + " (" + total + ")");
        }
        return Shape.of(out);
    }
}
