package io.transferlab;

import io.transferlab.graph.Functional;
import io.transferlab.models.Model;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The library's structure, checked on its sources: a one-way stack of packages (no cycles, every reference pointing
 * down the stack), no engine types in the layers and the graph, no engine state in the Keras face.
 */
class ArchitectureTest {
    /** The stack, bottom first: a package may refer only to packages before it. */
    static final List<String> STACK = List.of("runtime", "data", "download", "layers", "graph", "optimizers",
            "losses", "engine", "inference", "train", "weights", "models", "applications", "explain", "report", "cli");

    private static final Path SOURCES = Path.of("src/main/java/io/transferlab");
    private static final Pattern PACKAGE = Pattern.compile("^package io\\.transferlab\\.([a-z0-9_.]+);", Pattern.MULTILINE);
    /**
     * A reference to a class of another package: an import (a wildcard one too) or a fully qualified name in code or
     * comments, as the cycle tool reads them. Group 1: the package below io.transferlab.
     */
    private static final Pattern REFERENCE = Pattern.compile("\\bio\\.transferlab\\.((?:[a-z0-9_]+\\.)*[a-z0-9_]+)\\.(?:[A-Z]\\w*|\\*)");

    /** Top-level package -> the top-level packages it refers to, with one file that does. */
    static Map<String, Map<String, Path>> edges() throws IOException {
        Map<String, Map<String, Path>> top = new TreeMap<>();
        fullEdges().forEach((from, tos) -> tos.forEach((to, file) -> {
            String a = from.split("\\.")[0];
            String b = to.split("\\.")[0];
            if (!a.equals(b)) {
                top.computeIfAbsent(a, k -> new TreeMap<>()).putIfAbsent(b, file);
            }
        }));
        return top;
    }

    /** Package (with subpackages, such as engine.dl4j) -> the packages it refers to, with one file that does. */
    static Map<String, Map<String, Path>> fullEdges() throws IOException {
        Map<String, Map<String, Path>> edges = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f);
                Matcher pm = PACKAGE.matcher(src);
                if (!pm.find()) {
                    continue;
                }
                String from = pm.group(1);
                Matcher rm = REFERENCE.matcher(src);
                while (rm.find()) {
                    String to = rm.group(1);
                    if (!to.equals(from)) {
                        edges.computeIfAbsent(from, k -> new TreeMap<>()).putIfAbsent(to, f);
                    }
                }
            }
        }
        return edges;
    }

    @Test
    void everyPackageIsOnTheStack() throws IOException {
        Set<String> found = new TreeSet<>();
        try (Stream<Path> dirs = Files.list(SOURCES)) {
            dirs.filter(Files::isDirectory).forEach(d -> found.add(d.getFileName().toString()));
        }
        found.removeAll(STACK);
        assertTrue(found.isEmpty(), "packages not placed on ArchitectureTest.STACK: " + found);
    }

    @Test
    void referencesPointDownTheStackSoThereIsNoCycle() throws IOException {
        List<String> upward = new ArrayList<>();
        edges().forEach((from, tos) -> tos.forEach((to, file) -> {
            if (STACK.indexOf(to) >= STACK.indexOf(from)) {
                upward.add(from + " -> " + to + " (" + SOURCES.relativize(file) + ")");
            }
        }));
        assertEquals(List.of(), upward, "references up the package stack " + STACK + " (each one closes a cycle or "
                + "would: move the class, or invert the dependency)");
    }

    @Test
    void noCycleAmongSubpackagesEither() throws IOException {
        Map<String, Map<String, Path>> edges = fullEdges();
        List<String> cycle = new ArrayList<>();
        Map<String, Integer> state = new TreeMap<>(); // 1: on the current path, 2: done
        for (String start : edges.keySet()) {
            if (cycle.isEmpty()) {
                findCycle(start, edges, state, new ArrayList<>(), cycle);
            }
        }
        assertEquals(List.of(), cycle, "a cycle among packages (each refers to the next)");
    }

    private static boolean findCycle(String p, Map<String, Map<String, Path>> edges, Map<String, Integer> state,
                                     List<String> path, List<String> cycle) {
        Integer st = state.get(p);
        if (st != null && st == 2) {
            return false;
        }
        if (st != null && st == 1) {
            cycle.addAll(path.subList(path.indexOf(p), path.size()));
            cycle.add(p);
            return true;
        }
        state.put(p, 1);
        path.add(p);
        for (String q : edges.getOrDefault(p, Map.of()).keySet()) {
            if (findCycle(q, edges, state, path, cycle)) {
                return true;
            }
        }
        path.remove(path.size() - 1);
        state.put(p, 2);
        return false;
    }

    @Test
    void layersAndGraphKnowNoEngine() throws IOException {
        List<String> found = new ArrayList<>();
        for (String pkg : List.of("layers", "graph")) {
            try (Stream<Path> files = Files.walk(SOURCES.resolve(pkg))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    for (String line : Files.readAllLines(f)) {
                        if (line.matches("\\s*import (static )?(org\\.deeplearning4j|org\\.bytedeco)\\..*")
                                || line.contains("io.transferlab.engine")) {
                            found.add(SOURCES.relativize(f) + ": " + line.trim());
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), found, "engine types in layers/ or graph/");
    }

    @Test
    void theKerasFaceHoldsNoEngineState() {
        List<String> bad = new ArrayList<>();
        for (Class<?> c : List.of(Model.class, Functional.class, io.transferlab.layers.Layer.class)) {
            for (Field f : c.getDeclaredFields()) {
                String type = f.getGenericType().getTypeName();
                if (type.contains("deeplearning4j") || type.contains("bytedeco") || type.contains("io.transferlab.engine")) {
                    bad.add(c.getSimpleName() + "." + f.getName() + ": " + type);
                }
            }
        }
        assertEquals(List.of(), bad, "engine state in the Keras face");
    }
}
