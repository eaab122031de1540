package io.transferlab.kernel;

import jdk.jshell.EvalException;
import org.rapaio.jupyter.kernel.core.java.CompilerException;
import org.rapaio.jupyter.kernel.core.java.EvaluationInterruptedException;

/** The name and value an error message carries (ename, evalue), as a Python kernel would give them. */
public final class ErrorNames {
    private ErrorNames() {
    }

    /** The exception's own class (not JShell's wrapper), "CompileError" or "KeyboardInterrupt". */
    public static String name(Exception e) {
        if (e instanceof CompilerException) {
            return "CompileError";
        }
        if (e instanceof EvaluationInterruptedException) {
            return "KeyboardInterrupt";
        }
        if (e instanceof EvalException ee) {
            String n = ee.getExceptionClassName();
            return n.substring(n.lastIndexOf('.') + 1);
        }
        return e.getClass().getSimpleName();
    }

    /** The message: the diagnostic of a compile error, the exception's message otherwise. */
    public static String value(Exception e) {
        if (e instanceof EvaluationInterruptedException) {
            return "the cell was interrupted";
        }
        String m = e.getLocalizedMessage();
        return m == null ? "" : m;
    }
}
