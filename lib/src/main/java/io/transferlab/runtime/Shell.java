package io.transferlab.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Predicate;

/**
 * Runs a command (a script of this project, a Spark job, the command-line predictor) the way a notebook's
 * {@code !command} line does in Python: its output appears line by line as it comes, and a failure is an exception
 * that quotes the command's last lines. Interrupting the cell stops the command.
 */
public final class Shell {
    private Shell() {
    }

    /** What a command printed (stdout and stderr together) and its exit status. */
    public record Result(List<String> lines, int exitCode) {
        /** The last line that contains the text, or null. */
        public String lastLineWith(String text) {
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (lines.get(i).contains(text)) {
                    return lines.get(i);
                }
            }
            return null;
        }
    }

    /**
     * The project's folder (the one with notebooks/ and lib/), found from the working directory upwards; notebooks
     * run in notebooks/, programs anywhere inside the project.
     */
    public static Path projectRoot() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (java.nio.file.Files.isDirectory(p.resolve("notebooks")) && java.nio.file.Files.isDirectory(p.resolve("lib"))) {
                return p;
            }
        }
        throw new IllegalStateException("Not inside the project: no folder with notebooks/ and lib/ above " + here);
    }

    /** Runs the command in the working directory (the working directory), printing every line; fails on a non-zero exit. */
    public static Result run(Object... command) {
        return run(line -> true, command);
    }

    /**
     * Runs the command, printing the lines {@code show} accepts (all lines are kept in the result); fails on a
     * non-zero exit with the command and its last 20 lines.
     */
    public static Result run(Predicate<String> show, Object... command) {
        List<String> cmd = new ArrayList<>();
        for (Object o : command) {
            cmd.add(o instanceof Path p ? p.toString() : String.valueOf(o));
        }
        if (cmd.isEmpty()) {
            throw new IllegalArgumentException("No command given");
        }
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start " + cmd.get(0) + " (from " + Path.of("").toAbsolutePath()
                    + "): " + e.getMessage(), e);
        }
        List<String> lines = new ArrayList<>();
        Deque<String> tail = new ArrayDeque<>();
        // the output is read on a thread of its own, so that an interrupt (a notebook's stop button) is seen even
        // while the command prints nothing
        java.util.concurrent.BlockingQueue<Object> queue = new java.util.concurrent.LinkedBlockingQueue<>();
        Object end = new Object();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    queue.add(line);
                }
            } catch (IOException e) {
                queue.add(e);
            } finally {
                queue.add(end);
            }
        }, "shell-output");
        reader.setDaemon(true);
        reader.start();
        boolean finished = false;
        try {
            while (true) {
                Object item = queue.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();
                }
                if (item == null) {
                    continue;
                }
                if (item == end) {
                    break;
                }
                if (item instanceof IOException e) {
                    throw new UncheckedIOException("Lost the output of " + String.join(" ", cmd), e);
                }
                String line = (String) item;
                lines.add(line);
                tail.addLast(line);
                if (tail.size() > 20) {
                    tail.removeFirst();
                }
                if (show.test(line)) {
                    System.out.println(line);
                }
            }
            int code = p.waitFor();
            finished = true;
            if (code != 0) {
                throw new IllegalStateException("Command failed with exit status " + code + ": " + String.join(" ", cmd)
                        + "\nits last lines:\n" + String.join("\n", tail));
            }
            return new Result(List.copyOf(lines), code);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("Interrupted: stopped " + String.join(" ", cmd));
        } finally {
            if (!finished) { // interrupted, or anything else went wrong: the command and its children stop too
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }
}
