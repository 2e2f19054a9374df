/* LOOP_CONV_WS with the features of Gemmini's LoopConv beyond a plain conv: max pooling
 * during the store, NHWC->CHWN input (trans_input_3120), HWIO->WIHO / HWOI weights
 * (trans_weight_1203 / _0132), NHWC->HWNC output (trans_output_1203), input dilation 2,
 * a 180-degree rotated kernel (wrot180) and the stride-2 1x1 downsample.  Expanded into
 * primitives in the order of Gemmini's functional model (libgemmini): bias (zeros when
 * no_bias), input, weights, computes that always accumulate, results.  Transposed A and B
 * blocks are addressed by their scratchpad rows, as dlac-sim's compute reads them.
 */
#include <string.h>

#include "loop_common.h"

typedef struct conv_geom {
    int stride, kdil, irows, icols, irows_unp, icols_unp, ds_irows, ds_icols;
    uint32_t a_base, b_base, c_base, a_rows, b_rows;
} conv_geom;

/* Undilated coordinate of a position in the dilated input. */
static int undil(const conv_args *c, int x) { return (x + c->input_dilated) >> c->input_dilated; }
static int ds(const conv_args *c, int x) { return x >> c->downsample; }
static int imin(int a, int b) { return a < b ? a : b; }

/* Accumulator row of output pixel (b, orow, ocol), channel block och / DIM: blocks of `pix`
 * rows, pixels in (batch, row, col) order inside a block (libgemmini's layout). */
static uint32_t acc_row(const conv_args *c, const conv_geom *g, int dim, int pix, int och,
                        int b, int orow, int ocol) {
    return g->c_base + (uint32_t)((och / dim) * pix + (b * (int)c->orows + orow) * (int)c->ocols +
                                  ocol);
}

static int geometry(dlac_sim *s, const conv_args *c, conv_geom *g) {
    const int dim = s->dim;
    g->stride = c->stride ? (int)c->stride : 1;
    g->kdil = c->kernel_dilation ? (int)c->kernel_dilation : 1;
    const int dk_r = (int)c->krows + (g->kdil - 1) * ((int)c->krows - 1);
    const int dk_c = (int)c->kcols + (g->kdil - 1) * ((int)c->kcols - 1);
    g->irows = (int)c->orows * g->stride + dk_r - 1;
    g->icols = (int)c->ocols * g->stride + dk_c - 1;
    g->irows_unp = g->irows - (int)c->upad - (int)c->dpad;
    g->icols_unp = g->icols - (int)c->lpad - (int)c->rpad;
    if (c->input_dilated) {
        g->irows_unp = (g->irows_unp + 1) / 2;
        g->icols_unp = (g->icols_unp + 1) / 2;
        g->irows = g->irows_unp + undil(c, (int)c->upad) + undil(c, (int)c->dpad);
        g->icols = g->icols_unp + undil(c, (int)c->lpad) + undil(c, (int)c->rpad);
    }
    g->ds_irows = ds(c, g->irows);
    g->ds_icols = ds(c, g->icols);
    const uint32_t plane = (uint32_t)(g->ds_irows * g->ds_icols);
    const uint32_t kb = (c->kchs + (uint32_t)dim - 1) / (uint32_t)dim;
    const uint32_t ob = (c->pochs + (uint32_t)dim - 1) / (uint32_t)dim;
    const uint32_t bb = (c->batches + (uint32_t)dim - 1) / (uint32_t)dim;
    g->a_rows = c->trans_input_3120 ? bb * c->kchs * plane : kb * c->batches * plane;
    g->b_rows = c->trans_weight_0132 ? kb * c->krows * c->kcols * c->pochs
                                     : ob * c->krows * c->kcols * c->kchs;
    const uint32_t half_sp = (uint32_t)s->sp_rows / 2, half_acc = (uint32_t)s->acc_rows / 2;
    if (g->irows_unp < 0 || g->icols_unp < 0)
        return sim_assert_fail(s, "loop_conv_ws: padding larger than the input tile");
    if (g->a_rows + g->b_rows > half_sp)
        return sim_assert_fail(s, "loop_conv_ws: tile needs %u scratchpad rows > half (%u)",
                               g->a_rows + g->b_rows, half_sp);
    if (ob * c->batches * c->orows * c->ocols > half_acc)
        return sim_assert_fail(s, "loop_conv_ws: tile needs %u accumulator rows > half (%u)",
                               ob * c->batches * c->orows * c->ocols, half_acc);
    const uint32_t sel_a = c->a_spad_id ? (uint32_t)(c->a_spad_id - 1) : (uint32_t)s->loop_slot;
    const uint32_t sel_b = c->b_spad_id ? (uint32_t)(c->b_spad_id - 1) : (uint32_t)s->loop_slot;
    g->a_base = sel_a * half_sp;
    g->b_base = (sel_b + 1) * half_sp - g->b_rows;
    g->c_base = (uint32_t)s->conv_acc_half * half_acc;
    return 0;
}

