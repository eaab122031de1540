package io.transferlab.data;

import java.util.Random;

/**
 * Random image augmentation with Keras's preprocessing-layer semantics, applied to training images only:
 * <ul>
 *   <li>{@link #flipHorizontal()}: RandomFlip("horizontal"), each image mirrored with probability 1/2;</li>
 *   <li>{@link #rotation(double)}: RandomRotation(factor), an angle uniform in [-factor, factor] of a full turn
 *       (0.1 is up to 36 degrees either way);</li>
 *   <li>{@link #zoom(double)}: RandomZoom(factor), the image scaled by 1 + u with u uniform in [-factor, factor]
 *       (u &gt; 0 zooms out, u &lt; 0 zooms in), the same on both axes.</li>
 * </ul>
 * Pixels that come from outside the image are filled by reflection (Keras's fill_mode="reflect"); sampling is
 * bilinear. Draws come from a seeded generator, so a run is repeatable.
 */
public final class Augmentation {
    private boolean flip;
    private double rotation;
    private double zoom;

    private Augmentation() {
    }

    public static Augmentation create() {
        return new Augmentation();
    }

    public Augmentation flipHorizontal() {
        this.flip = true;
        return this;
    }

    public Augmentation rotation(double factor) {
        if (factor < 0 || factor > 1) {
            throw new IllegalArgumentException("rotation factor is a fraction of a full turn in [0, 1], got " + factor);
        }
        this.rotation = factor;
        return this;
    }

    public Augmentation zoom(double factor) {
        if (factor < 0 || factor >= 1) {
            throw new IllegalArgumentException("zoom factor must be in [0, 1), got " + factor);
        }
        this.zoom = factor;
        return this;
    }

    public boolean isIdentity() {
        return !flip && rotation == 0 && zoom == 0;
    }

    /** Transforms one (h, w, 3) image with draws from rng; returns a new array. */
    public float[] apply(float[] px, int h, int w, Random rng) {
        boolean mirror = flip && rng.nextBoolean();
        double angle = rotation == 0 ? 0 : (rng.nextDouble() * 2 - 1) * rotation * 2 * Math.PI;
        double scale = zoom == 0 ? 1 : 1 + (rng.nextDouble() * 2 - 1) * zoom;
        if (!mirror && angle == 0 && scale == 1) {
            return px;
        }
        float[] out = new float[px.length];
        double cy = (h - 1) / 2.0;
        double cx = (w - 1) / 2.0;
        double cos = Math.cos(angle);
        double sin = Math.sin(angle);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // inverse map: output pixel -> source position (rotate back, scale, mirror)
                double dy = y - cy;
                double dx = x - cx;
                double sx = (cos * dx + sin * dy) * scale;
                double sy = (-sin * dx + cos * dy) * scale;
                sx += cx;
                sy += cy;
                if (mirror) {
                    sx = (w - 1) - sx;
                }
                Images.bilinear(px, h, w, reflect(sy, h), reflect(sx, w), out, (y * w + x) * 3);
            }
        }
        return out;
    }

    private static double reflect(double v, int n) {
        if (n == 1) {
            return 0;
        }
        double period = 2.0 * (n - 1);
        double m = v % period;
        if (m < 0) {
            m += period;
        }
        return m > n - 1 ? period - m : m;
    }

    @Override
    public String toString() {
        return "Augmentation(flip=" + flip + ", rotation=" + rotation + ", zoom=" + zoom + ")";
    }
}
