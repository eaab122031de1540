package io.transferlab.graph;

import io.transferlab.layers.InputLayer;
import io.transferlab.layers.Layer;
import io.transferlab.layers.Node;
import io.transferlab.layers.Tensor;
import io.transferlab.runtime.Display;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Keras's model.summary() table: Layer (type), Output Shape, Param #, and Connected to for models that are not a
 * simple chain; then Total, Trainable and Non-trainable params counted as Keras counts them.
 */
final class Summary {
    private Summary() {
    }

    static String of(Functional model) {
        List<Node> nodes = model.graphNodes();
        boolean chain = isChain(model);
        int width = chain ? 65 : 98;
        int[] pos = chain ? new int[]{29, 55, 65} : new int[]{32, 53, 65, 98};
        StringBuilder out = new StringBuilder();
        out.append("Model: \"").append(model.name()).append("\"\n");
        out.append("_".repeat(width)).append('\n');
        row(out, pos, chain ? List.of("Layer (type)", "Output Shape", "Param #")
                : List.of("Layer (type)", "Output Shape", "Param #", "Connected to"));
        out.append("=".repeat(width)).append('\n');
        Set<Node> own = new HashSet<>(nodes);
        List<Layer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            List<Node> mine = l.nodes().stream().filter(own::contains).toList();
            String shape = mine.size() == 1 ? shapeText(mine.get(0)) : "multiple";
            String name = l.name() + " (" + (l instanceof InputLayer ? "InputLayer" : l.typeName()) + ")";
            if (chain) {
                row(out, pos, List.of(name, shape, Long.toString(l.countParams())));
            } else {
                String connected = mine.isEmpty() ? "" : connections(mine.get(0));
                row(out, pos, List.of(name, shape, Long.toString(l.countParams()), connected));
            }
            out.append((i == layers.size() - 1 ? "=" : "_").repeat(width)).append('\n');
        }
        if (layers.isEmpty()) {
            out.append("=".repeat(width)).append('\n');
        }
        out.append(String.format("Total params: %,d%n", model.countParams()));
        out.append(String.format("Trainable params: %,d%n", model.trainableParams()));
        out.append(String.format("Non-trainable params: %,d%n", model.nonTrainableParams()));
        out.append("_".repeat(width)).append('\n');
        return out.toString();
    }

    /** The same table as HTML (Keras's columns, one row per layer), with the parameter counts below it. */
    static String html(Functional model) {
        boolean chain = isChain(model);
        Set<Node> own = new HashSet<>(model.graphNodes());
        List<List<String>> rows = new java.util.ArrayList<>();
        for (Layer l : model.layers()) {
            List<Node> mine = l.nodes().stream().filter(own::contains).toList();
            String shape = mine.size() == 1 ? shapeText(mine.get(0)) : "multiple";
            String name = l.name() + " (" + (l instanceof InputLayer ? "InputLayer" : l.typeName()) + ")";
            String params = String.format("%,d", l.countParams());
            rows.add(chain ? List.of(name, shape, params)
                    : List.of(name, shape, params, mine.isEmpty() ? "" : connections(mine.get(0))));
        }
        List<String> header = chain ? List.of("Layer (type)", "Output Shape", "Param #")
                : List.of("Layer (type)", "Output Shape", "Param #", "Connected to");
        return "<div><b>Model: \"" + Display.escape(model.name()) + "\"</b>" + Display.table(header, rows)
                + String.format("<p>Total params: %,d<br>Trainable params: %,d<br>Non-trainable params: %,d</p></div>",
                model.countParams(), model.trainableParams(), model.nonTrainableParams());
    }

    private static String shapeText(Node n) {
        String s = n.output().shape().toString();
        return n.layer() instanceof InputLayer ? "[" + s + "]" : s;
    }

    private static String connections(Node n) {
        if (n.inputs().isEmpty()) {
            return "[]";
        }
        return n.inputs().stream().map(t -> "'" + t.layer().name() + "[" + t.node().indexInLayer() + "][0]'")
                .collect(Collectors.joining(", ", "[", "]"));
    }

    /** Keras prints the short table when every layer call feeds only the next one. */
    private static boolean isChain(Functional model) {
        if (model.isStack()) {
            return true;
        }
        List<Node> nodes = model.graphNodes();
        for (int i = 1; i < nodes.size(); i++) {
            List<Tensor> in = nodes.get(i).inputs();
            if (in.size() != 1 || in.get(0).node() != nodes.get(i - 1)) {
                return false;
            }
        }
        return true;
    }

    /** Keras's print_row: each field cut or padded to its column. */
    private static void row(StringBuilder out, int[] pos, List<String> fields) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                line.setLength(line.length() - 1);
                line.append(' ');
            }
            line.append(fields.get(i));
            if (line.length() > pos[i]) {
                line.setLength(pos[i]);
            }
            line.append(" ".repeat(pos[i] - line.length()));
        }
        out.append(line.toString().stripTrailing()).append('\n');
    }
}