static int load_bias(dlac_sim *s, const conv_args *c, const conv_geom *g, fsm *f) {
    const int dim = s->dim, pix = (int)(c->batches * c->orows * c->ocols);
    const int step = imin((int)c->pochs, s->mbl_acc * dim);
    if (sim_exec(s, F_CONFIG, config_ld_rs1(2, 0, (uint32_t)pix), 0, &f->ld)) return -1;
    for (int b = 0; b < (int)c->batches; b++)
        for (int orow = 0; orow < (int)c->orows; orow++)
            for (int ocol = 0; ocol < (int)c->ocols; ocol += dim) {
                const int I = imin(dim, (int)c->ocols - ocol);
                for (int och = 0; och < (int)c->pochs; och += step) {
                    const int J = imin(step, (int)c->pochs - och);
                    const uint32_t row = acc_row(c, g, dim, pix, och, b, orow, ocol);
                    const uint64_t src = c->no_bias ? 0 : c->bias + F(och) * 4;
                    if (sim_exec(s, F_MVIN3, src, operand((uint32_t)I, (uint32_t)J, (1u << 31) | row),
                                 &f->ld))
                        return -1;
                }
            }
    return 0;
}

static int load_input(dlac_sim *s, const conv_args *c, const conv_geom *g, fsm *f) {
    const int dim = s->dim, tr = c->trans_input_3120;
    const int plane = g->ds_irows * g->ds_icols;
    const int max_chs = imin(tr ? (int)c->batches : (int)c->kchs, s->mbl * dim);
    const int spad_stride = tr ? (int)c->kchs * plane : (int)c->batches * plane;
    const uint64_t dram_stride = tr ? c->batch_size : c->in_stride;
    if (sim_exec(s, F_CONFIG, config_ld_rs1(0, 0, (uint32_t)spad_stride),
                 dram_stride << c->downsample, &f->ld))
        return -1;
    const int up = undil(c, (int)c->upad), dn = undil(c, (int)c->dpad);
    const int lp = undil(c, (int)c->lpad), rp = undil(c, (int)c->rpad);
    for (int b = 0; b < (int)c->batches; b += tr ? max_chs : 1)
        for (int irow = -up; irow < g->irows_unp + dn; irow += 1 << c->downsample) {
            for (int icol = -lp; icol < g->icols_unp + rp;) {
                int I = imin(g->icols_unp - icol, dim << c->downsample);
                if (icol < 0) I = imin(-icol, dim);
                else if (icol >= g->icols_unp) I = imin(g->icols_unp + rp - icol, dim);
                const int pos = ds(c, irow + up) * g->ds_icols + ds(c, icol + lp);
                const int zero = irow < 0 || irow >= g->irows_unp || icol < 0 || icol >= g->icols_unp;
                for (int ich = 0; ich < (int)c->kchs; ich += tr ? 1 : max_chs) {
                    const int K = tr ? imin(max_chs, (int)c->batches - b) : imin(max_chs, (int)c->kchs - ich);
                    const int dst = tr ? (b / dim) * spad_stride + ich * plane + pos
                                       : (ich / dim) * spad_stride + b * plane + pos;
                    const int64_t pix = (int64_t)irow * c->in_col_dim + icol;
                    uint64_t src = 0;
                    if (!zero && tr)
                        src = c->input + (uint64_t)(((int64_t)ich * c->in_row_dim * c->in_col_dim + pix) *
                                                    c->batch_size + b);
                    else if (!zero)
                        src = c->input + (uint64_t)(((int64_t)b * c->in_row_dim * c->in_col_dim + pix) *
                                                    c->in_stride + ich);
                    if (sim_exec(s, F_MVIN, src,
                                 operand((uint32_t)ds(c, I), (uint32_t)K, g->a_base + (uint32_t)dst), &f->ld))
                        return -1;
                }
                icol += I;
            }
        }
    return 0;
}

