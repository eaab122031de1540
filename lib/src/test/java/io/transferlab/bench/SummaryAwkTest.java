package io.transferlab.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * bench/summary.awk on a made-up results file: float32 and bfloat16 are compared apart (the project's "ours" against
 * the peer's best variant that is not bf16, even where an autocast variant is faster; "bf16" against the peer's best
 * autocast_bf16 variant), and the shared-pass slowdown has a line for each.
 */
class SummaryAwkTest {
    @TempDir
    Path tmp;

    private static String row(String pass, String wl, String side, String worker, String variant, double secs, int items) {
        return String.join("\t", pass, wl, side, worker, variant, "2", Double.toString(secs), Integer.toString(items));
    }

    private List<String> summary(String... rows) throws Exception {
        Path awk = Path.of("..", "bench", "summary.awk").toAbsolutePath().normalize();
        assumeTrue(Files.isRegularFile(awk), "bench/summary.awk not found from " + Path.of("").toAbsolutePath());
        Path results = tmp.resolve("results.tsv");
        Files.write(results, Arrays.asList(rows));
        Process p;
        try {
            p = new ProcessBuilder("awk", "-F\t", "-v", "rounds=1", "-f", awk.toString(), results.toString())
                    .redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            assumeTrue(false, "no awk on this machine: " + e.getMessage());
            return List.of();
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "awk did not finish");
        assertEquals(0, p.exitValue(), out);
        return out.lines().toList();
    }

    /** The final table's line for this workload label and pass, split on blanks. */
    private static String[] tableLine(List<String> lines, String label, String pass) {
        int start = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("workload ")) {
                start = i;
            }
        }
        assertTrue(start >= 0, "no final table in\n" + String.join("\n", lines));
        for (int i = start + 1; i < lines.size() && !lines.get(i).isBlank(); i++) {
            String l = lines.get(i);
            if (l.startsWith(label + " ") && l.substring(label.length()).trim().startsWith(pass + " ")) {
                return l.substring(label.length()).trim().split("\\s+");
            }
        }
        throw new AssertionError("no line '" + label + "' / " + pass + " in\n" + String.join("\n", lines));
    }

    @Test
    void float32AndBf16AreComparedApart() throws Exception {
        List<String> out = summary(
                row("quiet", "extract-vgg", "project", "extract-vgg", "ours", 10, 100),      // 10 img/s
                row("quiet", "extract-vgg", "project", "extract-vgg", "bf16", 4, 100),       // 25 img/s
                row("quiet", "extract-vgg", "peer", "torch-extract-vgg", "dataloader_0w", 8, 100),   // 12.5
                row("quiet", "extract-vgg", "peer", "torch-extract-vgg", "dataloader_1w", 5, 100),   // 20: best fp32
                row("quiet", "extract-vgg", "peer", "torch-extract-vgg", "autocast_bf16_dataloader_0w", 2, 100), // 50
                row("quiet", "extract-vgg", "peer", "torch-extract-vgg", "autocast_bf16_dataloader_1w", 2.5, 100),
                row("shared", "extract-vgg", "project", "extract-vgg", "ours", 20, 100),
                row("shared", "extract-vgg", "project", "extract-vgg", "bf16", 10, 100),
                row("shared", "extract-vgg", "peer", "torch-extract-vgg", "dataloader_1w", 10, 100),
                row("shared", "extract-vgg", "peer", "torch-extract-vgg", "autocast_bf16_dataloader_0w", 8, 100),
                row("quiet", "head03", "project", "head03", "ours", 1, 2),
                row("quiet", "head03", "peer", "torch-head03", "1thread", 2, 2));
        // float32: 10 img/s against the peer's best float32 mode (20 img/s), not its faster autocast one
        String[] fp = tableLine(out, "extract-vgg", "quiet");
        assertEquals(List.of("quiet", "10.00", "/s", "20.00", "/s", "dataloader_1w", "0.50x"), List.of(fp));
        // bfloat16: 25 img/s against the best autocast mode (50 img/s)
        String[] bf = tableLine(out, "extract-vgg [bf16]", "quiet");
        assertEquals(List.of("quiet", "25.00", "/s", "50.00", "/s", "autocast_bf16_dataloader_0w", "0.50x"), List.of(bf));
        String[] bfShared = tableLine(out, "extract-vgg [bf16]", "shared");
        assertEquals(List.of("shared", "10.00", "/s", "12.50", "/s", "autocast_bf16_dataloader_0w", "0.80x"),
                List.of(bfShared));
        // a workload without bf16 variants gets no [bf16] line; the heads keep their time ratio
        assertEquals(List.of("quiet", "0.500", "s/ep", "1.000", "s/ep", "1thread", "0.50x", "time"),
                List.of(tableLine(out, "head03", "quiet")));
        assertFalse(out.stream().anyMatch(l -> l.startsWith("head03 [bf16]")), String.join("\n", out));
        // per-row ratios: the bf16 row against the autocast best, the dl... float32 rows against the float32 best
        assertTrue(out.stream().anyMatch(l -> l.matches("quiet\\s+extract-vgg\\s+project\\s+extract-vgg\\s+bf16\\s+"
                + "25\\.00 /s.*\\s0\\.50x\\s.*")), String.join("\n", out));
        assertTrue(out.stream().anyMatch(l -> l.matches("quiet\\s+extract-vgg\\s+peer\\s+torch-extract-vgg\\s+"
                + "autocast_bf16_dataloader_1w\\s.*\\s0\\.80x\\s.*")), String.join("\n", out));
        // slowdown quiet/shared for each precision: float32 10/5 and 20/10; bf16 25/10 and 50/12.5
        assertTrue(out.stream().anyMatch(l -> l.matches("\\s+extract-vgg\\s+project\\s+2\\.00\\s+peer best\\s+2\\.00")),
                String.join("\n", out));
        assertTrue(out.stream().anyMatch(l -> l.matches("\\s+extract-vgg \\[bf16]\\s+project\\s+2\\.50\\s+peer best\\s+4\\.00")),
                String.join("\n", out));
    }

    @Test
    void bf16WithoutAPeerCounterpartHasNoRatio() throws Exception {
        // the peer's autocast variants were skipped (no CPU autocast): the [bf16] line names no peer and no ratio
        List<String> out = summary(
                row("quiet", "vgg", "project", "vgg", "ours", 1, 20),
                row("quiet", "vgg", "project", "vgg", "bf16", 0.5, 20),
                row("quiet", "vgg", "project", "vgg-dl4j", "dl4j", 2, 20),
                row("quiet", "vgg", "peer", "torch-vgg", "channels_last", 2, 20));
        assertEquals(List.of("quiet", "20.00", "/s", "10.00", "/s", "channels_last", "2.00x"),
                List.of(tableLine(out, "vgg", "quiet")));
        assertEquals(List.of("quiet", "40.00", "/s", "-", "-", "-"), List.of(tableLine(out, "vgg [bf16]", "quiet")));
    }
}
