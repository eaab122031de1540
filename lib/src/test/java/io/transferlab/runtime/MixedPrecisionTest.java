package io.transferlab.runtime;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The policy's Keras names, its default, its refusal of other names, and the CPU check it relies on. */
class MixedPrecisionTest {
    @AfterEach
    void reset() {
        MixedPrecision.set("float32");
    }

    @Test
    void float32ByDefaultAndKerasNames() {
        assertEquals("float32", MixedPrecision.policy());
        assertFalse(MixedPrecision.bfloat16());
        String got = MixedPrecision.setGlobalPolicy("mixed_bfloat16");
        // on a CPU without bf16 the policy stays float32 (and a line says so); with bf16 it switches
        assertEquals(MixedPrecision.bf16Unsupported() == null ? "mixed_bfloat16" : "float32", got);
        assertEquals(got, MixedPrecision.globalPolicy());
        assertEquals(got.equals("mixed_bfloat16"), MixedPrecision.bfloat16());
        assertEquals("float32", MixedPrecision.set(" float32 "));
        assertFalse(MixedPrecision.bfloat16());
    }

    @Test
    void otherNamesAreRefusedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> MixedPrecision.set("mixed_float16"));
        assertTrue(e.getMessage().contains("'mixed_float16'") && e.getMessage().contains("mixed_bfloat16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MixedPrecision.set("bf16"));
        assertTrue(e.getMessage().contains("unknown mixed precision policy 'bf16'"), e.getMessage());
        assertEquals("float32", MixedPrecision.policy(), "a refused name leaves the policy as it was");
    }

    @Test
    void cpuFlagsNeedAvx512Bf16OrAmxBf16() {
        assertTrue(MixedPrecision.cpuHasBf16(" fpu avx512f avx512_bf16 avx512_vnni"));
        assertTrue(MixedPrecision.cpuHasBf16("fpu amx_bf16 amx_tile"));
        assertFalse(MixedPrecision.cpuHasBf16("fpu avx2 avx512f avx512_vnni amx_tile"));
        assertFalse(MixedPrecision.cpuHasBf16(""));
    }
}
