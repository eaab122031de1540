package io.transferlab.runtime;

/**
 * Quick mode (environment TL_QUICK=1, set by the test run): notebooks use smaller data and fewer epochs so that
 * the whole test run stays short. Full mode produces the real results the docs show.
 */
public final class Mode {
    private Mode() {
    }

    public static boolean quick() {
        String v = System.getProperty("TL_QUICK", System.getenv("TL_QUICK"));
        return v != null && (v.equals("1") || v.equalsIgnoreCase("true"));
    }

    /** The full value, or the quick one in quick mode: {@code epochs = Mode.pick(30, 2)}. */
    public static int pick(int full, int quick) {
        return quick() ? quick : full;
    }

    public static String describe() {
        return quick() ? "quick mode (TL_QUICK=1): small data, few epochs" : "full mode";
    }
}
