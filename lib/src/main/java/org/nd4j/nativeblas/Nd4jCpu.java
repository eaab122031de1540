package org.nd4j.nativeblas;

/**
 * Compatibility bridge for Deeplearning4j 1.0.0-M2.1.
 *
 * <p>DL4J's oneDNN check ({@code BaseMKLDNNHelper.mklDnnEnabled}) looks up the class
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment} by name and calls {@code getInstance().isUseMKLDNN()}
 * reflectively. In M2.1 the native bindings moved to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu},
 * so the lookup fails and every convolution silently falls back to the slow built-in path. This class
 * answers that lookup under the old name and delegates to the real native environment.
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    /** The old name of the native environment; only what DL4J asks for is provided. */
    public static final class Environment {
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        /** Whether the loaded native library was built with oneDNN and has it switched on. */
        public boolean isUseMKLDNN() {
            return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
        }
    }
}
