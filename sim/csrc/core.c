/* Gemmini instruction semantics (bit-exact int8/int32) plus each instruction's timing.
 *
 * One function per instruction kind.  Functional work is skipped in timing-only mode;
 * every timing decision depends only on operands and configuration, never on data, so
 * both modes give identical cycle counts.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "timing.h"

static dlac_sim *g_current;

static double dmax(double a, double b) { return a > b ? a : b; }
static uint32_t u_min(uint32_t a, uint32_t b) { return a < b ? a : b; }

laddr sim_decode(uint32_t a) {
    laddr l;
    l.garbage = a == GARBAGE_LADDR;
    l.is_acc = (a >> 31) & 1;
    l.accumulate = (a >> 30) & 1;
    l.full = (a >> 29) & 1;
    l.row = a & LADDR_ROW_MASK;
    return l;
}

int sim_assert_fail(dlac_sim *s, const char *fmt, ...) {
    if (s->failed) return -1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(s->err, sizeof s->err, "instruction %llu: %s",
             (unsigned long long)(s->st.instructions ? s->st.instructions - 1 : 0), msg);
    s->failed = 1;
    if (s->cfg.die_on_error) {
        fprintf(stderr, "gemmini-sim: %s\n", s->err);
        exit(2);
    }
    return -1;
}

static float bits_to_float(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* int -> float32 (RNE), times scale (RNE), round half to even, saturate to int8. */
static int32_t scale_sat8(int32_t x, float scale) {
    float y = nearbyintf((float)x * scale);
    if (!(y >= -128.0f)) return y != y ? 0 : -128;
    if (y > 127.0f) return 127;
    return (int32_t)y;
}

static int64_t rounding_right_shift(int64_t x, uint32_t shift) {
    if (shift == 0) return x;
    if (shift >= 63) return 0;
    int64_t kept = x >> shift;
    int64_t half_bit = (x >> (shift - 1)) & 1;
    int64_t lower = x & (((int64_t)1 << (shift - 1)) - 1);
    return kept + (half_bit & ((lower != 0) | (kept & 1)));
}

static int32_t clip(int64_t x, int64_t lo, int64_t hi) {
    return (int32_t)(x < lo ? lo : (x > hi ? hi : x));
}

static int check_range(dlac_sim *s, const char *what, laddr a, uint32_t last_row) {
    uint32_t limit = (uint32_t)(a.is_acc ? s->acc_rows : s->sp_rows);
    if (a.row >= limit || last_row >= limit)
        return sim_assert_fail(s, "%s address out of range: %s row %u (size %u rows)", what,
                               a.is_acc ? "accumulator" : "scratchpad", last_row, limit);
    return 0;
}

static void count_class(dlac_sim *s, int cls) { s->st.counts[cls]++; }

/* ---- configuration ---------------------------------------------------------------- */

static int exec_config(dlac_sim *s, uint64_t rs1, uint64_t rs2, issuer *who) {
    int kind = (int)(rs1 & 3);
    int unit = kind == 0 ? UNIT_EX : (kind == 1 ? UNIT_LD : UNIT_ST);
    double t = timing_issue(s, unit, who);
    double start = dmax(t, s->unit_free[unit]);
    if (kind == 0) {
        count_class(s, DLAC_CLS_CONFIG_EX);
        uint32_t a_stride = (uint32_t)((rs1 >> 16) & 0xFFFF);
        uint32_t c_stride = (uint32_t)((rs2 >> 48) & 0xFFFF);
        if (!((rs1 >> 7) & 1)) {
            int df = (int)((rs1 >> 2) & 1);
            int at = (int)((rs1 >> 8) & 1), bt = (int)((rs1 >> 9) & 1);
            if (df == 0 && !at && bt)
                return sim_assert_fail(s, "config_ex: OS does not support transposing only B");
            if (df == 1 && at && bt)
                return sim_assert_fail(s, "config_ex: WS cannot transpose both A and B");
            if (df != s->dataflow) {
                /* The array must drain before the dataflow flips. */
                start = dmax(start, s->done_max);
            }
            s->dataflow = df;
            s->sys_act = (int)((rs1 >> 3) & 3);
            s->a_transpose = at;
            s->b_transpose = bt;
            s->sys_shift = (uint32_t)(rs2 & 0xFFFFFFFFu);
            if (s->sys_act > 1)
                return sim_assert_fail(s, "config_ex: activation %d is not supported",
                                       s->sys_act);
        }
        s->a_stride = a_stride ? a_stride : 1;
        s->c_stride = c_stride ? c_stride : 1;
    } else if (kind == 1) {
        count_class(s, DLAC_CLS_CONFIG_LD);
        int id = (int)((rs1 >> 3) & 3);
        if (id > 2) return sim_assert_fail(s, "config_ld: mvin id %d does not exist", id);
        ld_config *c = &s->ld[id];
        c->shrunk = (int)((rs1 >> 2) & 1);
        c->pixel_repeats = (uint32_t)((rs1 >> 8) & 0xFF);
        c->block_stride = (uint32_t)((rs1 >> 16) & 0xFFFF);
        c->scale = bits_to_float((uint32_t)(rs1 >> 32));
        c->stride = rs2;
        if (c->pixel_repeats > 1)
            return sim_assert_fail(s, "config_ld: pixel_repeats > 1 is not supported");
        if (!s->cfg.has_mvin_scale && c->scale != 1.0f)
            return sim_assert_fail(s, "config_ld: this target has no mvin scaling");
    } else if (kind == 2) {
        count_class(s, DLAC_CLS_CONFIG_ST);
        s->st_act = (int)((rs1 >> 2) & 3);
        s->st_pool_stride = (int)((rs1 >> 4) & 3);
        s->pool_size = (uint32_t)((rs1 >> 6) & 3);
        s->pool_upad = (uint32_t)((rs1 >> 8) & 3);
        s->pool_lpad = (uint32_t)((rs1 >> 10) & 3);
        s->pool_out_dim = (uint32_t)((rs1 >> 24) & 0xFF);
        s->pool_porows = (uint32_t)((rs1 >> 32) & 0xFF);
        s->pool_pocols = (uint32_t)((rs1 >> 40) & 0xFF);
        s->pool_orows = (uint32_t)((rs1 >> 48) & 0xFF);
        s->pool_ocols = (uint32_t)((rs1 >> 56) & 0xFF);
        s->st_stride = rs2 & 0xFFFFFFFFu;
        s->st_scale = bits_to_float((uint32_t)(rs2 >> 32));
        if (s->st_act > 1)
            return sim_assert_fail(s, "config_st: activation %d is not supported", s->st_act);
    } else {
        count_class(s, DLAC_CLS_CONFIG_OTHER);
        return sim_assert_fail(s, "config_norm is not supported (no normalization unit)");
    }
    s->unit_free[unit] = start + 1.0;
    timing_retire(s, unit, start + 1.0);
    return 0;
}

