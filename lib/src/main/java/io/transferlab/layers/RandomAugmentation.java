package io.transferlab.layers;

import io.transferlab.data.Augmentation;

import java.util.List;

/**
 * Keras's random preprocessing layers (RandomFlip, RandomRotation, RandomZoom): part of the model, so the model
 * carries its own augmentation, and active only while training. At inference they pass images through unchanged;
 * during {@code fit} the trainer applies them to each training batch before the network sees it (seeded, so runs
 * repeat). They must come first in the model, straight after its input, as in the tutorials.
 */
public abstract class RandomAugmentation extends Layer {
    protected RandomAugmentation(String name) {
        super(name);
    }

    /** Adds this layer's transformation to an augmentation pipeline. */
    public abstract void addTo(Augmentation augmentation);

    @Override
    public Shape computeOutputShape(List<Shape> in) {
        if (in.get(0).rank() != 3) {
            throw new IllegalArgumentException(typeName() + " '" + name() + "' needs an image input, got " + in.get(0));
        }
        return in.get(0);
    }

    /** Keras's RandomFlip("horizontal"). */
    public static final class RandomFlip extends RandomAugmentation {
        public RandomFlip(String mode, String name) {
            super(name);
            if (!"horizontal".equals(mode)) {
                throw new IllegalArgumentException("RandomFlip supports mode \"horizontal\", got \"" + mode + "\"");
            }
        }

        @Override
        public void addTo(Augmentation a) {
            a.flipHorizontal();
        }
    }

    /** Keras's RandomRotation(factor): an angle up to factor of a full turn either way. */
    public static final class RandomRotation extends RandomAugmentation {
        private final double factor;

        public RandomRotation(double factor, String name) {
            super(name);
            this.factor = factor;
            Augmentation.create().rotation(factor);     // validates
        }

        /** Keras's factor argument. */
        public double factor() {
            return factor;
        }

        @Override
        public void addTo(Augmentation a) {
            a.rotation(factor);
        }
    }

    /** Keras's RandomZoom(factor): scaled by 1 + u, u uniform in [-factor, factor]. */
    public static final class RandomZoom extends RandomAugmentation {
        private final double factor;

        public RandomZoom(double factor, String name) {
            super(name);
            this.factor = factor;
            Augmentation.create().zoom(factor);
        }

        /** Keras's factor argument. */
        public double factor() {
            return factor;
        }

        @Override
        public void addTo(Augmentation a) {
            a.zoom(factor);
        }
    }
}
