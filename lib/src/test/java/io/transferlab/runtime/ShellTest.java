package io.transferlab.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A notebook's !command: output lines kept in order, a failure quotes the last lines, an interrupt stops a silent command. */
class ShellTest {
    @Test
    void keepsTheLinesAndQuotesThemOnFailure() {
        Shell.Result r = Shell.run(line -> false, "sh", "-c", "echo one; echo two >&2; echo three");
        assertEquals(List.of("one", "two", "three"), r.lines());
        assertEquals("two", r.lastLineWith("tw"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Shell.run(line -> false, "sh", "-c", "echo why it failed; exit 3"));
        assertTrue(e.getMessage().contains("exit status 3") && e.getMessage().contains("why it failed"), e.getMessage());
    }

    @Test
    void anInterruptStopsACommandThatPrintsNothing() throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                Shell.run("sleep", "30");
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        long t0 = System.nanoTime();
        t.start();
        Thread.sleep(500);
        t.interrupt();
        t.join(10_000);
        assertTrue(!t.isAlive() && (System.nanoTime() - t0) / 1e9 < 10, "the cell was not released");
        assertInstanceOf(CancellationException.class, thrown.get());
        assertTrue(ProcessHandle.allProcesses().noneMatch(ph -> ph.info().commandLine().orElse("").equals("/usr/bin/sleep 30")
                && ph.parent().map(pp -> pp.pid() == ProcessHandle.current().pid()).orElse(false)), "sleep still runs");
    }
}