/* ---- data movement ---------------------------------------------------------------- */

static int exec_mvin(dlac_sim *s, int id, uint64_t rs1, uint64_t rs2, issuer *who) {
    count_class(s, DLAC_CLS_MVIN);
    const ld_config *c = &s->ld[id];
    const uint32_t rows = (uint32_t)((rs2 >> 48) & 0xFFFF);
    const uint32_t cols = (uint32_t)((rs2 >> 32) & 0xFFFF);
    const laddr a = sim_decode((uint32_t)rs2);
    const int dim = s->dim;
    if (a.garbage) return sim_assert_fail(s, "mvin to the garbage address");
    if (rows == 0 || cols == 0) return sim_assert_fail(s, "mvin of an empty block");
    if (rows > (uint32_t)dim) return sim_assert_fail(s, "mvin rows %u > DIM %d", rows, dim);
    const int wide = a.is_acc && !c->shrunk;
    const uint32_t max_cols = (uint32_t)((wide ? s->mbl_acc : s->mbl) * dim);
    if (cols > max_cols)
        return sim_assert_fail(s, "mvin cols %u > %u (MAX_BLOCK_LEN%s*DIM)", cols, max_cols,
                               wide ? "_ACC" : "");
    const uint32_t nblocks = (cols + (uint32_t)dim - 1) / (uint32_t)dim;
    const uint32_t bstride = c->block_stride ? c->block_stride : (uint32_t)dim;
    if (nblocks > 1 && bstride < rows)
        return sim_assert_fail(s, "mvin block_stride %u < rows %u", bstride, rows);
    if (check_range(s, "mvin", a, a.row + (nblocks - 1) * bstride + rows - 1)) return -1;

    const uint64_t dram = rs1;
    const int ebytes = wide ? 4 : 1;
    if (!s->cfg.timing_only) {
        for (uint32_t r = 0; r < rows; r++) {
            const uint8_t *src = dram ? (const uint8_t *)(uintptr_t)(dram + (c->stride ? r * c->stride : 0))
                                      : NULL;
            for (uint32_t b = 0; b < nblocks; b++) {
                uint32_t row = a.row + r + b * bstride;
                uint32_t n = u_min((uint32_t)dim, cols - b * (uint32_t)dim);
                if (!a.is_acc) {
                    int8_t *dst = s->spad + (size_t)row * dim;
                    for (uint32_t j = 0; j < n; j++) {
                        int32_t v = src ? (int8_t)src[b * dim + j] : 0;
                        if (src && c->scale != 1.0f) v = scale_sat8(v, c->scale);
                        dst[j] = (int8_t)v;
                    }
                } else {
                    int32_t *dst = s->acc + (size_t)row * dim;
                    for (uint32_t j = 0; j < n; j++) {
                        int32_t v = 0;
                        if (src && wide) {
                            memcpy(&v, src + (size_t)(b * dim + j) * 4, 4);
                        } else if (src) {
                            v = (int8_t)src[b * dim + j];
                            if (c->scale != 1.0f) v = scale_sat8(v, c->scale);
                        }
                        dst[j] = a.accumulate ? (int32_t)((uint32_t)dst[j] + (uint32_t)v) : v;
                    }
                }
            }
        }
    }
    /* timing */
    double t = timing_issue(s, UNIT_LD, who);
    double start = dmax(dmax(t, s->unit_free[UNIT_LD]), timing_dma_cmd_slot(s, 0));
    for (uint32_t b = 0; b < nblocks; b++) {
        laddr blk = a;
        blk.row = a.row + b * bstride;
        start = dmax(start, timing_rows_ready(s, blk, rows, 1, WAIT_ALL));
    }
    const uint64_t row_bytes = (uint64_t)cols * (uint64_t)ebytes;
    double occ, done;
    if (!dram) {
        occ = (double)rows + s->cfg.mvin_fixed_cycles;
        done = start + occ;
    } else {
        uint64_t read_rows = c->stride ? rows : 1;
        uint64_t reqs = read_rows * ((row_bytes + (uint64_t)s->cfg.dma_max_bytes - 1) /
                                     (uint64_t)s->cfg.dma_max_bytes);
        const double lat = timing_l2_latency(s, dram, read_rows, c->stride, row_bytes);
        occ = timing_dma_occupancy(s, read_rows * row_bytes, reqs, lat) + s->cfg.mvin_fixed_cycles +
              timing_tlb(s, 0, dram, read_rows, c->stride, row_bytes);
        done = start + occ + lat;
        s->st.dram_reads += read_rows * cols;
    }
    s->unit_free[UNIT_LD] = start + occ;
    timing_dma_cmd_done(s, 0, done);
    for (uint32_t b = 0; b < nblocks; b++) {
        laddr blk = a;
        blk.row = a.row + b * bstride;
        timing_rows_mark(s, blk, rows, 1, done, ROW_LD_WR);
    }
    if (a.is_acc) s->st.acc_writes += (uint64_t)rows * cols;
    else s->st.spad_writes += (uint64_t)rows * cols;
    s->st.busy_ld += occ;
    timing_retire(s, UNIT_LD, done);
    return 0;
}