static int load_weights(dlac_sim *s, const conv_args *c, const conv_geom *g, fsm *f) {
    const int dim = s->dim, t0132 = c->trans_weight_0132, kd = (int)c->kernel_dim;
    const int max_chs = imin(t0132 ? (int)c->kchs : (int)c->pochs, s->mbl * dim);
    uint64_t dram_stride = c->weight_stride;
    if (c->dw) dram_stride = 1;
    else if (c->trans_weight_1203) dram_stride = (uint64_t)kd * kd * c->out_channels;
    else if (t0132) dram_stride = c->in_channels;
    const int taps = (int)(c->krows * c->kcols);
    const uint32_t block = (uint32_t)(taps * (int)(t0132 ? c->pochs : c->kchs));
    if (sim_exec(s, F_CONFIG, config_ld_rs1(1, 0, block), dram_stride, &f->ld)) return -1;
    for (int och = 0; och < (int)c->pochs; och += t0132 ? dim : max_chs)
        for (int kr = 0; kr < (int)c->krows; kr++)
            for (int kc = 0; kc < (int)c->kcols; kc++)
                for (int kch = 0; kch < (int)c->kchs; kch += t0132 ? max_chs : dim) {
                    int K = imin(dim, (int)c->kchs - kch), J = imin(max_chs, (int)c->pochs - och);
                    int dst = (och / dim) * taps * (int)c->kchs + (kr * (int)c->kcols + kc) * (int)c->kchs + kch;
                    if (t0132) {
                        K = imin(dim, (int)c->pochs - och);
                        J = imin(max_chs, (int)c->kchs - kch);
                        dst = (kch / dim) * taps * (int)c->pochs + (kr * (int)c->kcols + kc) * (int)c->pochs + och;
                    }
                    uint64_t w = c->weights + ((uint64_t)(kr * kd + kc) * c->in_channels + (uint64_t)kch) *
                                                  c->weight_stride + (uint64_t)och;
                    if (c->dw) w = c->weights + (uint64_t)(kr * kd + kc);
                    else if (c->trans_weight_1203)
                        w = c->weights + ((uint64_t)kch * kd * kd + (uint64_t)(kr * kd + kc)) * c->out_channels + (uint64_t)och;
                    else if (t0132)
                        w = c->weights + ((uint64_t)(kr * kd + kc) * c->out_channels + (uint64_t)och) * c->in_channels + (uint64_t)kch;
                    if (sim_exec(s, F_MVIN2, w, operand((uint32_t)K, (uint32_t)J, g->b_base + (uint32_t)dst), &f->ld))
                        return -1;
                }
    return 0;
}

