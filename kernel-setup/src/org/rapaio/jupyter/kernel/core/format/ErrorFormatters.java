package org.rapaio.jupyter.kernel.core.format;

import jdk.jshell.DeclarationSnippet;
import jdk.jshell.EvalException;
import jdk.jshell.Snippet;
import org.rapaio.jupyter.kernel.core.RapaioKernel;
import org.rapaio.jupyter.kernel.core.java.CompilerException;
import org.rapaio.jupyter.kernel.core.java.EvaluationInterruptedException;
import org.rapaio.jupyter.kernel.core.java.EvaluationTimeoutException;
import org.rapaio.jupyter.kernel.core.magic.MagicEvalException;
import org.rapaio.jupyter.kernel.display.text.ANSI;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Replaces the kernel's class of the same name (this copy comes first on the kernel's class path): tracebacks that
 * people can read. An exception from a cell shows its message first, then only the frames of the cell's own code
 * and of libraries it called, with the cell's source line, and "..." for the frames of JShell, reflection and the
 * kernel in between; a compile error shows JShell's diagnostics at the source; an interrupt says so in one line.
 */
public final class ErrorFormatters {
    private static final int MAX_FRAMES = 12;

    private ErrorFormatters() {
    }

    public static <T extends Throwable> List<String> exceptionFormat(RapaioKernel kernel, T e) {
        if (e instanceof CompilerException c) {
            return compileError(kernel, c);
        }
        if (e instanceof EvaluationInterruptedException) {
            String note = io.transferlab.kernel.Interrupts.takeNote();
            return List.of(ANSI.start().bold().fgRed().text("Interrupted").render()
                    + ": the cell was stopped (variables set before it are kept)" + (note == null ? "" : "; " + note));
        }
        if (e instanceof EvaluationTimeoutException t) {
            List<String> out = new ArrayList<>(ANSI.errorTypeHeader("Timeout:"));
            out.addAll(ANSI.errorMessages(t.getMessage()));
            return out;
        }
        if (e instanceof MagicEvalException m) {
            List<String> out = new ArrayList<>(ANSI.errorTypeHeader("Magic error:"));
            if (m.hasErrorLine()) {
                out.addAll(ANSI.sourceCode(m.magicSnippet().line(m.errorLine()).code(), m.errorStart(), m.errorStart(), m.errorEnd()));
            }
            out.addAll(ANSI.errorMessages(m.getMessage()));
            return out;
        }
        String name = e instanceof EvalException ee ? ee.getExceptionClassName() : e.getClass().getName();
        return runtimeError(kernel, name, e);
    }

    private static List<String> compileError(RapaioKernel kernel, CompilerException e) {
        List<String> out = new ArrayList<>(ANSI.errorTypeHeader("Compile error:"));
        Snippet snippet = e.badSnippet().snippet();
        var shell = kernel.javaEngine().getShell();
        shell.diagnostics(snippet).forEach(d -> {
            out.addAll(ANSI.sourceCode(snippet.source(), (int) d.getPosition(), (int) d.getStartPosition(), (int) d.getEndPosition()));
            out.addAll(ANSI.errorMessages(d.getMessage(Locale.getDefault())));
            out.add("");
        });
        if (snippet instanceof DeclarationSnippet declaration) {
            List<String> missing = shell.unresolvedDependencies(declaration).toList();
            if (!missing.isEmpty()) {
                out.addAll(ANSI.errorMessages("Unresolved: " + String.join(", ", missing)));
            }
        }
        return out;
    }

    /** Frames worth showing: the cell's code (JShell's REPL classes) and libraries, not the machinery around them. */
    private static boolean shown(StackTraceElement f) {
        String c = f.getClassName();
        return !(c.startsWith("jdk.internal.") || c.startsWith("java.lang.reflect.") || c.startsWith("jdk.jshell.")
                || c.startsWith("org.rapaio.jupyter.") || c.startsWith("java.util.concurrent.") || c.startsWith("sun.reflect."));
    }

    private static List<String> runtimeError(RapaioKernel kernel, String name, Throwable e) {
        List<String> out = new ArrayList<>();
        Throwable t = e;
        boolean first = true;
        while (t != null) {
            String shortName = first ? name : t.getClass().getName();
            out.add(ANSI.start().bold().fgRed().text((first ? "" : "Caused by: ") + shortName + ": " + t.getMessage()).render());
            int shownFrames = 0;
            boolean skipped = false;
            for (StackTraceElement f : t.getStackTrace()) {
                if (!shown(f)) {
                    skipped = true;
                    continue;
                }
                if (shownFrames == MAX_FRAMES) {
                    out.add("   ...");
                    break;
                }
                if (skipped && shownFrames > 0) {
                    out.add("   ...");
                }
                skipped = false;
                shownFrames++;
                out.add(String.join("\n", ANSI.errorMessages("   at " + f)));
                if (f.getFileName() != null && f.getFileName().startsWith("#")) {
                    String id = f.getFileName().substring(1);
                    Optional<Snippet> s = kernel.javaEngine().getShell().snippets().filter(x -> x.id().equals(id)).findAny();
                    s.ifPresent(snippet -> out.addAll(ANSI.sourceCode(snippet.source(), f.getLineNumber())));
                }
            }
            t = t.getCause() == t ? null : t.getCause();
            first = false;
        }
        return out;
    }
}