/* One pooled output element: the max over the window of the (scaled, activated)
 * results; window positions outside the tile's orows x ocols count as zero. */
static int8_t pool_value(const dlac_sim *s, laddr a, int porow, int pocol, uint32_t ch) {
    int32_t best = -128;
    for (int wr = 0; wr < (int)s->pool_size; wr++)
        for (int wc = 0; wc < (int)s->pool_size; wc++) {
            const int orow = porow * s->st_pool_stride + wr - (int)s->pool_upad;
            const int ocol = pocol * s->st_pool_stride + wc - (int)s->pool_lpad;
            int32_t v = 0;
            if (orow >= 0 && ocol >= 0 && orow < (int)s->pool_orows && ocol < (int)s->pool_ocols) {
                const size_t row = a.row + (size_t)orow * s->pool_ocols + (size_t)ocol;
                if (a.is_acc) {
                    v = scale_sat8(s->acc[row * s->dim + ch], s->st_scale);
                    if (s->st_act == 1 && v < 0) v = 0;
                } else {
                    v = s->spad[row * s->dim + ch];
                }
            }
            if (v > best) best = v;
        }
    return (int8_t)best;
}

/* mvout with pooling configured: `cols` channels of the tile at `a` (orows x ocols pixels,
 * one per row) max-pooled to porows x pocols pixels, pixel (r, c) written at DRAM
 * rs1 + (r * pool_out_dim + c) * stride. */
static int exec_mvout_pool(dlac_sim *s, uint64_t rs1, uint64_t rs2, issuer *who) {
    const uint32_t cols = (uint32_t)((rs2 >> 32) & 0xFFFF);
    const laddr a = sim_decode((uint32_t)rs2);
    const uint32_t pixels = s->pool_orows * s->pool_ocols, out = s->pool_porows * s->pool_pocols;
    if (a.garbage) return sim_assert_fail(s, "mvout from the garbage address");
    if (rs1 == 0) return sim_assert_fail(s, "mvout to DRAM address 0");
    if (cols == 0 || cols > (uint32_t)s->dim)
        return sim_assert_fail(s, "pooled mvout of %u channels (1..DIM)", cols);
    if (a.is_acc && a.full) return sim_assert_fail(s, "pooled mvout of full-width results");
    if (!pixels || !out || !s->pool_size)
        return sim_assert_fail(s, "pooled mvout with an empty pooling window or tile");
    if (check_range(s, "mvout", a, a.row + pixels - 1)) return -1;
    if (!s->cfg.timing_only)
        for (uint32_t r = 0; r < s->pool_porows; r++)
            for (uint32_t c = 0; c < s->pool_pocols; c++) {
                uint8_t *dst = (uint8_t *)(uintptr_t)(rs1 + ((uint64_t)r * s->pool_out_dim + c) *
                                                                s->st_stride);
                for (uint32_t ch = 0; ch < cols; ch++)
                    dst[ch] = (uint8_t)pool_value(s, a, (int)r, (int)c, ch);
            }
    /* timing: the pooling unit reads every pixel of the tile, the DMA writes the pooled rows */
    double t = timing_issue(s, UNIT_ST, who);
    double start = dmax(dmax(dmax(t, s->unit_free[UNIT_ST]), timing_dma_cmd_slot(s, 1)),
                        timing_rows_ready(s, a, pixels, 1, WAIT_RAW));
    const double lat = timing_l2_latency(s, rs1, out, s->st_stride, cols);
    double occ = dmax((double)pixels * s->pool_size,
                      timing_dma_occupancy(s, (uint64_t)out * cols, out, lat)) +
                 s->cfg.mvout_fixed_cycles + timing_tlb(s, 1, rs1, out, s->st_stride, cols);
    double read_lat = (double)s->cfg.spad_read_delay + (a.is_acc ? s->cfg.acc_latency : 0);
    double done = start + read_lat + occ + lat;
    s->unit_free[UNIT_ST] = start + occ;
    timing_dma_cmd_done(s, 1, done);
    timing_rows_mark(s, a, pixels, 1, start + read_lat + occ, ROW_RD);
    if (a.is_acc) s->st.acc_reads += (uint64_t)pixels * cols;
    else s->st.spad_reads += (uint64_t)pixels * cols;
    s->st.dram_writes += (uint64_t)out * cols;
    s->st.busy_st += occ;
    timing_retire(s, UNIT_ST, done);
    return 0;
}

