package io.transferlab.applications;

import io.transferlab.graph.Model;
import io.transferlab.layers.Shape;
import io.transferlab.layers.ShapeException;

import java.util.function.Function;

/**
 * Keras's keras.applications: builders for the classic ImageNet networks with Keras's layer names, shapes and
 * parameter counts. {@code Applications.vgg16().includeTop(false).inputShape(150, 150, 3).build()}.
 */
public final class Applications {
    private Applications() {
    }

    /** keras.applications.VGG16. */
    public static Vgg16 vgg16() {
        return new Vgg16();
    }

    /**
     * Builds a network for an input shape; when the input is too small, fails with a message that names the
     * smallest input size that works (found by trying sizes from {@code hint} down and up).
     */
    static Model buildChecked(String network, Shape shape, Function<Shape, Model> graph, int hint) {
        try {
            return graph.apply(shape);
        } catch (ShapeException e) {
            int smallest = smallestSquare(graph, shape.get(2), hint);
            throw new ShapeException("Input " + shape + " is too small for " + network + ": the smallest input that "
                    + "works is " + smallest + "x" + smallest + " (" + e.getMessage() + ")", e);
        }
    }

    private static int smallestSquare(Function<Shape, Model> graph, long channels, int hint) {
        int lo = 1;
        int hi = hint;
        while (!works(graph, hi, channels)) {
            hi *= 2;
        }
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (works(graph, mid, channels)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return hi;
    }

    private static boolean works(Function<Shape, Model> graph, int size, long channels) {
        try {
            graph.apply(Shape.of(size, size, channels));
            return true;
        } catch (ShapeException e) {
            return false;
        }
    }
}
