package io.transferlab.layers;


import java.util.List;

/**
 * Keras's ZeroPadding2D: adds rows and columns of zeros around a channels-last image,
 * {@code padding=((top, bottom), (left, right))}.
 */
public class ZeroPadding2D extends Layer {
    private final int top;
    private final int bottom;
    private final int left;
    private final int right;

    public ZeroPadding2D(int top, int bottom, int left, int right, String name) {
        super(name);
        if (top < 0 || bottom < 0 || left < 0 || right < 0) {
            throw new IllegalArgumentException("ZeroPadding2D needs non-negative padding, got ((" + top + ", " + bottom
                    + "), (" + left + ", " + right + "))");
        }
        this.top = top;
        this.bottom = bottom;
        this.left = left;
        this.right = right;
    }

    /** The padding as {top, bottom, left, right}. */
    public int[] padding() {
        return new int[]{top, bottom, left, right};
    }

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        Shape s = in.get(0);
        if (s.rank() != 3) {
            throw new IllegalArgumentException("ZeroPadding2D '" + name() + "' needs an image input (height, width, channels), got " + s);
        }
        long h = s.get(0) == Shape.NONE ? Shape.NONE : s.get(0) + top + bottom;
        long w = s.get(1) == Shape.NONE ? Shape.NONE : s.get(1) + left + right;
        return Shape.of(h, w, s.get(2));
    }
}