static int exec_mvout(dlac_sim *s, uint64_t rs1, uint64_t rs2, issuer *who) {
    count_class(s, DLAC_CLS_MVOUT);
    if (s->st_pool_stride) return exec_mvout_pool(s, rs1, rs2, who);
    const uint32_t rows = (uint32_t)((rs2 >> 48) & 0xFFFF);
    const uint32_t cols = (uint32_t)((rs2 >> 32) & 0xFFFF);
    const laddr a = sim_decode((uint32_t)rs2);
    const int dim = s->dim;
    if (a.garbage) return sim_assert_fail(s, "mvout from the garbage address");
    if (rs1 == 0) return sim_assert_fail(s, "mvout to DRAM address 0");
    if (rows == 0 || cols == 0) return sim_assert_fail(s, "mvout of an empty block");
    if (rows > (uint32_t)dim) return sim_assert_fail(s, "mvout rows %u > DIM %d", rows, dim);
    const int full = a.is_acc && a.full;
    if (full && !s->cfg.acc_read_full_width)
        return sim_assert_fail(s, "mvout: full-width accumulator reads are not supported");
    if (a.is_acc && !full && !s->cfg.acc_read_small_width)
        return sim_assert_fail(s, "mvout: scaled accumulator reads are not supported");
    const uint32_t max_cols = (uint32_t)((full ? s->mbl_acc : s->mbl) * dim);
    if (cols > max_cols)
        return sim_assert_fail(s, "mvout cols %u > %u", cols, max_cols);
    const uint32_t nblocks = (cols + (uint32_t)dim - 1) / (uint32_t)dim;
    if (check_range(s, "mvout", a, a.row + (nblocks - 1) * (uint32_t)dim + rows - 1)) return -1;
    const int ebytes = full ? 4 : 1;
    if (!s->cfg.timing_only) {
        for (uint32_t r = 0; r < rows; r++) {
            uint8_t *dst = (uint8_t *)(uintptr_t)(rs1 + r * s->st_stride);
            for (uint32_t b = 0; b < nblocks; b++) {
                uint32_t row = a.row + r + b * (uint32_t)dim;
                uint32_t n = u_min((uint32_t)dim, cols - b * (uint32_t)dim);
                if (!a.is_acc) {
                    memcpy(dst + b * dim, s->spad + (size_t)row * dim, n);
                } else if (full) {
                    memcpy(dst + (size_t)b * dim * 4, s->acc + (size_t)row * dim, (size_t)n * 4);
                } else {
                    const int32_t *src = s->acc + (size_t)row * dim;
                    for (uint32_t j = 0; j < n; j++) {
                        int32_t v = scale_sat8(src[j], s->st_scale);
                        if (s->st_act == 1 && v < 0) v = 0;
                        dst[b * dim + j] = (uint8_t)(int8_t)v;
                    }
                }
            }
        }
    }
    double t = timing_issue(s, UNIT_ST, who);
    double start = dmax(dmax(t, s->unit_free[UNIT_ST]), timing_dma_cmd_slot(s, 1));
    for (uint32_t b = 0; b < nblocks; b++) {
        laddr blk = a;
        blk.row = a.row + b * (uint32_t)dim;
        start = dmax(start, timing_rows_ready(s, blk, rows, 1, WAIT_RAW));
    }
    const uint64_t row_bytes = (uint64_t)cols * (uint64_t)ebytes;
    uint64_t reqs = rows * ((row_bytes + (uint64_t)s->cfg.dma_max_bytes - 1) /
                            (uint64_t)s->cfg.dma_max_bytes);
    const double lat = timing_l2_latency(s, rs1, rows, s->st_stride, row_bytes);
    double occ = timing_dma_occupancy(s, rows * row_bytes, reqs, lat) + s->cfg.mvout_fixed_cycles +
                 timing_tlb(s, 1, rs1, rows, s->st_stride, row_bytes);
    double read_lat = (double)s->cfg.spad_read_delay + (a.is_acc ? s->cfg.acc_latency : 0);
    double done = start + read_lat + occ + lat;
    s->unit_free[UNIT_ST] = start + occ;
    timing_dma_cmd_done(s, 1, done);
    for (uint32_t b = 0; b < nblocks; b++) {
        laddr blk = a;
        blk.row = a.row + b * (uint32_t)dim;
        timing_rows_mark(s, blk, rows, 1, start + read_lat + occ, ROW_RD);
    }
    if (a.is_acc) s->st.acc_reads += (uint64_t)rows * cols;
    else s->st.spad_reads += (uint64_t)rows * cols;
    s->st.dram_writes += (uint64_t)rows * cols;
    s->st.busy_st += occ;
    timing_retire(s, UNIT_ST, done);
    return 0;
}

/* ---- matmul core -------------------------------------------------------------------- */

typedef struct operand {
    laddr a;
    uint32_t rows, cols;
} operand;

