/* LoopConv's input loader when a tile's padding exceeds its input window (timing only).
 *
 * Gemmini's gemmini.h tiled_conv passes upad = padding - irow (and likewise dpad, lpad, rpad)
 * without clamping them to the tile's window.  At an image edge a split kernel tile (krows or
 * kcols below the kernel) can get more padding than its window has rows: 7x7 stride 2 padding
 * 3 with one output row and krows 1 has irows = 2 but upad = 3.  LoopConvDerivedParams
 * (ucb-bar/gemmini 8c3f992, src/main/scala/gemmini/LoopConv.scala: irows_unpadded :=
 * irows -& upad -& dpad) stores that difference in a 16-bit UInt (small_iterator_bitwidth),
 * so it wraps to about 65536 and LoopConvLdInput moves in that many image rows (is_zeros is
 * false for 0 <= irow < irows_unpadded) before the tile may compute.  The data is garbage,
 * the time is real: DOSA's FireSim runs of such tilings measure 10-100x the rest of their
 * layer (docs/simulator.md).  The simulator charges those loads; it does not execute them.
 *
 * Charging ~65536 rows of mvins one by one would cost seconds per tile, so of a run of like
 * steps (image rows; a row's full-width column steps) the first WRAP_EXACT go through the
 * core and the rest advance the load unit by the steady cost of the last of them.
 */
#include "loop_common.h"
#include "sim_internal.h"

#define WRAP_EXACT 16u        /* steps of a run that go through the core */
#define WRAP_MEASURE_FROM 8u  /* steady cost measured over steps [8, 16) */

