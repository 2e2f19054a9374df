/* Hot timing helpers (inlined into the instruction handlers); see timing.c. */
#ifndef DLAC_SIM_TIMING_H
#define DLAC_SIM_TIMING_H

#include <stdlib.h>

#include "sim_internal.h"

static inline double tdmax(double a, double b) { return a > b ? a : b; }

static inline double timing_issue(dlac_sim *s, int unit, issuer *who) {
    double t = tdmax(*who->clock, s->rs_ring[unit][s->rs_pos[unit]]);
    *who->clock = t + who->cost;
    return t;
}

static inline void timing_retire(dlac_sim *s, int unit, double done) {
    s->rs_ring[unit][s->rs_pos[unit]] = done;
    s->rs_pos[unit] = (s->rs_pos[unit] + 1) % s->rs_size[unit];
    s->done_max = tdmax(s->done_max, done);
    s->loop_done = tdmax(s->loop_done, done);
}

static inline double timing_rows_ready(const dlac_sim *s, laddr a, uint32_t n, uint32_t step, int wait) {
    if (a.garbage) return 0.0;
    const uint32_t limit = (uint32_t)(a.is_acc ? s->acc_rows : s->sp_rows);
    double t = 0.0;
    for (int e = 0; e < ROW_EVENTS; e++) {
        if (!(wait & (1 << e))) continue;
        const double *when = s->row_t[a.is_acc][e];
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = a.row + i * step;
            if (r >= limit) break;
            t = tdmax(t, when[r]);
        }
    }
    return t;
}

static inline void timing_rows_mark(dlac_sim *s, laddr a, uint32_t n, uint32_t step, double t, int event) {
    if (a.garbage) return;
    double *arr = s->row_t[a.is_acc][event];
    const uint32_t limit = (uint32_t)(a.is_acc ? s->acc_rows : s->sp_rows);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = a.row + i * step;
        if (r >= limit) break;
        arr[r] = tdmax(arr[r], t);
    }
}

/* Cycles the DMA spends on address translation for `rows` rows of `row_bytes` bytes at
 * `addr` + r * `stride`: each row's pages go through a small LRU TLB (Gemmini's DMA has a
 * private few-entry TLB per direction); every miss waits for a page-table walk. */
static inline double timing_tlb(dlac_sim *s, int dir, uint64_t addr, uint64_t rows,
                                uint64_t stride, uint64_t row_bytes) {
    int n = (int)s->cfg.tlb_entries;
    if (n <= 0 || s->cfg.tlb_miss_cycles <= 0.0 || row_bytes == 0) return 0.0;
    if (n > DLAC_TLB_MAX) n = DLAC_TLB_MAX;
    uint64_t *tlb = s->tlb_page[dir];
    double misses = 0.0;
    for (uint64_t r = 0; r < rows; r++) {
        const uint64_t a = addr + r * stride;
        for (uint64_t p = a >> DLAC_PAGE_SHIFT; p <= (a + row_bytes - 1) >> DLAC_PAGE_SHIFT; p++) {
            int hit = -1;
            for (int i = 0; i < s->tlb_fill[dir]; i++)
                if (tlb[i] == p) { hit = i; break; }
            if (hit < 0) {
                misses += 1.0;
                if (s->tlb_fill[dir] < n) s->tlb_fill[dir]++;
                hit = s->tlb_fill[dir] - 1;
            }
            for (int i = hit; i > 0; i--) tlb[i] = tlb[i - 1];
            tlb[0] = p;
        }
    }
    return misses * s->cfg.tlb_miss_cycles;
}

/* LoadController and StoreController each track their DMA commands in a DMACommandTracker
 * of max_in_flight_mem_reqs / DIM + 1 entries: a mvin (mvout) sends no request until the
 * mvin (mvout) that many commands earlier has all its responses back. At DIM >= 32 with 16
 * in-flight requests that is one command at a time, each paying a full memory round trip. */
static inline double timing_dma_cmd_slot(const dlac_sim *s, int dir) {
    return s->dma_cmd_done[dir][s->dma_cmd_pos[dir]];
}