static operand decode_operand(uint64_t v) {
    operand o;
    o.a = sim_decode((uint32_t)v);
    o.rows = (uint32_t)((v >> 48) & 0xFFFF);
    o.cols = (uint32_t)((v >> 32) & 0xFFFF);
    return o;
}

static int check_operand(dlac_sim *s, const char *what, operand o, uint32_t step, int spad_only) {
    if (o.a.garbage) return 0;
    if (o.rows > (uint32_t)s->dim || o.cols > (uint32_t)s->dim)
        return sim_assert_fail(s, "%s block %ux%u exceeds DIM %d", what, o.rows, o.cols, s->dim);
    if (spad_only && o.a.is_acc)
        return sim_assert_fail(s, "%s operand must be in the scratchpad", what);
    if (o.rows == 0) return 0;
    return check_range(s, what, o.a, o.a.row + (o.rows - 1) * step);
}

/* D (or zeros) as int32 rows: the starting value of a WS result. */
static void load_d(const dlac_sim *s, operand o, int32_t *out, uint32_t rows) {
    const int dim = s->dim;
    memset(out, 0, sizeof(int32_t) * (size_t)rows * dim);
    if (o.a.garbage) return;
    for (uint32_t r = 0; r < o.rows && r < rows; r++) {
        const int8_t *src = s->spad + (size_t)(o.a.row + r) * dim;
        for (uint32_t c = 0; c < o.cols; c++) out[(size_t)r * dim + c] = src[c];
    }
}

static void write_results(dlac_sim *s, operand c, const int32_t *vals) {
    const int dim = s->dim;
    for (uint32_t i = 0; i < c.rows; i++) {
        uint32_t row = c.a.row + i * s->c_stride;
        const int32_t *v = vals + (size_t)i * dim;
        if (c.a.is_acc) {
            int32_t *dst = s->acc + (size_t)row * dim;
            for (uint32_t j = 0; j < c.cols; j++)
                dst[j] = c.a.accumulate ? (int32_t)((uint32_t)dst[j] + (uint32_t)v[j]) : v[j];
        } else {
            int8_t *dst = s->spad + (size_t)row * dim;
            for (uint32_t j = 0; j < c.cols; j++) {
                int32_t x = clip(v[j], -128, 127);
                if (s->sys_act == 1 && x < 0) x = 0;
                dst[j] = (int8_t)x;
            }
        }
    }
}

static int exec_preload(dlac_sim *s, uint64_t rs1, uint64_t rs2, issuer *who) {
    count_class(s, DLAC_CLS_PRELOAD);
    operand bd = decode_operand(rs1), c = decode_operand(rs2);
    if (check_operand(s, "preload", bd, 1, 1)) return -1;
    if (!c.a.garbage) {
        if (c.rows > (uint32_t)s->dim || c.cols > (uint32_t)s->dim)
            return sim_assert_fail(s, "preload C block %ux%u exceeds DIM", c.rows, c.cols);
        if (c.rows && check_range(s, "preload C", c.a, c.a.row + (c.rows - 1) * s->c_stride))
            return -1;
    }
    s->have_preload = 1;
    s->pre_bd = rs1;
    s->pre_c = rs2;
    double t = timing_issue(s, UNIT_EX, who);
    s->ex_preload_t = dmax(t, timing_rows_ready(s, bd.a, bd.rows, 1, WAIT_RAW));
    timing_retire(s, UNIT_EX, s->ex_preload_t);
    return 0;
}

