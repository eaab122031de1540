package io.transferlab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Keras's global mixed-precision policy ({@code keras.mixed_precision.set_global_policy}), for inference: with
 * {@code "mixed_bfloat16"} the oneDNN inference plan runs convolutions (depthwise ones included) and dense layers
 * in bfloat16, with float32 accumulation inside oneDNN and float32 master weights; with {@code "float32"} (the
 * default) everything runs in float32.
 *
 * <pre>{@code
 * MixedPrecision.set("mixed_bfloat16");   // Keras: mixed_precision.set_global_policy("mixed_bfloat16")
 * float[] p = model.predict(x) ...;       // inputs and outputs stay float32
 * MixedPrecision.set("float32");          // back to full precision
 * }</pre>
 *
 * <p>What changes under {@code mixed_bfloat16}: when an inference plan is compiled, each convolution's and dense
 * layer's weights (after any batch normalization has been folded into them, in float32) are converted to bfloat16
 * once; activations flow between layers in bfloat16 (pooling, concatenation, addition and activations run on
 * them directly); the input is converted once and the output converted back to float32. Biases stay float32.
 * A plan compiled under one policy is never reused under the other. Expect relative differences of about 1e-2
 * from float32 outputs (bfloat16 keeps 8 significant bits). Models that the plan does not cover (they run on
 * DL4J) and the trained layers stay float32, but for the trained convolutions' oneDNN training primitives, which
 * compute in bfloat16 with float32 weights, gradients and outputs (ConvolutionTrainingPrimitives); when
 * fine-tuning with a frozen prefix, that prefix runs on the inference plan and so follows this policy (as Keras's
 * policy also applies to frozen layers).
 *
 * <p>bfloat16 is only fast where the CPU computes it natively: AVX512-BF16 (Intel Cooper Lake, Sapphire Rapids
 * and later; AMD Zen 4 and later) or AMX-BF16 (Sapphire Rapids and later). On any other CPU oneDNN would emulate
 * it, slower than float32, so {@link #set} prints one line saying so and keeps {@code "float32"}.
 * The environment variable {@code TL_MIXED_PRECISION=mixed_bfloat16} (or the system property
 * {@code transferlab.mixedPrecision}) sets the policy at start-up.
 */
public final class MixedPrecision {
    /** Keras's policy names that this library implements. */
    public static final String FLOAT32 = "float32";
    public static final String MIXED_BFLOAT16 = "mixed_bfloat16";
    private static final Set<String> KERAS_ONLY = Set.of("mixed_float16", "float16", "bfloat16", "float64");

    private static volatile String policy;
    private static Boolean cpuBf16;

    private MixedPrecision() {
    }

    /**
     * Sets the global policy: {@code "mixed_bfloat16"} or {@code "float32"}. Returns the policy in effect afterwards,
     * which is {@code "float32"} when bfloat16 was asked for on a CPU without native bfloat16 (a line says so).
     *
     * @throws IllegalArgumentException for any other name (Keras's other policies say that they are not supported here)
     */
    public static synchronized String set(String name) {
        if (name == null) {
            throw new IllegalArgumentException("mixed precision policy: null (use \"float32\" or \"mixed_bfloat16\")");
        }
        String n = name.strip();
        if (n.equals(FLOAT32)) {
            policy = FLOAT32;
        } else if (n.equals(MIXED_BFLOAT16)) {
            String why = bf16Unsupported();
            if (why != null) {
                System.out.println("MixedPrecision: staying float32: " + why);
                policy = FLOAT32;
            } else {
                policy = MIXED_BFLOAT16;
            }
        } else if (KERAS_ONLY.contains(n)) {
            throw new IllegalArgumentException("mixed precision policy '" + n + "' is a Keras policy this library does"
                    + " not implement; use \"float32\" or \"mixed_bfloat16\"");
        } else {
            throw new IllegalArgumentException("unknown mixed precision policy '" + n + "'; use \"float32\" or \"mixed_bfloat16\"");
        }
        return policy;
    }

    /** Keras's spelling: {@code mixed_precision.set_global_policy}. */
    public static String setGlobalPolicy(String name) {
        return set(name);
    }

    /** The policy in effect: {@code "float32"} (the default) or {@code "mixed_bfloat16"}. */
    public static String policy() {
        String p = policy;
        if (p == null) {
            synchronized (MixedPrecision.class) {
                if (policy == null) {
                    String v = System.getProperty("transferlab.mixedPrecision");
                    if (v == null) {
                        v = System.getenv("TL_MIXED_PRECISION");
                    }
                    policy = FLOAT32;
                    if (v != null && !v.isBlank()) {
                        set(v);
                    }
                }
                p = policy;
            }
        }
        return p;
    }

    /** Keras's spelling: {@code mixed_precision.global_policy().name}. */
    public static String globalPolicy() {
        return policy();
    }

    /** Whether convolutions and dense layers compute in bfloat16 now. */
    public static boolean bfloat16() {
        return MIXED_BFLOAT16.equals(policy());
    }

    /** Null when this CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16); otherwise why it does not. */
    public static synchronized String bf16Unsupported() {
        if (cpuBf16 == null) {
            cpuBf16 = cpuHasBf16(cpuFlags());
        }
        return cpuBf16 ? null : "this CPU (" + Backend.cpuName() + ") has neither AVX512-BF16 nor AMX-BF16,"
                + " so bfloat16 would be emulated and slower than float32";
    }

    /** Whether a /proc/cpuinfo "flags" line names avx512_bf16 or amx_bf16. */
    static boolean cpuHasBf16(String flags) {
        for (String f : flags.split("\\s+")) {
            if (f.equals("avx512_bf16") || f.equals("amx_bf16")) {
                return true;
            }
        }
        return false;
    }

    /** The first "flags" line of /proc/cpuinfo, or "" where there is none (not Linux x86). */
    private static String cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return line.substring(line.indexOf(':') + 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc/cpuinfo: treated as no bf16
        }
        return "";
    }
}
