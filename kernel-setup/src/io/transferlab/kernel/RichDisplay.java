package io.transferlab.kernel;

import org.rapaio.jupyter.kernel.core.RapaioKernel;
import org.rapaio.jupyter.kernel.display.DisplayData;
import org.rapaio.jupyter.kernel.display.DisplayRenderer;
import org.rapaio.jupyter.kernel.display.DisplayTransformer;
import org.rapaio.jupyter.kernel.display.spi.DisplayProvider;

import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Rich output in the notebook, the only place that knows Jupyter:
 * <ul>
 *   <li>a value at the end of a cell that has a public {@code toHtml()} (a History, a Comparison...) shows as that
 *   HTML, with its {@code toString()} as the plain-text form; a Tablesaw table shows as an HTML table;</li>
 *   <li>the library's display sink ({@code io.transferlab.runtime.Display}, found under the system property
 *   "transferlab.display") publishes HTML and text as display data, and updates a display in place for progress
 *   lines, so a long fit shows one line per epoch and a bar that moves, not a flood of text.</li>
 * </ul>
 * Registered as the kernel's display provider (META-INF/services) and installed by {@link KernelLauncher}.
 */
public final class RichDisplay implements DisplayProvider {
    /** HTML with its plain-text form. */
    public record HtmlView(String html, String text) {
    }

    @Override
    public List<DisplayRenderer> getDisplayRenderers() {
        return List.of(new DisplayRenderer() {
            @Override
            public Class<?> rendererClass() {
                return HtmlView.class;
            }

            @Override
            public boolean canRender(String mime) {
                return mime == null || mime.equals("text/html") || mime.equals("text/plain");
            }

            @Override
            public DisplayData render(String mime, Object o) {
                HtmlView v = (HtmlView) o;
                DisplayData dd = DisplayData.fromHtml(v.html());
                dd.putText(v.text());
                return dd;
            }
        });
    }

    @Override
    public List<DisplayTransformer> getDisplayTransformers() {
        return List.of(new DisplayTransformer() {
            @Override
            public boolean canTransform(Object o) {
                return o != null && (toHtml(o) != null || isTablesaw(o));
            }

            @Override
            public Class<?> transformedClass() {
                return HtmlView.class;
            }

            @Override
            public Object transform(Object o) {
                try {
                    Method m = toHtml(o);
                    if (m != null) {
                        return new HtmlView((String) m.invoke(o), String.valueOf(o));
                    }
                    return tablesaw(o);
                } catch (ReflectiveOperationException e) {
                    return new HtmlView("<pre>" + escape(String.valueOf(o)) + "</pre>", String.valueOf(o));
                }
            }
        });
    }

    private static Method toHtml(Object o) {
        try {
            Method m = o.getClass().getMethod("toHtml");
            return m.getReturnType() == String.class ? m : null;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static boolean isTablesaw(Object o) {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            if (c.getName().equals("tech.tablesaw.api.Table")) {
                return true;
            }
        }
        return false;
    }

    /** A Tablesaw table as an HTML table (header, every row), and its printAll() text. */
    private static HtmlView tablesaw(Object t) throws ReflectiveOperationException {
        Class<?> c = t.getClass();
        @SuppressWarnings("unchecked")
        List<String> names = (List<String>) c.getMethod("columnNames").invoke(t);
        int rows = (Integer) c.getMethod("rowCount").invoke(t);
        Method get = c.getMethod("getString", int.class, String.class);
        StringBuilder sb = new StringBuilder("<table class=\"dataframe\"><thead><tr>");
        names.forEach(n -> sb.append("<th>").append(escape(n)).append("</th>"));
        sb.append("</tr></thead><tbody>");
        for (int r = 0; r < rows; r++) {
            sb.append("<tr>");
            for (String n : names) {
                sb.append("<td>").append(escape(String.valueOf(get.invoke(t, r, n)))).append("</td>");
            }
            sb.append("</tr>");
        }
        sb.append("</tbody></table>");
        return new HtmlView(sb.toString(), (String) c.getMethod("printAll").invoke(t));
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** Puts the library's display sink in place: HTML and text as display data, updated in place by display id. */
    static void installSink(RapaioKernel kernel) {
        Consumer<Map<String, String>> sink = m -> {
            DisplayData dd = DisplayData.fromHtml(m.getOrDefault("text/html", ""));
            dd.putText(m.getOrDefault("text/plain", ""));
            String id = m.get("display_id");
            if (id != null) {
                dd.setDisplayId(id);
            }
            // a pending interrupt of the calling thread would make the socket's send fail: set it aside meanwhile
            boolean interrupted = Thread.interrupted();
            try {
                org.rapaio.jupyter.kernel.core.java.io.JShellOutputStream.sendAllPending(); // text printed before first
                if (id != null && "true".equals(m.get("update"))) {
                    kernel.updateDisplay(dd);
                } else {
                    kernel.display(dd);
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        System.getProperties().put("transferlab.display", sink);
    }
}
