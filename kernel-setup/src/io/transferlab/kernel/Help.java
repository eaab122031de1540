package io.transferlab.kernel;

import org.rapaio.jupyter.kernel.channels.Channels;
import org.rapaio.jupyter.kernel.channels.MessageHandler;
import org.rapaio.jupyter.kernel.core.RapaioKernel;
import org.rapaio.jupyter.kernel.display.DisplayData;
import org.rapaio.jupyter.kernel.message.MessageType;
import org.rapaio.jupyter.kernel.message.messages.ShellInspectReply;
import org.rapaio.jupyter.kernel.message.messages.ShellInspectRequest;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Shift-Tab (inspect_request) with the Javadoc of the notebook's libraries: JShell gives the signatures of what is
 * under the cursor (and the JDK's Javadoc where it has the JDK's sources); this adds the Javadoc of classes found
 * in a sources jar beside a jar of the kernel's class path ({@code transferlab-sources.jar} beside
 * {@code transferlab.jar}): the comment before the matching declaration, reduced to text.
 */
final class Help {
    private static final Logger LOGGER = Logger.getLogger(Help.class.getSimpleName());
    /** JShell's signature: "ReturnType Class.member(params)" or "Class(params)" or a class name. */
    private static final Pattern SIGNATURE = Pattern.compile("(?:[\\w.<>\\[\\], ?]+\\s)?([A-Z]\\w*)(?:\\.(\\w+))?\\s*(\\(.*\\))?\\s*$");
    private static final Map<String, String> SOURCES = new HashMap<>(); // simple class name -> source text

    private Help() {
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static void install(Channels channels, RapaioKernel kernel) throws ReflectiveOperationException {
        loadSources();
        Field f = Channels.class.getDeclaredField("handlers");
        f.setAccessible(true);
        Map<MessageType<?>, MessageHandler> handlers = (Map<MessageType<?>, MessageHandler>) f.get(channels);
        MessageHandler<ShellInspectRequest> stock = handlers.get(MessageType.SHELL_INSPECT_REQUEST);
        handlers.put(MessageType.SHELL_INSPECT_REQUEST, (MessageHandler<ShellInspectRequest>) message -> {
            ShellInspectRequest request = message.content();
            DisplayData found;
            try {
                found = kernel.javaEngine().inspect(request.code(), request.cursorPos());
            } catch (RuntimeException e) {
                stock.handle(message);
                return;
            }
            channels.reply(new ShellInspectReply(found != null, found == null ? null : withJavadoc(found)));
        });
    }

    /** Reads the sources jars that lie beside the jars of the kernel's class path (RJK_CLASSPATH). */
    private static void loadSources() {
        String cp = System.getenv("RJK_CLASSPATH");
        if (cp == null) {
            return;
        }
        for (String entry : cp.split(";")) {
            if (!entry.endsWith(".jar") || entry.contains("*")) {
                continue;
            }
            Path sources = Path.of(entry.substring(0, entry.length() - 4) + "-sources.jar");
            if (!Files.isRegularFile(sources)) {
                continue;
            }
            try (ZipFile zip = new ZipFile(sources.toFile())) {
                for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                    String name = e.getName();
                    if (name.endsWith(".java")) {
                        String simple = name.substring(name.lastIndexOf('/') + 1, name.length() - 5);
                        SOURCES.putIfAbsent(simple, new String(zip.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8));
                    }
                }
                LOGGER.info("help: Javadoc from " + sources);
            } catch (IOException e) {
                LOGGER.warning("help: cannot read " + sources + ": " + e);
            }
        }
    }

    /** The signatures of JShell's answer, each followed by its Javadoc where a source has it. */
    private static DisplayData withJavadoc(DisplayData jshell) {
        Object text = jshell.data().get("text/plain");
        if (!(text instanceof String plain) || SOURCES.isEmpty()) {
            return jshell;
        }
        StringBuilder out = new StringBuilder();
        StringBuilder html = new StringBuilder();
        boolean added = false;
        for (String line : plain.split("\n")) {
            out.append(line).append('\n');
            String bare = line.replaceAll("\u001B\\[[0-9;]*m", "").trim();
            if (bare.isEmpty()) {
                continue;
            }
            html.append("<p><b>").append(escape(bare)).append("</b>");
            String doc = javadoc(bare);
            if (doc != null) {
                out.append(doc).append("\n\n");
                html.append("<br>").append(escape(doc).replace("\n", "<br>"));
                added = true;
            }
            html.append("</p>");
        }
        if (!added) {
            return jshell;
        }
        DisplayData dd = DisplayData.fromHtml(html.toString());
        dd.putText(out.toString());
        return dd;
    }

    /** The Javadoc of a signature JShell printed, or null. */
    static String javadoc(String signature) {
        Matcher m = SIGNATURE.matcher(signature);
        if (!m.find()) {
            return null;
        }
        String cls = m.group(1);
        String member = m.group(2);
        String src = SOURCES.get(cls);
        if (src == null) {
            return null;
        }
        int params = m.group(3) == null ? -1 : countParams(m.group(3));
        Pattern decl = member == null
                ? Pattern.compile("(?m)^[ \\t]*(?:public |protected |abstract |final |static |sealed )*(?:class|interface|enum|record) " + cls + "\\b")
                : Pattern.compile("(?m)^[ \\t]*(?:public |protected |static |final |synchronized |default |abstract )*[\\w.<>\\[\\], ?]*\\s" + member + "\\(([^)]*)\\)");
        Matcher d = decl.matcher(src);
        while (d.find()) {
            if (member != null && params >= 0 && countParams("(" + d.group(1) + ")") != params) {
                continue;
            }
            String doc = commentBefore(src, d.start());
            if (doc != null) {
                return doc;
            }
        }
        return null;
    }

    private static int countParams(String parens) {
        String inner = parens.substring(1, Math.max(1, parens.lastIndexOf(')'))).trim();
        if (inner.isEmpty()) {
            return 0;
        }
        int depth = 0;
        int n = 1;
        for (char c : inner.toCharArray()) {
            if (c == '<') {
                depth++;
            } else if (c == '>') {
                depth--;
            } else if (c == ',' && depth == 0) {
                n++;
            }
        }
        return n;
    }

    /** The /** ... *&#47; comment that ends right before a declaration (annotations allowed between), as text. */
    private static String commentBefore(String src, int declStart) {
        String before = src.substring(0, declStart).stripTrailing();
        while (before.endsWith(")") || before.matches("(?s).*@\\w+$")) { // annotations such as @Override
            int at = before.lastIndexOf('@');
            if (at < 0) {
                break;
            }
            before = before.substring(0, at).stripTrailing();
        }
        if (!before.endsWith("*/")) {
            return null;
        }
        int start = before.lastIndexOf("/**");
        if (start < 0) {
            return null;
        }
        List<String> lines = new ArrayList<>();
        for (String l : before.substring(start + 3, before.length() - 2).split("\n")) {
            lines.add(l.replaceFirst("^\\s*\\* ?", "").stripTrailing());
        }
        String text = String.join("\n", lines).trim()
                .replaceAll("\\{@(?:code|link|linkplain|literal) ([^}]*)}", "$1")
                .replaceAll("</?(p|b|i|em|code|pre|ul|li|ol)>", "")
                .replaceAll("\n{3,}", "\n\n");
        return text.isEmpty() ? null : text;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
