package io.transferlab.kernel;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.LogManager;
import java.util.logging.Logger;

import org.rapaio.jupyter.kernel.MainApp;
import org.rapaio.jupyter.kernel.channels.Channels;
import org.rapaio.jupyter.kernel.channels.LoopThread;
import org.rapaio.jupyter.kernel.core.ConnectionProperties;
import org.rapaio.jupyter.kernel.core.RapaioKernel;
import org.rapaio.jupyter.kernel.core.Transform;

/**
 * Entry point of the "java" Jupyter kernel (used instead of MainApp of
 * rapaio-jupyter-kernel 3.0.1). It starts the same kernel, but keeps the
 * channel loops waiting until the message handlers are registered; see the
 * comment in the patched {@link LoopThread} for the start-up hang this avoids.
 *
 * Usage: java -cp PATCH_CLASSES:rapaio-jupyter-kernel-3.0.1.jar io.transferlab.kernel.KernelLauncher CONNECTION_FILE
 */
public final class KernelLauncher {

    private static final Logger LOGGER = Logger.getLogger(KernelLauncher.class.getSimpleName());

    private KernelLauncher() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: KernelLauncher CONNECTION_FILE");
            System.exit(2);
        }
        try (InputStream in = MainApp.class.getClassLoader().getResourceAsStream("logging.properties")) {
            if (in != null) {
                LogManager.getLogManager().readConfiguration(in);
            }
        }

        Path connectionFile = Path.of(args[0]);
        if (!Files.isRegularFile(connectionFile)) {
            System.err.println("KernelLauncher: connection file '" + connectionFile + "' is not a file");
            System.exit(2);
        }
        ConnectionProperties props = Transform.fromJson(Files.readString(connectionFile), ConnectionProperties.class);
        if ("ipc".equals(props.transport())) {
            System.err.println("KernelLauncher: transport 'ipc' is not supported, use 'tcp'");
            System.exit(2);
        }

        // MainApp.kernel is the instance that display()/eval() in notebooks use (Global),
        // so use it rather than a new RapaioKernel. Touching it builds the JShell engine.
        RapaioKernel kernel = MainApp.kernel;

        LoopThread.closeGate();
        Channels channels = new Channels(props);
        try {
            channels.connect(kernel); // binds sockets, then registers handlers
            Interrupts.install(channels, kernel); // Jupyter's interrupt stops the cell and keeps the kernel
            Help.install(channels, kernel);       // Shift-Tab shows the library's Javadoc too
            RichDisplay.installSink(kernel);      // the library's HTML output and in-place progress
        } finally {
            LoopThread.openGate(); // only now may the loops read messages
        }
        LOGGER.info("kernel ready");

        // Wait until the channel loops end (after a shutdown_request). Then exit
        // explicitly: the JShell engine's thread pool is not daemon and would keep
        // the stock kernel alive for up to a minute after shutdown, until Jupyter
        // kills it. A short grace period covers loops that are slow to stop.
        Thread joiner = new Thread(channels::joinUntilClose, "channels-join");
        joiner.setDaemon(true);
        joiner.start();
        while (joiner.isAlive() && !channels.isMarkedForShutdown()) {
            joiner.join(200);
        }
        joiner.join(3000);
        LOGGER.info("kernel shut down, exiting");
        // System.exit runs the shutdown hooks of every library on the class path (ND4J, JavaCPP, the JShell engine);
        // one that blocks would keep the process alive after Jupyter asked it to stop, and Jupyter would kill it.
        // A watchdog halts the JVM if the orderly exit has not finished in a few seconds.
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(4000);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("kernel: exit did not finish in 4 s (a shutdown hook blocks): halting");
            Runtime.getRuntime().halt(0);
        }, "exit-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        System.exit(0);
    }
}