static int compute(dlac_sim *s, const conv_args *c, const conv_geom *g, fsm *f) {
    const int dim = s->dim, tr = c->trans_input_3120, t0132 = c->trans_weight_0132;
    const int plane = g->ds_irows * g->ds_icols, pix = (int)(c->batches * c->orows * c->ocols);
    const int taps = (int)(c->krows * c->kcols);
    const uint32_t a_stride = tr ? (uint32_t)(g->irows * g->icols) : (uint32_t)ds(c, g->stride);
    const uint32_t c_stride = tr ? c->orows * c->ocols : (c->input_dilated ? 2u : 1u);
    if (sim_exec(s, F_CONFIG, (F(a_stride) << 16) | (1u << 7), F(c_stride) << 48, &f->ex)) return -1;
    for (int och = 0; och < (int)c->pochs; och += dim)
        for (int kr = 0; kr < (int)c->krows; kr++)
            for (int kc = 0; kc < (int)c->kcols; kc++)
                for (int kch = 0; kch < (int)c->kchs; kch += dim) {
                    const int J = imin(dim, (int)c->pochs - och), K = imin(dim, (int)c->kchs - kch);
                    const int wr = c->wrot180 ? (int)c->krows - kr - 1 : kr;
                    const int wc = c->wrot180 ? (int)c->kcols - kc - 1 : kc;
                    const uint32_t b_addr = g->b_base + (uint32_t)(t0132
                        ? (kch / dim) * taps * (int)c->pochs + (wr * (int)c->kcols + wc) * (int)c->pochs + och
                        : (och / dim) * taps * (int)c->kchs + (wr * (int)c->kcols + wc) * (int)c->kchs + kch);
                    int new_weights = 1;
                    for (int b = 0; b < (int)c->batches; b += tr ? dim : 1)
                        for (int orow = 0; orow < (int)c->orows; orow++) {
                            if (c->input_dilated && (kr * g->kdil + orow - (int)c->upad) % 2) continue;
                            for (int ocol = 0; ocol < (int)c->ocols;) {
                                if (c->input_dilated && (kc * g->kdil + ocol - (int)c->lpad) % 2) {
                                    ocol++;
                                    continue;
                                }
                                const int irow = undil(c, orow * g->stride + kr * g->kdil);
                                const int icol = undil(c, ocol * g->stride + kc * g->kdil);
                                const int at = ds(c, irow) * g->ds_icols + ds(c, icol);
                                const int I = tr ? imin(dim, (int)c->batches - b)
                                                 : undil(c, imin((int)c->ocols - ocol, dim << c->input_dilated));
                                const uint32_t a_addr = g->a_base + (uint32_t)(tr
                                    ? (b / dim) * (int)c->kchs * plane + kch * plane + at
                                    : (kch / dim) * (int)c->batches * plane + b * plane + at);
                                const uint32_t c_addr = (3u << 30) |
                                    acc_row(c, g, dim, pix, och, b, orow, ocol);
                                const uint64_t bd = !new_weights ? operand((uint32_t)dim, (uint32_t)dim, GARBAGE_LADDR)
                                    : t0132 ? operand((uint32_t)J, (uint32_t)K, b_addr)
                                            : operand((uint32_t)K, (uint32_t)J, b_addr);
                                const uint64_t a = tr ? operand((uint32_t)K, (uint32_t)I, a_addr)
                                                      : operand((uint32_t)I, (uint32_t)K, a_addr);
                                if (sim_exec(s, F_PRELOAD, bd, operand((uint32_t)I, (uint32_t)J, c_addr), &f->ex) ||
                                    sim_exec(s, new_weights ? F_COMPUTE_PRELOADED : F_COMPUTE_ACCUMULATED, a,
                                             operand((uint32_t)dim, (uint32_t)dim, GARBAGE_LADDR), &f->ex))
                                    return -1;
                                ocol += tr ? 1 : dim << c->input_dilated;
                                new_weights = 0;
                            }
                        }
                }
    return 0;
}

static uint64_t config_st_rs2(const dlac_sim *s, uint32_t stride) {
    uint32_t bits;
    memcpy(&bits, &s->st_scale, sizeof bits);
    return (F(bits) << 32) | stride;
}