static uint32_t wrap16(int64_t v) { return (uint32_t)(v & 0xFFFF); }
static int64_t imin64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Where the wrapped loads land: the RTL's destination runs on through the scratchpad, so
 * successive mvins write different rows; they rotate through the tile's free region here
 * (reusing a few rows would make each mvin wait for the last one's write). */
typedef struct wrap_dst {
    uint32_t base, rows, next;
} wrap_dst;

static uint32_t wrap_dst_take(wrap_dst *d, uint32_t n) {
    if (d->next + n > d->rows) d->next = 0;
    const uint32_t row = d->base + d->next;
    d->next += n;
    return row;
}

/* The load side's progress and counters at one point of a run. */
typedef struct wrap_mark {
    double t, busy;
    uint64_t reads, mvins;
} wrap_mark;

static double load_clock(const dlac_sim *s, const fsm *f) {
    return *f->ld.clock > s->unit_free[UNIT_LD] ? *f->ld.clock : s->unit_free[UNIT_LD];
}

static wrap_mark wrap_mark_now(const dlac_sim *s, const fsm *f) {
    wrap_mark m = {load_clock(s, f), s->st.busy_ld, s->st.dram_reads, s->st.counts[DLAC_CLS_MVIN]};
    return m;
}

/* `more` further steps like those since `m` (`span` steps): every load-side clock moves on
 * by their time, the counters by their counts. */
static void wrap_extrapolate(dlac_sim *s, fsm *f, wrap_mark m, double span, double more) {
    const double k = more / span, delta = (load_clock(s, f) - m.t) * k;
    s->unit_free[UNIT_LD] += delta;
    *f->ld.clock += delta;
    for (int i = 0; i < s->dma_cmds; i++) s->dma_cmd_done[0][i] += delta;
    for (int i = 0; i < s->rs_size[UNIT_LD]; i++) {
        s->rs_ring[UNIT_LD][i] += delta;
        if (s->rs_ring[UNIT_LD][i] > s->done_max) s->done_max = s->rs_ring[UNIT_LD][i];
        if (s->rs_ring[UNIT_LD][i] > s->loop_done) s->loop_done = s->rs_ring[UNIT_LD][i];
    }
    s->st.busy_ld += (s->st.busy_ld - m.busy) * k;
    s->st.dram_reads += (uint64_t)((double)(s->st.dram_reads - m.reads) * k);
    s->st.counts[DLAC_CLS_MVIN] += (uint64_t)((double)(s->st.counts[DLAC_CLS_MVIN] - m.mvins) * k);
}

typedef struct wrap_tile {
    const conv_args *c;
    uint32_t rows_unp, cols_unp, b;
    int64_t max_chs;
    wrap_dst d;
} wrap_tile;

/* One column step of a loader row: `n` pixels from `icol`, every channel chunk. */
static int wrap_step(dlac_sim *s, fsm *f, wrap_tile *w, int64_t irow, int64_t icol, int64_t n) {
    const conv_args *c = w->c;
    const int zero = irow < 0 || irow >= (int64_t)w->rows_unp || icol < 0 || icol >= (int64_t)w->cols_unp;
    for (int64_t ich = 0; ich < (int64_t)c->kchs; ich += w->max_chs) {
        const int64_t k = imin64((int64_t)c->kchs - ich, w->max_chs);
        const uint64_t addr = zero ? 0 : c->input + (((uint64_t)w->b * c->in_row_dim + (uint64_t)irow) *
                                                     c->in_col_dim + (uint64_t)icol) * c->in_stride +
                                             (uint64_t)ich;
        const uint32_t dst = wrap_dst_take(&w->d, (uint32_t)n);
        if (sim_exec(s, F_MVIN, addr, operand((uint32_t)n, (uint32_t)k, dst), &f->ld)) return -1;
    }
    return 0;
}

/* One loader row: padding steps, full-width steps (a run), the rest. */
static int wrap_row(dlac_sim *s, fsm *f, wrap_tile *w, int64_t irow) {
    const int64_t dim = s->dim, cu = w->cols_unp, end = cu + w->c->rpad;
    int64_t icol = -(int64_t)w->c->lpad;
    for (; icol < 0; icol += imin64(-icol, dim))
        if (wrap_step(s, f, w, irow, icol, imin64(-icol, dim))) return -1;
    const int64_t full = cu / dim, exact = imin64(full, WRAP_EXACT);
    wrap_mark m = {0};
    for (int64_t i = 0; i < exact; i++, icol += dim) {
        if (i == WRAP_MEASURE_FROM) m = wrap_mark_now(s, f);
        if (wrap_step(s, f, w, irow, icol, dim)) return -1;
    }
    if (full > exact) {
        wrap_extrapolate(s, f, m, WRAP_EXACT - WRAP_MEASURE_FROM, (double)(full - exact));
        icol = full * dim;
    }
    for (; icol < end; icol += imin64((icol < cu ? cu : end) - icol, dim))
        if (wrap_step(s, f, w, irow, icol, imin64((icol < cu ? cu : end) - icol, dim))) return -1;
    return 0;
}

int sim_conv_wrapped_input(dlac_sim *s, fsm *f, const conv_args *c, uint32_t irows, uint32_t icols,
                           uint32_t a_base, uint32_t free_rows) {
    if (!s->cfg.timing_only)
        return sim_assert_fail(s, "loop_conv_ws: padding larger than the input tile (the RTL "
                                  "loads past the image: timing-only)");
    const int64_t mbl_chs = (int64_t)s->mbl * s->dim;
    wrap_tile w = {c, wrap16((int64_t)irows - c->upad - c->dpad),
                   wrap16((int64_t)icols - c->lpad - c->rpad), 0,
                   imin64((int64_t)c->kchs, mbl_chs), {a_base, free_rows, 0}};
    for (w.b = 0; w.b < c->batches; w.b++) {
        for (int64_t irow = -(int64_t)c->upad; irow < 0; irow++)
            if (wrap_row(s, f, &w, irow)) return -1;
        const uint32_t exact = w.rows_unp < WRAP_EXACT ? w.rows_unp : WRAP_EXACT;
        wrap_mark m = {0};
        for (uint32_t r = 0; r < exact; r++) {
            if (r == WRAP_MEASURE_FROM) m = wrap_mark_now(s, f);
            if (wrap_row(s, f, &w, r)) return -1;
        }
        if (w.rows_unp > exact)
            wrap_extrapolate(s, f, m, WRAP_EXACT - WRAP_MEASURE_FROM, (double)(w.rows_unp - exact));
        for (int64_t irow = w.rows_unp; irow < (int64_t)w.rows_unp + c->dpad; irow++)
            if (wrap_row(s, f, &w, irow)) return -1;
    }
    return 0;
}
