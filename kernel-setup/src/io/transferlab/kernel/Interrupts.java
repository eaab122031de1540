package io.transferlab.kernel;

import org.rapaio.jupyter.kernel.channels.Channels;
import org.rapaio.jupyter.kernel.channels.ControlChannel;
import org.rapaio.jupyter.kernel.channels.MessageHandler;
import org.rapaio.jupyter.kernel.message.Message;
import org.rapaio.jupyter.kernel.message.MessageId;
import org.rapaio.jupyter.kernel.core.RapaioKernel;
import org.rapaio.jupyter.kernel.core.java.JavaEngine;
import org.rapaio.jupyter.kernel.core.java.RapaioExecutionControl;
import org.rapaio.jupyter.kernel.core.java.RapaioExecutionControlProvider;
import org.rapaio.jupyter.kernel.message.MessageType;
import org.rapaio.jupyter.kernel.message.messages.ControlInterruptReply;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Jupyter's interrupt (the stop button), done as a Python kernel does it: the running cell stops and the kernel
 * keeps every variable. The stock kernel shut its executor down on an interrupt (every later cell failed) or let a
 * busy cell run on.
 *
 * <p>Steps, on a thread of its own so that the control channel answers at once:
 * <ol>
 *   <li>the cell's thread is interrupted (Java's cooperative interrupt): the library's long loops (fit, feature
 *   extraction) check it at each batch and end cleanly, fit returning the history so far;</li>
 *   <li>a cell still running after {@link #GRACE_MILLIS} is stopped: its evaluation is cancelled (the cell ends
 *   with a one-line "interrupted" error) and its thread is stopped (a plain Java loop ends; a native call ends at
 *   its next return to Java). Library loops that are between two batches get {@link #LIBRARY_GRACE_MILLIS}
 *   instead, so that a batch is never cut in half.</li>
 * </ol>
 * An interrupt when nothing runs does nothing; a second interrupt while the first is still being handled is ignored.
 */
public final class Interrupts {
    private static final Logger LOGGER = Logger.getLogger(Interrupts.class.getSimpleName());
    static final long GRACE_MILLIS = 1500;
    static final long LIBRARY_GRACE_MILLIS = 60_000;
    private static volatile boolean busy;
    private static volatile String note;

    /** What the last interrupt has to add to its message (a native call that finishes first), once; or null. */
    public static String takeNote() {
        String n = note;
        note = null;
        return n;
    }

    private Interrupts() {
    }

    /** The id of the execute request being run, so that an interrupt can give it back to the channels. */
    private static volatile MessageId<?> executing;

    /** Puts this interrupt handling in place of the kernel's. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void install(Channels channels, RapaioKernel kernel) throws ReflectiveOperationException {
        Field f = Channels.class.getDeclaredField("handlers");
        f.setAccessible(true);
        Map<MessageType<?>, MessageHandler> handlers = (Map<MessageType<?>, MessageHandler>) f.get(channels);
        Field a = Channels.class.getDeclaredField("afterActions");
        a.setAccessible(true);
        a.set(channels, new PerThreadActions());
        Field c = Channels.class.getDeclaredField("control");
        c.setAccessible(true);
        ControlChannel control = (ControlChannel) c.get(channels);
        MessageHandler execute = handlers.get(MessageType.SHELL_EXECUTE_REQUEST);
        handlers.put(MessageType.SHELL_EXECUTE_REQUEST, message -> {
            executing = message.getId();
            try {
                execute.handle(message);
            } finally {
                executing = null;
            }
        });
        handlers.put(MessageType.CONTROL_INTERRUPT_REQUEST, message -> {
            // the stock kernel answered on the shell socket and left the interrupt's id as the parent of everything
            // the running cell published after it (its output, error and idle status went to the wrong cell)
            control.sendMessage(new Message<>(message.getId(), MessageType.CONTROL_INTERRUPT_REPLY, new ControlInterruptReply()));
            MessageId<?> cell = executing;
            if (cell != null) {
                channels.setMsgId(cell);
            }
            if (busy) {
                LOGGER.info("interrupt: already stopping the cell");
                return;
            }
            busy = true;
            Thread t = new Thread(() -> {
                try {
                    interrupt(kernel);
                } catch (RuntimeException | ReflectiveOperationException | InterruptedException e) {
                    LOGGER.severe("interrupt failed: " + e);
                } finally {
                    busy = false;
                }
            }, "interrupt");
            t.setDaemon(true);
            t.start();
        });
    }

    /** The threads running a cell: the kernel's engine threads with the cell's code (JShell's REPL classes) on the stack. */
    static List<Thread> cellThreads() {
        List<Thread> out = new ArrayList<>();
        Thread.getAllStackTraces().forEach((t, stack) -> {
            if (t.getName().startsWith("Engine-thread-") && t.isAlive() && hasFrame(stack, "REPL.")) {
                out.add(t);
            }
        });
        return out;
    }

    private static boolean hasFrame(StackTraceElement[] stack, String classPrefix) {
        for (StackTraceElement e : stack) {
            if (e.getClassName().startsWith(classPrefix)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the thread is inside one of the library's loops that end at the next batch when interrupted. */
    private static boolean inLibraryLoop(Thread t) {
        StackTraceElement[] stack = t.getStackTrace();
        return hasFrame(stack, "io.transferlab.train.Trainer") || hasFrame(stack, "io.transferlab.inference.Features")
                || hasFrame(stack, "io.transferlab.download.Download");
    }

    private static boolean waitUntilDone(List<Thread> threads, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            if (threads.stream().noneMatch(t -> cellThreads().contains(t))) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    @SuppressWarnings("removal")
    private static void interrupt(RapaioKernel kernel) throws ReflectiveOperationException, InterruptedException {
        List<Thread> running = cellThreads();
        if (running.isEmpty()) {
            LOGGER.info("interrupt: no cell is running");
            return;
        }
        running.forEach(Thread::interrupt);
        if (waitUntilDone(running, GRACE_MILLIS)) {
            LOGGER.info("interrupt: the cell ended by itself");
            return;
        }
        if (running.stream().anyMatch(Interrupts::inLibraryLoop)) {
            // the library consumes the interrupt at its next batch boundary (a second one would meet its output)
            if (waitUntilDone(running, LIBRARY_GRACE_MILLIS)) {
                LOGGER.info("interrupt: the library loop ended at a batch boundary");
                return;
            }
        }
        for (Thread t : running) {
            StackTraceElement[] stack = t.getStackTrace();
            if (stack.length > 0 && stack[0].isNativeMethod()) {
                note = "the cell was inside a native call (" + stack[0].getClassName() + "." + stack[0].getMethodName()
                        + "): its thread stops when that call returns";
            }
        }
        control(kernel).interrupt(); // the cell's evaluation ends now, as interrupted
        for (Thread t : running) {
            if (cellThreads().contains(t)) {
                LOGGER.info("interrupt: stopping thread " + t.getName());
                t.stop(); // a busy Java loop ignores interrupts; stop() ends it at its next Java instruction
            }
        }
    }

    private static RapaioExecutionControl control(RapaioKernel kernel) throws ReflectiveOperationException {
        JavaEngine engine = kernel.javaEngine();
        Field providerField = JavaEngine.class.getDeclaredField("controlProvider");
        Field idField = JavaEngine.class.getDeclaredField("executionId");
        providerField.setAccessible(true);
        idField.setAccessible(true);
        RapaioExecutionControlProvider provider = (RapaioExecutionControlProvider) providerField.get(engine);
        return provider.getRegisteredControl((String) idField.get(engine));
    }
}