static int exec_compute(dlac_sim *s, int preloaded, uint64_t rs1, uint64_t rs2, issuer *who) {
    count_class(s, preloaded ? DLAC_CLS_COMPUTE_PRELOADED : DLAC_CLS_COMPUTE_ACCUMULATED);
    if (!s->have_preload) return sim_assert_fail(s, "compute without a preceding preload");
    s->have_preload = 0;
    const int dim = s->dim;
    operand a = decode_operand(rs1), bd = decode_operand(rs2);
    operand pre = decode_operand(s->pre_bd), c = decode_operand(s->pre_c);
    if (a.a.garbage) a.rows = a.cols = 0;
    if (check_operand(s, "compute A", a, s->a_stride, 1)) return -1;
    if (check_operand(s, "compute BD", bd, 1, 1)) return -1;
    const int ws = s->dataflow == 1;
    const uint64_t useful = (uint64_t)(s->a_transpose ? a.cols : a.rows) *
                            (s->a_transpose ? a.rows : a.cols) *
                            (ws ? (s->b_transpose ? pre.rows : pre.cols)
                                : (s->b_transpose ? bd.rows : bd.cols));
    if (!s->cfg.timing_only) {
        const uint32_t arows = array_load_rows(s, a.a, a.rows, a.cols, s->a_stride,
                                               s->a_transpose, s->abuf);
        if (ws) {
            if (preloaded) array_load_pairs(s, pre.a, pre.rows, pre.cols, 1, s->b_transpose, s->weights);
            if (!c.a.garbage) {
                load_d(s, bd, s->outbuf, c.rows);
                array_matmul(s->abuf, arows < c.rows ? arows : c.rows, s->weights, s->outbuf, dim);
                write_results(s, c, s->outbuf);
            }
        } else {
            if (preloaded) {
                const operand d0 = pre;
                memset(s->os_acc, 0, sizeof(int32_t) * (size_t)dim * dim);
                if (!d0.a.garbage)
                    for (uint32_t r = 0; r < d0.rows; r++)
                        for (uint32_t q = 0; q < d0.cols; q++)
                            s->os_acc[(size_t)r * dim + q] = s->spad[(size_t)(d0.a.row + r) * dim + q];
            }
            array_load_pairs(s, bd.a, bd.rows, bd.cols, 1, s->b_transpose, s->weights);
            array_matmul(s->abuf, arows, s->weights, s->os_acc, dim);
            if (!c.a.garbage) {
                int32_t *out = s->outbuf;
                for (int i = 0; i < dim * dim; i++)
                    out[i] = clip(rounding_right_shift(s->os_acc[i], s->sys_shift),
                                  -(1 << 19), (1 << 19) - 1);
                write_results(s, c, out);
            }
        }
    }
    /* timing: one row of A per cycle; the preload of B streams alongside. */
    double t = timing_issue(s, UNIT_EX, who);
    double start = dmax(dmax(t, s->unit_free[UNIT_EX]), s->ex_preload_t);
    start = dmax(start, timing_rows_ready(s, a.a, a.rows, s->a_stride, WAIT_RAW));
    start = dmax(start, timing_rows_ready(s, bd.a, bd.rows, 1, WAIT_RAW));
    /* Results of earlier computes reach the accumulator in issue order (one in-order
     * pipeline), so C waits only for the other units' accesses. */
    start = dmax(start, timing_rows_ready(s, c.a, c.rows, s->c_stride, WAIT_LD_WR | WAIT_RD));
    /* ExecuteController feeds max(A rows, B rows) rows, a garbage operand counting one, and
     * in WS a full DIM rows whenever the pair preloads real weights (total_rows is shortened
     * only when the preload's D is garbage); OS always feeds DIM rows. */
    double rows = (double)(a.rows > 1 ? a.rows : 1);
    if (!ws || !bd.a.garbage) rows = dmax(rows, (double)bd.rows);
    if (preloaded && !pre.a.garbage) rows = ws ? (double)dim : dmax(rows, (double)pre.rows);
    if (rows < s->cfg.min_compute_rows) rows = s->cfg.min_compute_rows;
    double occ = rows + s->cfg.compute_fixed_cycles;
    uint32_t bank_rows = (uint32_t)s->cfg.sp_bank_rows;
    laddr other = ws ? pre.a : bd.a;
    if (!a.a.garbage && !other.garbage && !other.is_acc && (ws ? preloaded : 1) &&
        a.a.row / bank_rows == other.row / bank_rows)
        occ += s->cfg.bank_conflict_cycles * rows;
    /* A compute enters the mesh only when one of its DLAC_MESH_TAGS tag slots is free: the
     * oldest in-flight compute's last row must have crossed the 2*DIM skewed array. */
    start = dmax(start, s->mesh_out[s->mesh_pos]);
    s->mesh_out[s->mesh_pos] = start + occ + 2.0 * dim;
    s->mesh_pos = (s->mesh_pos + 1) % DLAC_MESH_TAGS;
    double fill = 2.0 * dim + s->cfg.spad_read_delay + s->cfg.acc_latency + s->cfg.fill_cycles;
    double done = start + occ + fill;
    s->unit_free[UNIT_EX] = start + occ;
    if (!ws && !c.a.garbage) {
        s->unit_free[UNIT_EX] += (double)dim + s->cfg.os_drain_cycles;
        done += (double)dim + s->cfg.os_drain_cycles;
    }
    timing_rows_mark(s, a.a, a.rows, s->a_stride, start + occ, ROW_RD);
    timing_rows_mark(s, bd.a, bd.rows, 1, start + occ, ROW_RD);
    if (preloaded) timing_rows_mark(s, pre.a, pre.rows, 1, start + occ, ROW_RD);
    timing_rows_mark(s, c.a, c.rows, s->c_stride, done, ROW_EX_WR);
    /* energy counters */
    s->st.macs += useful;
    s->st.array_macs += (uint64_t)(a.rows) * (uint64_t)dim * (uint64_t)dim;
    /* a garbage operand reads nothing (its rows still set the compute's length above) */
    s->st.spad_reads += (uint64_t)a.rows * a.cols;
    if (!bd.a.garbage) s->st.spad_reads += (uint64_t)bd.rows * bd.cols;
    if (preloaded && !pre.a.garbage) {
        s->st.spad_reads += (uint64_t)pre.rows * pre.cols;
        s->st.reg_writes += (uint64_t)pre.rows * pre.cols;
    }
    if (!c.a.garbage) {
        if (c.a.is_acc) {
            s->st.acc_writes += (uint64_t)c.rows * c.cols;
            if (c.a.accumulate) s->st.acc_reads += (uint64_t)c.rows * c.cols;
        } else {
            s->st.spad_writes += (uint64_t)c.rows * c.cols;
        }
    }
    s->st.busy_ex += occ;
    timing_retire(s, UNIT_EX, done);
    return 0;
}

/* ---- dispatch ---------------------------------------------------------------------- */