static int store(dlac_sim *s, const conv_args *c, const conv_geom *g, fsm *f) {
    const int dim = s->dim, pix = (int)(c->batches * c->orows * c->ocols);
    if (c->no_pool) {
        for (int b = 0; b < (int)c->batches; b++)
            for (int orow = 0; orow < (int)c->orows; orow++)
                for (int ocol = 0; ocol < (int)c->ocols; ocol += dim) {
                    const int I = imin(dim, (int)c->ocols - ocol);
                    for (int och = 0; och < (int)c->pochs; och += dim) {
                        const int J = imin(dim, (int)c->pochs - och);
                        const uint32_t row = acc_row(c, g, dim, pix, och, b, orow, ocol);
                        uint64_t dst = c->output + ((F(b) * c->out_row_dim + (uint64_t)orow) * c->out_col_dim +
                                                    (uint64_t)ocol) * c->out_stride + (uint64_t)och;
                        if (c->trans_output_1203)
                            dst = c->output + ((F(orow) * c->out_col_dim + (uint64_t)ocol) * c->batch_size +
                                               (uint64_t)b) * c->out_channels + (uint64_t)och;
                        if (sim_exec(s, F_MVOUT, dst, operand((uint32_t)I, (uint32_t)J, (1u << 31) | row), &f->st))
                            return -1;
                    }
                }
        return 0;
    }
    const uint64_t act = (uint64_t)c->activation << 2;
    const uint64_t pool = (F(c->ocols) << 56) | (F(c->orows) << 48) | (F(c->pocols) << 40) |
                          (F(c->porows) << 32) | (F(c->pool_out_col_dim) << 24) | (F(c->plpad) << 10) |
                          (F(c->pupad) << 8) | (F(c->pool_size) << 6) | (F(c->pool_stride) << 4);
    if (sim_exec(s, F_CONFIG, pool | act | 2u, config_st_rs2(s, c->out_stride), &f->st)) return -1;
    for (int b = 0; b < (int)c->batches; b++)
        for (int poch = 0; poch < (int)c->pochs; poch += dim) {
            const int n = imin(dim, (int)c->pochs - poch);
            const uint32_t row = g->c_base + (uint32_t)((poch / dim) * pix + b * (int)(c->orows * c->ocols));
            const uint64_t dst = c->output + F(b) * c->pool_out_row_dim * c->pool_out_col_dim * c->out_stride +
                                 (uint64_t)poch;
            if (sim_exec(s, F_MVOUT, dst, operand(0, (uint32_t)n, (1u << 31) | row), &f->st)) return -1;
        }
    return sim_exec(s, F_CONFIG, act | 2u, config_st_rs2(s, c->out_stride), &f->st);
}

int sim_loop_conv_ws_ext(dlac_sim *s, const conv_args *c, fsm *f) {
    if (!c->batches || !c->orows || !c->ocols || !c->pochs || !c->krows || !c->kcols || !c->kchs)
        return sim_assert_fail(s, "loop_conv_ws with a zero tile bound");
    if (c->max_pixels_per_row > 1)
        return sim_assert_fail(s, "loop_conv_ws: max_pixels_per_row > 1 needs pixel_repeats");
    if (c->input_dilated && c->stride > 1)
        return sim_assert_fail(s, "loop_conv_ws: input dilation needs stride 1");
    if (c->trans_input_3120 && c->trans_weight_0132)
        return sim_assert_fail(s, "loop_conv_ws: cannot transpose both input and weights");
    if (c->trans_output_1203 && !c->no_pool)
        return sim_assert_fail(s, "loop_conv_ws: a transposed output cannot be pooled");
    conv_geom g = {0};
    if (geometry(s, c, &g)) return -1;
    if (c->bias && load_bias(s, c, &g, f)) return -1;
    if (c->input && load_input(s, c, &g, f)) return -1;
    if (c->weights && load_weights(s, c, &g, f)) return -1;
    fsm_ex_after_loads(f);
    if (compute(s, c, &g, f)) return -1;
    if (c->output) {
        fsm_st_after_ex(f);
        if (store(s, c, &g, f)) return -1;
        s->conv_acc_half ^= 1;
    }
    return 0;
}