static inline void timing_dma_cmd_done(dlac_sim *s, int dir, double done) {
    s->dma_cmd_done[dir][s->dma_cmd_pos[dir]] = done;
    s->dma_cmd_pos[dir] = (s->dma_cmd_pos[dir] + 1) % s->dma_cmds;
}

/* Latency of one DMA command's requests: the call's memory latency plus, for the share of
 * the 64-byte lines of its `rows` rows (at `addr` + r * `stride`) that miss the L2,
 * l2_miss_cycles. Every line goes through the L2's sets (allocating on a miss, random victim), so
 * rows on a power-of-two stride crowd into few sets and evict each other. A line's first
 * touch misses only with the share of the call's working set the L2 cannot hold. */
/* Records `line` as touched; 1 if it was not before. */
static inline int timing_l2_first_touch(dlac_sim *s, uint64_t line) {
    if (2 * (s->l2_seen_n + 1) > s->l2_seen_cap) {
        const size_t cap = s->l2_seen_cap ? 2 * s->l2_seen_cap : 4096;
        uint64_t *old = s->l2_seen, *fresh = calloc(cap, sizeof(uint64_t));
        if (!fresh) return 0;
        for (size_t i = 0; i < s->l2_seen_cap; i++) {
            if (!old[i]) continue;
            size_t h = (size_t)((old[i] * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
            while (fresh[h]) h = (h + 1) & (cap - 1);
            fresh[h] = old[i];
        }
        free(old);
        s->l2_seen = fresh;
        s->l2_seen_cap = cap;
    }
    const uint64_t key = line + 1;
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (s->l2_seen_cap - 1);
    while (s->l2_seen[h]) {
        if (s->l2_seen[h] == key) return 0;
        h = (h + 1) & (s->l2_seen_cap - 1);
    }
    s->l2_seen[h] = key;
    s->l2_seen_n++;
    return 1;
}

static inline double timing_l2_latency(dlac_sim *s, uint64_t addr, uint64_t rows,
                                       uint64_t stride, uint64_t row_bytes) {
    if (!s->l2_tag || row_bytes == 0 || rows == 0) return s->mem_latency;
    const uint32_t ways = s->l2_ways;
    double lines = 0.0, misses = 0.0;
    for (uint64_t r = 0; r < rows; r++) {
        const uint64_t a = addr + r * stride;
        for (uint64_t l = a >> DLAC_LINE_SHIFT; l <= (a + row_bytes - 1) >> DLAC_LINE_SHIFT; l++) {
            uint64_t *set = s->l2_tag + (size_t)(l % s->l2_sets) * ways;
            const uint64_t tag = l + 1;
            int found = 0;
            for (uint32_t w = 0; w < ways; w++)
                if (set[w] == tag) { found = 1; break; }
            lines += 1.0;
            if (found) continue;
            misses += timing_l2_first_touch(s, l) ? s->l2_cold_share : 1.0;
            uint32_t victim = ways;
            for (uint32_t w = 0; w < ways; w++)
                if (!set[w]) { victim = w; break; }
            if (victim == ways) {
                s->l2_lfsr ^= s->l2_lfsr << 13; s->l2_lfsr ^= s->l2_lfsr >> 7; s->l2_lfsr ^= s->l2_lfsr << 17;
                victim = (uint32_t)(s->l2_lfsr % ways);
            }
            set[victim] = tag;
        }
    }
    return s->mem_latency + misses / lines * s->cfg.l2_miss_cycles;
}

static inline double timing_dma_occupancy(const dlac_sim *s, uint64_t bytes, uint64_t requests,
                                          double latency) {
    /* Bytes are limited by the bus (and DRAM bandwidth on LLC misses); requests by the
     * in-flight window: at most max_in_flight outstanding, each held for one latency. */
    const double m = s->miss_frac;
    double bus = (double)s->cfg.dma_bus_bytes;
    double dram_bw = s->cfg.dram_bytes_per_cycle < bus ? s->cfg.dram_bytes_per_cycle : bus;
    double byte_t = (double)bytes * ((1.0 - m) / bus + m / dram_bw);
    double req_t = (double)requests * latency / (double)s->cfg.max_in_flight;
    return tdmax(tdmax(byte_t, req_t), (double)requests * s->cfg.dma_req_cycles);
}

#endif