int sim_exec(dlac_sim *s, uint32_t funct, uint64_t rs1, uint64_t rs2, issuer *who) {
    switch (funct) {
    case F_CONFIG: return exec_config(s, rs1, rs2, who);
    case F_MVIN: return exec_mvin(s, 0, rs1, rs2, who);
    case F_MVIN2: return exec_mvin(s, 1, rs1, rs2, who);
    case F_MVIN3: return exec_mvin(s, 2, rs1, rs2, who);
    case F_MVOUT: return exec_mvout(s, rs1, rs2, who);
    case F_PRELOAD: return exec_preload(s, rs1, rs2, who);
    case F_COMPUTE_PRELOADED: return exec_compute(s, 1, rs1, rs2, who);
    case F_COMPUTE_ACCUMULATED: return exec_compute(s, 0, rs1, rs2, who);
    default: return sim_assert_fail(s, "funct %u is not an executable instruction", funct);
    }
}

static int issue_loop_config(dlac_sim *s, uint32_t funct, uint64_t rs1, uint64_t rs2) {
    count_class(s, DLAC_CLS_LOOP_CONFIG);
    if (funct >= F_LOOP_WS_BOUNDS && funct <= F_LOOP_WS_STR_DC) {
        s->ws_rs1[funct - F_LOOP_WS_BOUNDS] = rs1;
        s->ws_rs2[funct - F_LOOP_WS_BOUNDS] = rs2;
    } else {
        s->conv_rs1[funct - F_LOOP_CONV_CFG1] = rs1;
        s->conv_rs2[funct - F_LOOP_CONV_CFG1] = rs2;
    }
    return 0;
}

static int issue_loop(dlac_sim *s, uint32_t funct, uint64_t rs1, uint64_t rs2) {
    count_class(s, funct == F_LOOP_WS ? DLAC_CLS_LOOP_WS : DLAC_CLS_LOOP_CONV_WS);
    /* Two loops may be in flight; the CPU stalls on a third. */
    double older = s->loop_end[0] < s->loop_end[1] ? s->loop_end[0] : s->loop_end[1];
    s->host_t = dmax(s->host_t, older);
    for (int u = 0; u < UNIT_COUNT; u++) s->fsm_u[u] = dmax(s->fsm_u[u], s->host_t);
    s->loop_done = 0.0;
    int rc;
    if (funct == F_LOOP_WS) {
        s->ws_rs1[5] = rs1;
        s->ws_rs2[5] = rs2;
        rc = sim_loop_ws(s, s->fsm_u);
    } else {
        s->conv_rs1[6] = rs1;
        s->conv_rs2[6] = rs2;
        rc = sim_loop_conv_ws(s, s->fsm_u);
    }
    int slot = s->loop_end[0] < s->loop_end[1] ? 0 : 1;
    /* A loop holds its slot until its last instruction completes. */
    s->loop_end[slot] = dmax(s->loop_done,
                             dmax(s->fsm_u[UNIT_LD], dmax(s->fsm_u[UNIT_EX], s->fsm_u[UNIT_ST])));
    s->loop_slot ^= 1;
    return rc;
}

static int issue_one(dlac_sim *s, uint32_t funct, uint64_t rs1, uint64_t rs2) {
    if (s->failed) return -1;
    s->st.instructions++;
    issuer host = {&s->host_t, s->cfg.host_issue_cycles};
    switch (funct) {
    case F_FLUSH:
        count_class(s, DLAC_CLS_FLUSH);
        s->host_t += s->cfg.host_issue_cycles;
        return 0;
    case F_FENCE:
        return dlac_sim_fence(s);
    case F_CLKGATE:
    case F_COUNTER:
        count_class(s, DLAC_CLS_OTHER);
        s->host_t += s->cfg.host_issue_cycles;
        return 0;
    case F_LOOP_WS:
    case F_LOOP_CONV_WS:
        s->host_t += s->cfg.host_issue_cycles;
        return issue_loop(s, funct, rs1, rs2);
    default:
        break;
    }
    if ((funct >= F_LOOP_WS_BOUNDS && funct <= F_LOOP_WS_STR_DC) ||
        (funct >= F_LOOP_CONV_CFG1 && funct <= F_LOOP_CONV_CFG6)) {
        s->host_t += s->cfg.host_issue_cycles;
        return issue_loop_config(s, funct, rs1, rs2);
    }
    if (funct > F_MVIN3 && funct != F_CONFIG) {
        count_class(s, DLAC_CLS_OTHER);
        return sim_assert_fail(s, "unknown funct %u", funct);
    }
    return sim_exec(s, funct, rs1, rs2, &host);
}

/* The simulated host clock as a program's `rdcycle` reads it (see gemmini.h). */
uint64_t dlac_sim_rdcycle;

int dlac_sim_issue(dlac_sim *s, uint32_t funct, uint64_t rs1, uint64_t rs2) {
    int rc = issue_one(s, funct, rs1, rs2);
    dlac_sim_rdcycle = (uint64_t)s->host_t;
    return rc;
}

int dlac_sim_fence(dlac_sim *s) {
    if (s->failed) return -1;
    count_class(s, DLAC_CLS_FENCE);
    s->host_t = dmax(s->host_t, timing_drained(s)) + s->cfg.fence_cycles;
    dlac_sim_rdcycle = (uint64_t)s->host_t;
    return 0;
}

void dlac_sim_host_work(dlac_sim *s, double cycles) {
    s->host_t += cycles;
    dlac_sim_rdcycle = (uint64_t)s->host_t;
}

