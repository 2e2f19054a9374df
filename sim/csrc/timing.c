/* Timing bookkeeping: issue clocks, reservation-station slots and the row scoreboard.
 *
 * Each unit (load, execute, store) runs its queue in order.  An instruction starts once
 * it has been issued, its unit is free and the local rows it touches are ready (RAW on
 * reads, WAW/WAR on writes), which is the dependency check Gemmini's reservation station
 * does between queues.  The per-instruction costs live in core.c next to the semantics;
 * the constants they use all come from dlac_sim_config (dlac.sim.timing).
 */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static double dmax(double a, double b) { return a > b ? a : b; }

void timing_init(dlac_sim *s) {
    const int sizes[UNIT_COUNT] = {s->cfg.rs_ld, s->cfg.rs_ex, s->cfg.rs_st};
    for (int u = 0; u < UNIT_COUNT; u++) {
        s->rs_size[u] = sizes[u] > 0 ? sizes[u] : 1;
        s->rs_ring[u] = calloc((size_t)s->rs_size[u], sizeof(double));
        s->rs_pos[u] = 0;
    }
    const double ways = s->cfg.l2_ways >= 1.0 ? s->cfg.l2_ways : 1.0;
    const double sets = s->cfg.l2_kib * 1024.0 / (double)(1 << DLAC_LINE_SHIFT) / ways;
    if (sets >= 1.0) {
        s->l2_ways = (uint32_t)ways;
        s->l2_sets = (uint32_t)sets;
        s->l2_tag = calloc((size_t)s->l2_sets * s->l2_ways, sizeof(uint64_t));
    }
    timing_mem_reset(s);
    int cmds = s->cfg.max_in_flight / s->cfg.dim + 1;
    s->dma_cmds = cmds < 1 ? 1 : (cmds > DLAC_DMA_CMDS_MAX ? DLAC_DMA_CMDS_MAX : cmds);
}

void timing_mem_reset(dlac_sim *s) {
    if (s->l2_tag) memset(s->l2_tag, 0, (size_t)s->l2_sets * s->l2_ways * sizeof(uint64_t));
    if (s->l2_seen) memset(s->l2_seen, 0, s->l2_seen_cap * sizeof(uint64_t));
    s->l2_seen_n = 0;
    s->l2_lfsr = 0x2545F4914F6CDD1Dull;
    s->tlb_fill[0] = s->tlb_fill[1] = 0;
}

double timing_drained(const dlac_sim *s) {
    double t = s->done_max;
    for (int u = 0; u < UNIT_COUNT; u++) t = dmax(t, s->unit_free[u]);
    return dmax(t, dmax(s->loop_end[0], s->loop_end[1]));
}
