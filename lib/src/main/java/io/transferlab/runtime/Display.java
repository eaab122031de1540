package io.transferlab.runtime;

import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Shows results as text, or, where something can show more (a notebook kernel), as HTML too. The library never
 * knows Jupyter: a kernel registers a sink under the system property {@link #SINK_PROPERTY} (a
 * {@code Consumer<Map<String, String>>} taking "text/plain", "text/html" and, for output that is updated in place,
 * "display_id" and "update"); without one, text goes to standard output as always.
 */
public final class Display {
    /** The system property under which a kernel puts its display sink. */
    public static final String SINK_PROPERTY = "transferlab.display";

    private Display() {
    }

    @SuppressWarnings("unchecked")
    private static Consumer<Map<String, String>> sink() {
        Object s = System.getProperties().get(SINK_PROPERTY);
        return s instanceof Consumer<?> c ? (Consumer<Map<String, String>>) c : null;
    }

    /** Whether output can be shown as HTML and updated in place (a notebook), rather than printed. */
    public static boolean rich() {
        return sink() != null;
    }

    /** Something with an HTML form besides its text ({@code toString()}), such as a History or a Comparison. */
    public interface Html {
        String toHtml();
    }

    /**
     * Shows a value in the middle of a cell as a notebook shows the last one: as HTML where it has an HTML form
     * and a notebook can show it, else as its text ({@code import static io.transferlab.runtime.Display.display}).
     */
    public static void display(Object value) {
        if (value instanceof tech.tablesaw.api.Table t) { // a data frame shows as a table, as pandas' does
            show(t.printAll(), tableHtml(t));
            return;
        }
        String text = String.valueOf(value);
        show(text, value instanceof Html h ? h.toHtml() : "<pre>" + escape(text) + "</pre>");
    }

    /** A Tablesaw table as an HTML table, its cells as the table's own print formatters write them, under its name. */
    public static String tableHtml(tech.tablesaw.api.Table t) {
        java.util.List<java.util.List<String>> rows = new java.util.ArrayList<>();
        for (int r = 0; r < t.rowCount(); r++) {
            java.util.List<String> row = new java.util.ArrayList<>();
            for (String c : t.columnNames()) {
                row.add(t.getString(r, c));
            }
            rows.add(row);
        }
        return table(t.columnNames(), rows);
    }

    /** Shows a result: its HTML form where a notebook can show it, else its text. */
    public static void show(String text, String html) {
        Consumer<Map<String, String>> s = sink();
        if (s == null) {
            System.out.print(text.endsWith("\n") ? text : text + "\n");
            System.out.flush();
        } else {
            System.out.flush();
            s.accept(Map.of("text/plain", text, "text/html", html));
        }
    }

    /**
     * A line of progress that a notebook rewrites in place (a progress bar); printed as lines elsewhere, at most
     * every {@code printEveryMillis}.
     */
    public static final class Progress {
        private final String id = UUID.randomUUID().toString();
        private final long printEveryMillis;
        private long lastShown;
        private boolean started;

        private Progress(long printEveryMillis) {
            this.printEveryMillis = printEveryMillis;
            this.lastShown = System.currentTimeMillis();
        }

        /** Whether an {@link #update} now would show something (so that callers format only then). */
        public boolean due() {
            long now = System.currentTimeMillis();
            return rich() ? !started || now - lastShown >= 500 : now - lastShown >= printEveryMillis;
        }

        /** Shows the current state: rewritten in place in a notebook (at most every 0.5 s), printed otherwise. */
        public void update(String text, String html) {
            long now = System.currentTimeMillis();
            Consumer<Map<String, String>> s = sink();
            if (s == null) {
                if (now - lastShown >= printEveryMillis) {
                    System.out.println(text);
                    lastShown = now;
                }
                return;
            }
            if (started && now - lastShown < 500) {
                return;
            }
            System.out.flush();
            s.accept(Map.of("text/plain", text, "text/html", html, "display_id", id, "update", String.valueOf(started)));
            started = true;
            lastShown = now;
        }

        /** Removes the progress line in a notebook (its final state is printed by the caller). */
        public void done() {
            Consumer<Map<String, String>> s = sink();
            if (s != null && started) {
                s.accept(Map.of("text/plain", "", "text/html", "", "display_id", id, "update", "true"));
                started = false;
            }
        }
    }

    /** A progress line printed at most every {@code printEveryMillis} outside notebooks. */
    public static Progress progress(long printEveryMillis) {
        return new Progress(printEveryMillis);
    }

    /** Escapes text for HTML. */
    public static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** An HTML table from a header and rows of cells (escaped), styled like Jupyter's data frames. */
    public static String table(java.util.List<String> header, java.util.List<java.util.List<String>> rows) {
        StringBuilder sb = new StringBuilder("<table class=\"dataframe\" style=\"border-collapse:collapse\"><thead><tr>");
        for (int i = 0; i < header.size(); i++) { // the first column (names) left, the others (figures) right
            sb.append("<th style=\"text-align:").append(i == 0 ? "left" : "right").append(";padding:2px 8px\">")
                    .append(escape(header.get(i))).append("</th>");
        }
        sb.append("</tr></thead><tbody>");
        for (var r : rows) {
            sb.append("<tr>");
            for (int i = 0; i < r.size(); i++) {
                sb.append("<td style=\"text-align:").append(i == 0 ? "left" : "right").append(";padding:2px 8px\">")
                        .append(escape(r.get(i))).append("</td>");
            }
            sb.append("</tr>");
        }
        return sb.append("</tbody></table>").toString();
    }
}