void dlac_sim_set_working_set(dlac_sim *s, double bytes) {
    /* Data that fits the LLC is served at LLC latency; the rest misses to DRAM. Each call
     * sees the L2 its own warm-up run left (l2_cold_share), not lines of earlier calls:
     * those depend on where the host allocated buffers, which cycles must not. */
    timing_mem_reset(s);
    double miss = 1.0;
    if (bytes > 0.0) miss = bytes <= s->cfg.llc_bytes ? 0.0 : 1.0 - s->cfg.llc_bytes / bytes;
    s->miss_frac = miss;
    s->mem_latency = s->cfg.llc_latency + miss * (s->cfg.dram_latency - s->cfg.llc_latency);
    const double l2 = s->cfg.l2_kib * 1024.0;
    s->l2_cold_share = bytes > l2 ? 1.0 - l2 / bytes : (bytes > 0.0 ? 0.0 : 1.0);
}

int dlac_sim_fail(dlac_sim *s, const char *reason) { return sim_assert_fail(s, "%s", reason); }

const char *dlac_sim_error(const dlac_sim *s) { return s->err; }

int dlac_sim_failed(const dlac_sim *s) { return s->failed; }

/* ---- lifecycle ------------------------------------------------------------------- */

uint32_t dlac_sim_config_size(void) { return (uint32_t)sizeof(dlac_sim_config); }

uint32_t dlac_sim_stats_size(void) { return (uint32_t)sizeof(dlac_sim_stats); }

dlac_sim *dlac_sim_new(const dlac_sim_config *cfg) {
    dlac_sim *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cfg = *cfg;
    s->dim = cfg->dim;
    s->sp_rows = cfg->sp_banks * cfg->sp_bank_rows;
    s->acc_rows = cfg->acc_banks * cfg->acc_bank_rows;
    s->mbl = cfg->max_bytes / cfg->dim > 0 ? cfg->max_bytes / cfg->dim : 1;
    s->mbl_acc = cfg->max_bytes / (cfg->dim * 4) > 0 ? cfg->max_bytes / (cfg->dim * 4) : 1;
    size_t d2 = (size_t)cfg->dim * (size_t)cfg->dim;
    if (!cfg->timing_only) {
        s->spad = calloc((size_t)s->sp_rows * cfg->dim, 1);
        s->acc = calloc((size_t)s->acc_rows * cfg->dim, sizeof(int32_t));
    }
    s->weights = calloc(d2, sizeof(int16_t));
    s->os_acc = calloc(d2, sizeof(int32_t));
    s->abuf = calloc(d2, sizeof(int16_t));
    s->outbuf = calloc(d2, sizeof(int32_t));
    for (int e = 0; e < ROW_EVENTS; e++) {
        s->row_t[0][e] = calloc((size_t)s->sp_rows, sizeof(double));
        s->row_t[1][e] = calloc((size_t)s->acc_rows, sizeof(double));
    }
    s->dataflow = 1;
    s->a_stride = s->c_stride = 1;
    s->st_scale = 1.0f;
    for (int i = 0; i < 3; i++) {
        s->ld[i].scale = 1.0f;
        s->ld[i].block_stride = (uint32_t)cfg->dim;
    }
    timing_init(s);
    s->mem_latency = cfg->dram_latency;
    s->miss_frac = 1.0;
    s->l2_cold_share = 1.0;
    return s;
}

void dlac_sim_free(dlac_sim *s) {
    if (!s) return;
    if (g_current == s) g_current = NULL;
    free(s->spad);
    free(s->acc);
    free(s->weights);
    free(s->os_acc);
    free(s->abuf);
    free(s->outbuf);
    for (int e = 0; e < ROW_EVENTS; e++) {
        free(s->row_t[0][e]);
        free(s->row_t[1][e]);
    }
    for (int u = 0; u < UNIT_COUNT; u++) free(s->rs_ring[u]);
    free(s->l2_tag);
    free(s->l2_seen);
    free(s);
}

void dlac_sim_get_stats(const dlac_sim *s, dlac_sim_stats *out) {
    *out = s->st;
    out->cycles = dmax(timing_drained(s), s->host_t);
    out->host_cycles = s->host_t;
    const dlac_sim_config *c = &s->cfg;
    out->energy_pj = c->e_mac * (double)s->st.macs +
                     c->e_reg * (double)(s->st.macs + s->st.reg_writes) +
                     c->e_acc * (double)(s->st.acc_reads + s->st.acc_writes) +
                     c->e_spad * (double)(s->st.spad_reads + s->st.spad_writes) +
                     c->e_dram * (double)(s->st.dram_reads + s->st.dram_writes);
}

const dlac_sim_config *dlac_sim_get_config(const dlac_sim *s) { return &s->cfg; }

int dlac_sim_read_spad_row(const dlac_sim *s, uint32_t row, int8_t *out) {
    if (!s->spad || row >= (uint32_t)s->sp_rows) return -1;
    memcpy(out, s->spad + (size_t)row * s->dim, (size_t)s->dim);
    return 0;
}

int dlac_sim_read_acc_row(const dlac_sim *s, uint32_t row, int32_t *out) {
    if (!s->acc || row >= (uint32_t)s->acc_rows) return -1;
    memcpy(out, s->acc + (size_t)row * s->dim, sizeof(int32_t) * (size_t)s->dim);
    return 0;
}

void dlac_sim_set_current(dlac_sim *s) { g_current = s; }

dlac_sim *dlac_sim_current(void) { return g_current; }
