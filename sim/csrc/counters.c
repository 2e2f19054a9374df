/* Gemmini's performance counters (CounterController): eight counters, each counting one
 * event since its last reset; a snapshot freezes all eight until it is released.  The
 * events are read off the simulator's own state at the CPU's clock: a unit's active
 * cycles are its occupancy so far, the reservation stations' fill is the number of
 * issued instructions of a unit not yet complete, the DMA counters are the bytes moved.
 * Events the simulator does not model read as zero.
 */
#include "sim_internal.h"

enum { EV_LD_CYCLES = 1, EV_ST_CYCLES = 2, EV_EX_CYCLES = 3, EV_LOAD_ACTIVE = 9,
       EV_STORE_ACTIVE = 12, EV_EXE_ACTIVE = 24 };
enum { EXT_RS_LD = 1, EXT_RS_ST = 2, EXT_RS_EX = 3, EXT_RDMA_BYTES = 4, EXT_WDMA_BYTES = 5 };

/* Occupancy of `unit` that has elapsed by the CPU's clock. */
static double unit_active(const dlac_sim *s, int unit, double busy) {
    double pending = s->unit_free[unit] - s->host_t;
    if (pending < 0.0) pending = 0.0;
    if (pending > busy) pending = busy;
    return busy - pending;
}

static double rs_fill(const dlac_sim *s, int unit) {
    int n = 0;
    for (int i = 0; i < s->rs_size[unit]; i++) n += s->rs_ring[unit][i] > s->host_t;
    return (double)n;
}

static double event_value(const dlac_sim *s, uint32_t event, int external) {
    if (external) {
        switch (event) {
        case EXT_RS_LD: return rs_fill(s, UNIT_LD);
        case EXT_RS_ST: return rs_fill(s, UNIT_ST);
        case EXT_RS_EX: return rs_fill(s, UNIT_EX);
        case EXT_RDMA_BYTES: return (double)s->st.dram_reads;
        case EXT_WDMA_BYTES: return (double)s->st.dram_writes;
        default: return 0.0;
        }
    }
    switch (event) {
    case EV_LD_CYCLES:
    case EV_LOAD_ACTIVE: return unit_active(s, UNIT_LD, s->st.busy_ld);
    case EV_ST_CYCLES:
    case EV_STORE_ACTIVE: return unit_active(s, UNIT_ST, s->st.busy_st);
    case EV_EX_CYCLES:
    case EV_EXE_ACTIVE: return unit_active(s, UNIT_EX, s->st.busy_ex);
    default: return 0.0;
    }
}

/* Counts since the last reset (the reservation stations' fill is a level, not a count). */
static double counter_value(const dlac_sim *s, int i) {
    const uint32_t ev = s->ctr_event[i];
    const int ext = s->ctr_external[i];
    const double v = event_value(s, ev, ext);
    return ext && ev <= EXT_RS_EX ? v : v - s->ctr_base[i];
}

uint32_t dlac_sim_counter(dlac_sim *s, uint32_t config) {
    dlac_sim_issue(s, F_COUNTER, config, 0);
    const int idx = (int)((config >> 4) & 7);
    if (config & 1)
        for (int i = 0; i < 8; i++) s->ctr_base[i] = event_value(s, s->ctr_event[i], s->ctr_external[i]);
    if (config & 2) s->ctr_snap_on = 0;
    if (config & 4) {
        for (int i = 0; i < 8; i++) s->ctr_snap[i] = counter_value(s, i);
        s->ctr_snap_on = 1;
    }
    if (config & 8) {
        s->ctr_event[idx] = (config >> 12) & 0x3F;
        s->ctr_external[idx] = (int)((config >> 31) & 1);
        s->ctr_base[idx] = event_value(s, s->ctr_event[idx], s->ctr_external[idx]);
    }
    const double v = s->ctr_snap_on ? s->ctr_snap[idx] : counter_value(s, idx);
    return v > 0.0 ? (uint32_t)v : 0u;
}
