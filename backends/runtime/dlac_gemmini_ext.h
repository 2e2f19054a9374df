/* dlac's extensions to Gemmini's software library, included by the emitted model after
 * gemmini.h. Written only on what both Gemmini's own gemmini.h and dlac's simulator header
 * provide, so the same model C builds for an RTL SoC, Spike + libgemmini and dlac-sim. */
#ifndef DLAC_GEMMINI_EXT_H
#define DLAC_GEMMINI_EXT_H

#include <stdint.h>

/* The CPU clock: rdcycle on RISC-V, the simulated host clock on dlac-sim (named apart from
 * gemmini_testutils.h's read_cycles so both can be included). */
static inline uint64_t dlac_read_cycles(void) {
#ifdef DLAC_SIM_H
    dlac_sim_stats st;
    dlac_sim_get_stats(gemmini_sim(), &st);
    return (uint64_t)st.host_cycles;
#else
    uint64_t cycles;
    __asm__ volatile("rdcycle %0" : "=r"(cycles));
    return cycles;
#endif
}

#endif
