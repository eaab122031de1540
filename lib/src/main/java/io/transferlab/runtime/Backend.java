package io.transferlab.runtime;

import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The one place that knows how Deeplearning4j 1.0.0-M2.1 must be switched on to run fast on a CPU.
 *
 * <p>As shipped, M2.1 never uses oneDNN for its layers: the system property
 * {@value #HELPERS_DISABLE_PROPERTY} defaults to {@code true}, and the oneDNN check looks up a class that moved
 * (bridged by {@link org.nd4j.nativeblas.Nd4jCpu}). {@link #init()} fixes the first; the second is fixed by the
 * bridge class being on the classpath. Every entry point of this library calls {@link #init()}, so users never
 * need to.
 *
 * <p>Set the system property or environment variable {@code TL_ONEDNN=false} to run on DL4J's built-in path
 * instead (for comparisons).
 */
public final class Backend {
    /** DL4J's switch for its native helpers (oneDNN on CPU, cuDNN on GPU). */
    public static final String HELPERS_DISABLE_PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

    private static volatile boolean initialized;

    private Backend() {
    }

    /** Switches on the fast native path and float32 defaults. Safe to call many times. */
    public static synchronized void init() {
        if (initialized) {
            return;
        }
        quietLogs();
        if (System.getProperty(HELPERS_DISABLE_PROPERTY) == null) {
            System.setProperty(HELPERS_DISABLE_PROPERTY, String.valueOf(!oneDnnWanted()));
        }
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        initialized = true;
    }

    /**
     * ND4J and DL4J log their start-up details and per-layer notes at INFO, which buries a notebook's own output;
     * keep WARN and above unless the user configured the loggers (or set TL_VERBOSE=1).
     */
    private static void quietLogs() {
        if (verbose()) {
            return;
        }
        for (String pkg : new String[]{"org.nd4j", "org.deeplearning4j", "io.jhdf", "org.reflections"}) {
            String key = "org.slf4j.simpleLogger.log." + pkg;
            if (System.getProperty(key) == null) {
                System.setProperty(key, "warn");
            }
        }
    }

    /** True when TL_VERBOSE=1: full library logs and notes on which paths run. */
    public static boolean verbose() {
        return "1".equals(System.getenv("TL_VERBOSE"));
    }

    private static boolean oneDnnWanted() {
        return switchedOn("TL_ONEDNN", "TL_ONEDNN");
    }

    /**
     * A switch that is on unless the system property, or else the environment variable, says "false" or "0": how
     * the library's fast paths are turned off for comparisons (TL_ONEDNN, TL_FAST_INFERENCE, TL_WINOGRAD, ...).
     */
    public static boolean switchedOn(String property, String environmentVariable) {
        String v = System.getProperty(property);
        if (v == null) {
            v = System.getenv(environmentVariable);
        }
        return v == null || !(v.equalsIgnoreCase("false") || v.equals("0"));
    }

    /**
     * Turns DL4J's native helpers on or off for networks built from now on (networks already built keep
     * theirs). Used to compare the oneDNN path with the built-in one.
     */
    public static void setHelpersEnabled(boolean enabled) {
        init();
        System.setProperty(HELPERS_DISABLE_PROPERTY, String.valueOf(!enabled));
    }

    /** Whether layers built now would get oneDNN helpers. */
    public static boolean oneDnnActive() {
        init();
        return !Boolean.parseBoolean(System.getProperty(HELPERS_DISABLE_PROPERTY, "true"))
                && BaseMKLDNNHelper.mklDnnEnabled();
    }

    /** A one-line description of the native backend, for notebooks and benchmark reports. */
    public static String describe() {
        init();
        var env = Nd4j.getExecutioner().getEnvironmentInformation();
        // the native library's thread count (OMP_NUM_THREADS, else the cores it sees); the environment
        // information has no "omp.threads" entry in 1.0.0-M2.1
        // how idle OpenMP threads wait: the launchers set passive (sleep), OpenMP's default spins for a while,
        // which several-fold slows fine-grained work when another process shares the cores
        String wait = System.getenv("OMP_WAIT_POLICY");
        return String.format("ND4J %s backend, %d threads (%s), oneDNN %s",
                env.getProperty("backend", "?"), Nd4j.getEnvironment().maxThreads(),
                wait == null || wait.isBlank() ? "OpenMP threads spin when idle: OMP_WAIT_POLICY=passive suits a shared machine"
                        : "OMP_WAIT_POLICY=" + wait.trim().toLowerCase(java.util.Locale.ROOT),
                oneDnnActive() ? "on" : "off");
    }

    /** The CPU's model name and the cores this JVM sees ("Intel(R) Xeon(R) ..., 2 cores"), for figures people compare. */
    public static String cpuName() {
        String model = "unknown CPU";
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).strip();
                    break;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            model = System.getProperty("os.arch", "unknown CPU");
        }
        return model + ", " + Runtime.getRuntime().availableProcessors() + " cores";
    }

    /**
     * One core's L2 cache in bytes (Linux's sysfs), for work sized to stay in it; 2 MB when it cannot be read,
     * clamped to 256 KB..8 MB.
     */
    public static int l2CacheBytes() {
        long bytes = 2L << 20;
        try {
            java.nio.file.Path dir = java.nio.file.Path.of("/sys/devices/system/cpu/cpu0/cache");
            for (int i = 0; i < 8; i++) {
                java.nio.file.Path index = dir.resolve("index" + i);
                if (!java.nio.file.Files.isDirectory(index)) {
                    break;
                }
                if ("2".equals(java.nio.file.Files.readString(index.resolve("level")).trim())
                        && !"Instruction".equals(java.nio.file.Files.readString(index.resolve("type")).trim())) {
                    long parsed = parseCacheSize(java.nio.file.Files.readString(index.resolve("size")));
                    if (parsed > 0) {
                        bytes = parsed;
                    }
                    break;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or no cache information: the default
        }
        return (int) Math.max(256L << 10, Math.min(8L << 20, bytes));
    }

    /** sysfs's cache size text ("2048K", "1M", "512"): bytes, or -1. */
    static long parseCacheSize(String text) {
        String t = text.trim();
        if (t.isEmpty()) {
            return -1;
        }
        long unit = switch (Character.toUpperCase(t.charAt(t.length() - 1))) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1;
        };
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            return Long.parseLong(digits.trim()) * unit;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
