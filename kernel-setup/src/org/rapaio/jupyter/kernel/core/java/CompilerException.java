package org.rapaio.jupyter.kernel.core.java;

import jdk.jshell.SnippetEvent;
import org.rapaio.jupyter.kernel.MainApp;

import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Replaces the kernel's class of the same name (this copy comes first on the kernel's class path): a cell that does
 * not compile, whose message is JShell's diagnostic (the stock class has none, so error summaries showed only
 * "CompilerException").
 */
public class CompilerException extends Exception {
    private final SnippetEvent badSnippet;

    public CompilerException(SnippetEvent badSnippet) {
        this.badSnippet = badSnippet;
    }

    public SnippetEvent badSnippet() {
        return badSnippet;
    }

    @Override
    public String getMessage() {
        try {
            String text = MainApp.kernel.javaEngine().getShell().diagnostics(badSnippet.snippet())
                    .map(d -> d.getMessage(Locale.ROOT).lines().findFirst().orElse(""))
                    .collect(Collectors.joining("; "));
            return text.isEmpty() ? "the cell does not compile" : text;
        } catch (RuntimeException e) {
            return "the cell does not compile";
        }
    }
}
