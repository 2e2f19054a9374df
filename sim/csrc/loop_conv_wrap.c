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
 * Charging ~65536 rows of mvins one by one would cost seconds per tile, so the first rows
 * run through the core and the rest advance the load unit by the steady per-row cost of the
 * last of them (every real row issues the same mvins).
 */
#include "loop_common.h"
#include "sim_internal.h"

#define WRAP_EXACT_ROWS 16u   /* real rows run through the core before extrapolating */
#define WRAP_MEASURE_FROM 8u  /* steady-state cost measured over rows [8, 16) */

static uint32_t wrap16(int64_t v) { return (uint32_t)(v & 0xFFFF); }

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

/* One loader row: its mvins left to right (padding segments move zeros in). */
static int wrap_row(dlac_sim *s, fsm *f, const conv_args *c, int64_t irow, uint32_t rows_unp,
                    uint32_t cols_unp, uint32_t b, wrap_dst *d) {
    const int64_t dim = s->dim, lpad = c->lpad, rpad = c->rpad;
    const int64_t max_chs = c->kchs < (uint32_t)(s->mbl * s->dim) ? c->kchs : (uint32_t)(s->mbl * s->dim);
    for (int64_t icol = -lpad; icol < (int64_t)cols_unp + rpad;) {
        int64_t n;
        if (icol < 0) n = -icol < dim ? -icol : dim;
        else if (icol >= (int64_t)cols_unp) n = (int64_t)cols_unp + rpad - icol < dim ? (int64_t)cols_unp + rpad - icol : dim;
        else n = (int64_t)cols_unp - icol < dim ? (int64_t)cols_unp - icol : dim;
        const int zero = irow < 0 || irow >= (int64_t)rows_unp || icol < 0 || icol >= (int64_t)cols_unp;
        for (int64_t ich = 0; ich < (int64_t)c->kchs; ich += max_chs) {
            const int64_t k = (int64_t)c->kchs - ich < max_chs ? (int64_t)c->kchs - ich : max_chs;
            const uint64_t addr = zero ? 0 : c->input + (((uint64_t)b * c->in_row_dim + (uint64_t)irow) *
                                                         c->in_col_dim + (uint64_t)icol) * c->in_stride +
                                                 (uint64_t)ich;
            const uint32_t dst = wrap_dst_take(d, (uint32_t)n);
            if (sim_exec(s, F_MVIN, addr, operand((uint32_t)n, (uint32_t)k, dst), &f->ld)) return -1;
        }
        icol += n;
    }
    return 0;
}

/* Move every load-side clock `delta` cycles later: `rows` more rows like the last ones. */
static void wrap_advance(dlac_sim *s, fsm *f, double delta) {
    s->unit_free[UNIT_LD] += delta;
    *f->ld.clock += delta;
    for (int i = 0; i < s->rs_size[UNIT_LD]; i++) {
        s->rs_ring[UNIT_LD][i] += delta;
        if (s->rs_ring[UNIT_LD][i] > s->done_max) s->done_max = s->rs_ring[UNIT_LD][i];
        if (s->rs_ring[UNIT_LD][i] > s->loop_done) s->loop_done = s->rs_ring[UNIT_LD][i];
    }
}

int sim_conv_wrapped_input(dlac_sim *s, fsm *f, const conv_args *c, uint32_t irows, uint32_t icols,
                           uint32_t a_base, uint32_t free_rows) {
    if (!s->cfg.timing_only)
        return sim_assert_fail(s, "loop_conv_ws: padding larger than the input tile (the RTL "
                                  "loads past the image: timing-only)");
    const uint32_t rows_unp = wrap16((int64_t)irows - c->upad - c->dpad);
    const uint32_t cols_unp = wrap16((int64_t)icols - c->lpad - c->rpad);
    wrap_dst d = {a_base, free_rows, 0};
    for (uint32_t b = 0; b < c->batches; b++) {
        for (int64_t irow = -(int64_t)c->upad; irow < 0; irow++)
            if (wrap_row(s, f, c, irow, rows_unp, cols_unp, b, &d)) return -1;
        double t0 = 0.0, busy0 = 0.0;
        uint64_t reads0 = 0, mvins0 = 0;
        const uint32_t exact = rows_unp < WRAP_EXACT_ROWS ? rows_unp : WRAP_EXACT_ROWS;
        for (uint32_t r = 0; r < exact; r++) {
            if (r == WRAP_MEASURE_FROM) {
                t0 = *f->ld.clock > s->unit_free[UNIT_LD] ? *f->ld.clock : s->unit_free[UNIT_LD];
                busy0 = s->st.busy_ld, reads0 = s->st.dram_reads, mvins0 = s->st.counts[DLAC_CLS_MVIN];
            }
            if (wrap_row(s, f, c, r, rows_unp, cols_unp, b, &d)) return -1;
        }
        if (rows_unp > exact) {
            const double span = WRAP_EXACT_ROWS - WRAP_MEASURE_FROM, more = rows_unp - exact;
            const double t1 = *f->ld.clock > s->unit_free[UNIT_LD] ? *f->ld.clock : s->unit_free[UNIT_LD];
            wrap_advance(s, f, (t1 - t0) / span * more);
            s->st.busy_ld += (s->st.busy_ld - busy0) / span * more;
            s->st.dram_reads += (uint64_t)((double)(s->st.dram_reads - reads0) / span * more);
            s->st.counts[DLAC_CLS_MVIN] += (uint64_t)((double)(s->st.counts[DLAC_CLS_MVIN] - mvins0) / span * more);
        }
        for (int64_t irow = rows_unp; irow < (int64_t)rows_unp + c->dpad; irow++)
            if (wrap_row(s, f, c, irow, rows_unp, cols_unp, b, &d)) return -1;
    }
    return 0;
}
