/* Convolution, residual-add and global-average functions of the Gemmini C library for the
 * dlac simulator.  Included by gemmini_lib.h.  Layouts: input NHWC, weights
 * [krow][kcol][in_ch][out_ch], bias int32[out_ch], output NHWC.  Pooling, layout
 * transposes, input dilation and wrot180 are not supported (the call fails cleanly).
 */
#ifndef DLAC_GEMMINI_LIB_CONV_H
#define DLAC_GEMMINI_LIB_CONV_H

#include "gemmini_lib_cpu.h"

static inline int dlac_max_i(int a, int b) { return a > b ? a : b; }
static inline int dlac_min_i(int a, int b) { return a < b ? a : b; }

#include "gemmini_lib_conv_ext.h"

/* One conv with explicit tiles and an explicit DRAM loop order over "NPQKRSC"-style letters:
 * N batch, Q output rows, P output cols, K output channels, S kernel rows, R kernel cols,
 * C input channels (DOSA's names).  perm == NULL means Gemmini's order b, orow, ocol, och,
 * krow, kcol, kch. */
static inline void dlac_conv_tiles(int batch_size, int in_row_dim, int in_col_dim,
        int in_channels, int out_channels, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int weight_stride,
        int out_stride, int batches, int porows, int pocols, int pochs, int krows, int kcols,
        int kchs, const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output,
        int act, acc_scale_t scale, const char *perm, bool new_call) {
    /* index order of the loop counters: b, orow, ocol, och, krow, kcol, kch */
    int order[7] = {0, 1, 2, 3, 4, 5, 6};
    if (perm && !dlac_parse_perm(perm, "NQPKSRC", 7, order)) {
        gemmini_lib_fail("tiled_conv: bad loop permutation (want a permutation of NQPKSRC)");
        return;
    }
    const int full[7] = {batch_size, out_row_dim, out_col_dim, out_channels, kernel_dim, kernel_dim,
                         in_channels};
    const int tile[7] = {batches, porows, pocols, pochs, krows, kcols, kchs};
    int count[7];
    size_t total = 1;
    for (int d = 0; d < 7; d++) {
        if (tile[d] <= 0) {
            gemmini_lib_fail("tiled_conv: tile sizes must be >= 1");
            return;
        }
        count[d] = DLAC_CEIL(full[d], tile[d]);
        total *= (size_t)count[d];
    }
    if (new_call) dlac_charge(0, 1);
    gemmini_working_set((double)batch_size * in_row_dim * in_col_dim * in_channels +
                        (double)kernel_dim * kernel_dim * in_channels * out_channels +
                        (bias ? 4.0 * out_channels : 0.0) +
                        (double)batch_size * out_row_dim * out_col_dim * out_channels);
    gemmini_extended_config_st(out_stride * sizeof(elem_t), act & 3, scale);
    gemmini_extended3_config_ex(WEIGHT_STATIONARY, 0, 0, ACC_SCALE_IDENTITY, 1, stride, false,
                                false, false);
    int idx[7];
    for (size_t n = 0; n < total; n++) {
        size_t rem = n;
        for (int lv = 6; lv >= 0; lv--) {
            idx[order[lv]] = (int)(rem % (size_t)count[order[lv]]) * tile[order[lv]];
            rem /= (size_t)count[order[lv]];
        }
        const int b = idx[0], orow = idx[1], ocol = idx[2], och = idx[3], krow = idx[4],
                  kcol = idx[5], kch = idx[6];
        const int nb = dlac_min_i(batches, batch_size - b), nor = dlac_min_i(porows, out_row_dim - orow),
                  noc = dlac_min_i(pocols, out_col_dim - ocol), nk = dlac_min_i(pochs, out_channels - och),
                  nkr = dlac_min_i(krows, kernel_dim - krow), nkc = dlac_min_i(kcols, kernel_dim - kcol),
                  nc = dlac_min_i(kchs, in_channels - kch);
        const int irow = orow * stride + krow * kernel_dilation - padding;
        const int icol = ocol * stride + kcol * kernel_dilation - padding;
        const int irows = (nor - 1) * stride + (nkr - 1) * kernel_dilation + 1;
        const int icols = (noc - 1) * stride + (nkc - 1) * kernel_dilation + 1;
        int upad = dlac_max_i(-irow, 0), lpad = dlac_max_i(-icol, 0);
        int dpad = dlac_max_i(irow + irows - in_row_dim, 0), rpad = dlac_max_i(icol + icols - in_col_dim, 0);
        if (upad > irows) upad = irows;
        if (lpad > icols) lpad = icols;
        if (upad + dpad > irows) dpad = irows - upad;
        if (lpad + rpad > icols) rpad = icols - lpad;
        const int first = krow == 0 && kcol == 0 && kch == 0;
        const int last = krow + krows >= kernel_dim && kcol + kcols >= kernel_dim && kch + kchs >= in_channels;
        const elem_t *in = input + ((size_t)(b * in_row_dim + irow + upad) * in_col_dim + (icol + lpad)) *
                                       in_stride + kch;
        const elem_t *w = weights + ((size_t)(krow * kernel_dim + kcol) * in_channels + kch) * weight_stride + och;
        const acc_t *bi = (bias && first) ? bias + och : NULL;
        elem_t *out = last ? output + ((size_t)(b * out_row_dim + orow) * out_col_dim + ocol) * out_stride + och
                           : NULL;
        dlac_charge(1, 1);
        gemmini_loop_conv_ws(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
                             out_col_dim, out_row_dim, out_col_dim, stride, padding, kernel_dim,
                             kernel_dilation, 0, 0, 0, nb, nor, noc, nk, nkr, nkc, nc, lpad, rpad,
                             upad, dpad, 0, 0, 0, 0, nor, noc, w, out, bi, in, first && !bias, true,
                             false, false, false, act, false, false, false, false, 0, in_stride,
                             weight_stride, out_stride, false, 0, 0);
    }
}

static inline void dlac_tiled_conv_perm(int batch_size, int in_row_dim, int in_col_dim,
        int in_channels, int out_channels, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int weight_stride,
        int out_stride, int batches, int porows, int pocols, int pochs, int krows, int kcols,
        int kchs, const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output,
        int act, acc_scale_t scale, const char *perm) {
    dlac_conv_tiles(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
                    out_col_dim, stride, kernel_dilation, padding, kernel_dim, in_stride,
                    weight_stride, out_stride, batches, porows, pocols, pochs, krows, kcols, kchs,
                    input, weights, bias, output, act, scale, perm, true);
    gemmini_fence();
}

static inline void tiled_conv(int batch_size, int in_row_dim, int in_col_dim, int in_channels,
        int out_channels, int out_row_dim, int out_col_dim, int stride, int input_dilation,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int weight_stride,
        int out_stride, bool wrot180, bool trans_output_1203, bool trans_input_3120,
        bool trans_weight_1203, bool trans_weight_0132, int batches, int porows, int pocols,
        int pochs, int krows, int kcols, int kchs, const elem_t *input, const elem_t *weights,
        const acc_t *bias, elem_t *output, int act, acc_scale_t scale, int pool_size,
        int pool_stride, int pool_padding, enum tiled_matmul_type_t tiled_conv_type) {
    if (tiled_conv_type == CPU) {
        conv_cpu(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
                 out_col_dim, stride, input_dilation, kernel_dilation, padding, kernel_dim,
                 in_stride, weight_stride, out_stride, wrot180, trans_output_1203,
                 trans_input_3120, trans_weight_1203, trans_weight_0132, input, weights, bias,
                 output, act, scale, pool_size, pool_stride, pool_padding);
        return;
    }
    if (tiled_conv_type != WS) {
        gemmini_lib_fail("tiled_conv: only the WS dataflow is supported");
        return;
    }
    const dlac_conv_feat feat = {input_dilation, pool_size, pool_stride, pool_padding, wrot180,
                                 trans_output_1203, trans_input_3120, trans_weight_1203,
                                 trans_weight_0132};
    if (dlac_conv_feat_any(&feat)) {
        dlac_tiled_conv_ext(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,
                            out_row_dim, out_col_dim, stride, kernel_dilation, padding, kernel_dim,
                            in_stride, weight_stride, out_stride, &feat, batches, porows, pocols,
                            pochs, krows, kcols, kchs, input, weights, bias, output, act, scale);
        return;
    }
    dlac_tiled_conv_perm(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
                         out_col_dim, stride, kernel_dilation, padding, kernel_dim, in_stride,
                         weight_stride, out_stride, batches, porows, pocols, pochs, krows, kcols,
                         kchs, input, weights, bias, output, act, scale, NULL);
}

/* Rows a conv tile needs (Gemmini's tiled_conv_total_spad_rows); args[1..2] count pooled
 * outputs, f == NULL is a plain conv. */
static inline void dlac_conv_tile_rows(const int args[7], int stride, int kernel_dilation,
                                       const dlac_conv_feat *f, size_t *spad_rows,
                                       size_t *acc_rows) {
    const int b = args[0], porows = args[1], pocols = args[2], pochs = args[3], krows = args[4],
              kcols = args[5], kchs = args[6];
    const int pstride = f && f->pool_stride ? f->pool_stride : 1;
    const int psize = f && f->pool_stride ? f->pool_size : 1;
    const int dil = f ? f->input_dilation : 1;
    const int orows = porows * pstride + psize - 1, ocols = pocols * pstride + psize - 1;
    const int dk_r = krows + (kernel_dilation - 1) * (krows - 1);
    const int dk_c = kcols + (kernel_dilation - 1) * (kcols - 1);
    const int irows = DLAC_CEIL(orows * stride + dk_r - 1, dil);
    const int icols = DLAC_CEIL(ocols * stride + dk_c - 1, dil);
    const size_t A = f && f->trans_input_3120
        ? (size_t)DLAC_CEIL(b, DIM) * kchs * irows * icols
        : (size_t)DLAC_CEIL(kchs, DIM) * b * irows * icols;
    const size_t B = f && f->trans_weight_0132
        ? (size_t)DLAC_CEIL(kchs, DIM) * kcols * krows * pochs
        : (size_t)DLAC_CEIL(pochs, DIM) * kcols * krows * kchs;
    *spad_rows = A + B;
    *acc_rows = (size_t)DLAC_CEIL(pochs, DIM) * b * orows * ocols;
}

/* Gemmini's default conv tiling: shrink, grow pocols, then grow everything. out_row_dim /
 * out_col_dim are the (pooled) output's. */
static inline void dlac_conv_auto_tiles(int batch_size, int out_row_dim, int out_col_dim,
                                        int in_channels, int out_channels, int kernel_dim,
                                        int stride, int kernel_dilation, const dlac_conv_feat *f,
                                        int tiles[7]) {
    const int maxv[7] = {batch_size, out_row_dim, out_col_dim, out_channels, kernel_dim, kernel_dim,
                         in_channels};
    const size_t spad_max = (size_t)BANK_NUM * BANK_ROWS / 2, acc_max = (size_t)ACC_ROWS / 2;
    int *a = tiles;
    for (int i = 0; i < 7; i++) a[i] = maxv[i];
    size_t sp, ac;
    dlac_conv_tile_rows(a, stride, kernel_dilation, f, &sp, &ac);
    while (sp > spad_max || ac > acc_max) {
        int best = -1;
        for (int i = 0; i < 7; i++) {
            if (i == 2 && a[2] <= DIM && a[1] > 1) continue;
            if (best < 0 || a[i] > a[best]) best = i;
        }
        if (a[best] <= 1) break;
        if (best == 3 || best == 6) {
            int down = (a[best] / DIM) * DIM;
            a[best] = down == a[best] ? a[best] - DIM : down;
            if (a[best] < 1) a[best] = 1;
        } else {
            a[best]--;
        }
        dlac_conv_tile_rows(a, stride, kernel_dilation, f, &sp, &ac);
    }
    for (;;) {
        if (a[2] + 1 > maxv[2]) break;
        a[2]++;
        dlac_conv_tile_rows(a, stride, kernel_dilation, f, &sp, &ac);
        if (sp > spad_max || ac > acc_max) {
            a[2]--;
            break;
        }
    }
    bool changed = true;
    while (changed) {
        changed = false;
        for (int i = 0; i < 7; i++) {
            if (a[i] + 1 > maxv[i]) continue;
            a[i]++;
            dlac_conv_tile_rows(a, stride, kernel_dilation, f, &sp, &ac);
            if (sp > spad_max || ac > acc_max) a[i]--;
            else changed = true;
        }
    }
}

static inline void tiled_conv_auto_tiles(int batch_size, int out_row_dim, int out_col_dim,
                                         int in_channels, int out_channels, int kernel_dim,
                                         int stride, int kernel_dilation, int tiles[7]) {
    dlac_conv_auto_tiles(batch_size, out_row_dim, out_col_dim, in_channels, out_channels,
                         kernel_dim, stride, kernel_dilation, NULL, tiles);
}

static inline void tiled_conv_stride_auto(int batch_size, int in_row_dim, int in_col_dim,
        int in_channels, int out_channels, int out_row_dim, int out_col_dim, int stride,
        int input_dilation, int kernel_dilation, int padding, int kernel_dim, int in_stride,
        int weight_stride, int out_stride, bool wrot180, bool trans_output_1203,
        bool trans_input_3120, bool trans_weight_1203, bool trans_weight_0132,
        const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output, int act,
        acc_scale_t scale, int pool_size, int pool_stride, int pool_padding,
        enum tiled_matmul_type_t tiled_conv_type) {
    const dlac_conv_feat feat = {input_dilation, pool_size, pool_stride, pool_padding, wrot180,
                                 trans_output_1203, trans_input_3120, trans_weight_1203,
                                 trans_weight_0132};
    const int psize = pool_stride ? pool_size : 1, pstride = pool_stride ? pool_stride : 1;
    const int ppad = pool_stride ? pool_padding : 0;
    int t[7];
    dlac_conv_auto_tiles(batch_size, (out_row_dim + 2 * ppad - psize) / pstride + 1,
                         (out_col_dim + 2 * ppad - psize) / pstride + 1, in_channels, out_channels,
                         kernel_dim, stride, kernel_dilation,
                         dlac_conv_feat_any(&feat) ? &feat : NULL, t);
    tiled_conv(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
               out_col_dim, stride, input_dilation, kernel_dilation, padding, kernel_dim, in_stride,
               weight_stride, out_stride, wrot180, trans_output_1203, trans_input_3120,
               trans_weight_1203, trans_weight_0132, t[0], t[1], t[2], t[3], t[4], t[5], t[6],
               input, weights, bias, output, act, scale, pool_size, pool_stride, pool_padding,
               tiled_conv_type);
}

static inline void tiled_conv_auto(int batch_size, int in_row_dim, int in_col_dim,
        int in_channels, int out_channels, int out_row_dim, int out_col_dim, int stride,
        int input_dilation, int kernel_dilation, int padding, int kernel_dim, bool wrot180,
        bool trans_output_1203, bool trans_input_3120, bool trans_weight_1203,
        bool trans_weight_0132, const elem_t *input, const elem_t *weights, const acc_t *bias,
        elem_t *output, int act, acc_scale_t scale, int pool_size, int pool_stride,
        int pool_padding, enum tiled_matmul_type_t tiled_conv_type) {
    tiled_conv_stride_auto(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,
                           out_row_dim, out_col_dim, stride, input_dilation, kernel_dilation,
                           padding, kernel_dim, in_channels, out_channels, out_channels, wrot180,
                           trans_output_1203, trans_input_3120, trans_weight_1203,
                           trans_weight_0132, input, weights, bias, output, act, scale, pool_size,
                           pool_stride, pool_padding, tiled_conv_type);
}

/* Depthwise conv, one channel at a time through the dense conv path.
 * weights are [channel][krow][kcol], as in Gemmini's library. */
static inline void tiled_conv_dw_auto(int batch_size, int in_row_dim, int in_col_dim, int channels,
        int out_row_dim, int out_col_dim, int stride, int padding, int kernel_dim,
        const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output, int act,
        acc_scale_t scale, int pool_size, int pool_stride, int pool_padding,
        enum tiled_matmul_type_t tiled_conv_type) {
    for (int c = 0; c < channels; c++)
        tiled_conv_stride_auto(batch_size, in_row_dim, in_col_dim, 1, 1, out_row_dim, out_col_dim,
                               stride, 1, 1, padding, kernel_dim, channels, 1, channels,
                               false, false, false, false, false, input + c,
                               weights + (size_t)c * kernel_dim * kernel_dim,
                               bias ? bias + c : NULL, output + c, act, scale, pool_size,
                               pool_stride, pool_padding, tiled_conv_type);
}

/* A depthwise conv over `channels` channels as block-diagonal dense convs over groups of
 * `group_width` channels, in one library call (dlac's lowering; see
 * passes/depthwise_groups.py). Group g0 reads and writes channels g0.. (in/out stride =
 * in_stride / channels) and weights [krow][kcol][group_width][channels] from column g0; a
 * narrower last group uses the first krow*kcol*w rows of its columns. batches == 0 picks
 * Gemmini's tiling heuristic for one group; otherwise each group runs the given tiles
 * with both channel tiles equal to its width. */
static inline void dlac_tiled_conv_dw_groups(int batch_size, int in_row_dim, int in_col_dim,
        int channels, int group_width, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int batches, int porows,
        int pocols, int krows, int kcols, const elem_t *input, const elem_t *weights,
        const acc_t *bias, elem_t *output, int act, acc_scale_t scale, const char *perm) {
    if (group_width <= 0 || group_width > DIM) {
        gemmini_lib_fail("dlac_tiled_conv_dw_groups: group width must be in 1..DIM");
        return;
    }
    int t[7] = {batches, porows, pocols, group_width, krows, kcols, group_width};
    if (batches == 0)
        tiled_conv_auto_tiles(batch_size, out_row_dim, out_col_dim, group_width, group_width,
                              kernel_dim, stride, kernel_dilation, t);
    for (int g0 = 0; g0 < channels; g0 += group_width) {
        const int w = dlac_min_i(group_width, channels - g0);
        dlac_conv_tiles(batch_size, in_row_dim, in_col_dim, w, w, out_row_dim, out_col_dim, stride,
                        kernel_dilation, padding, kernel_dim, in_stride, channels, channels, t[0],
                        t[1], t[2], dlac_min_i(t[3], w), t[4], t[5], dlac_min_i(t[6], w),
                        input + g0, weights + g0, bias ? bias + g0 : NULL, output + g0, act,
                        scale, perm, g0 == 0);
    }
    gemmini_fence();
}

/* Pitch (scratchpad rows per padded input row) of the flat depthwise layout: a multiple of
 * the stride, wide enough for a row's pixels and left padding, for one output row per
 * pitch / stride outputs, and for the last output column's taps to run at most into the
 * next row's (zero) left padding. */
static inline int dlac_dw_flat_pitch(int in_col_dim, int out_col_dim, int stride, int padding,
                                     int kernel_dim) {
    int pitch = dlac_max_i(padding + in_col_dim,
                           dlac_max_i(stride * (out_col_dim - 1) + kernel_dim - padding,
                                      stride * out_col_dim));
    return DLAC_CEIL(pitch, stride) * stride;
}

/* Accumulator rows (flat outputs) of one group of a flat depthwise tile of `porows` output
 * rows, and the padded input rows (`pitch` positions each) of each of its row phases. */
static inline void dlac_dw_flat_rows(int porows, int out_col_dim, int stride, int kernel_dim,
                                     int pitch, int *phase_rows, size_t *acc_rows) {
    const size_t outs = (size_t)(porows - 1) * (pitch / stride) + out_col_dim;
    const size_t reach = (size_t)stride * (outs - 1) +
                         (size_t)((kernel_dim - 1) / stride) * pitch + kernel_dim;
    *acc_rows = outs;
    *phase_rows = (int)DLAC_CEIL(reach, (size_t)pitch);
}

/* One flat depthwise conv call: the layer, its layout, and where the tiles live. */
typedef struct dlac_dw_flat {
    int batch_size, in_row_dim, in_col_dim, channels, out_row_dim, out_col_dim, stride, padding,
        kernel_dim, in_stride, out_stride, porows, pgroups, width, ngroups, taps, pitch;
    size_t phase, plane, outs, wslot, sp_total;
    uint32_t half, half_acc;
    const elem_t *input, *weights;
    const acc_t *bias;
    elem_t *output;
} dlac_dw_flat;

/* One tile: `ng` groups from group `gb`, image `b`, `np` output rows from `p0`; `slot`
 * picks the scratchpad/accumulator half, `rows` its input rows per phase. */
typedef struct dlac_dw_flat_tile {
    int gb, ng, b, p0, np, slot, rows;
    size_t outs;
} dlac_dw_flat_tile;

static inline void dlac_dw_flat_tile_at(const dlac_dw_flat *c, int gb, int b, int p0, int slot,
                                        dlac_dw_flat_tile *t) {
    t->gb = gb;
    t->ng = dlac_min_i(c->pgroups, c->ngroups - gb);
    t->b = b;
    t->p0 = p0;
    t->np = dlac_min_i(c->porows, c->out_row_dim - p0);
    t->slot = slot;
    dlac_dw_flat_rows(t->np, c->out_col_dim, c->stride, c->kernel_dim, c->pitch, &t->rows, &t->outs);
}

/* The tile after `t` (rows, then images, then group blocks); false after the last. */
static inline bool dlac_dw_flat_next(const dlac_dw_flat *c, const dlac_dw_flat_tile *t,
                                     dlac_dw_flat_tile *n) {
    int gb = t->gb, b = t->b, p0 = t->p0 + c->porows;
    if (p0 >= c->out_row_dim) {
        p0 = 0;
        if (++b >= c->batch_size) {
            b = 0;
            gb += c->pgroups;
        }
    }
    if (gb >= c->ngroups) return false;
    dlac_dw_flat_tile_at(c, gb, b, p0, t->slot ^ 1, n);
    return true;
}

static inline uint32_t dlac_dw_flat_wbase(const dlac_dw_flat *c, int gb) {
    return (uint32_t)(c->sp_total - ((size_t)((gb / c->pgroups) % 2) + 1) * c->wslot);
}

static inline void dlac_dw_flat_weight(const dlac_dw_flat *c, const dlac_dw_flat_tile *t, int j,
                                       int k) {
    const int w = dlac_min_i(c->width, c->channels - (t->gb + j) * c->width);
    gemmini_extended_mvin2(c->weights + ((size_t)(t->gb + j) * c->taps + k) * c->width * c->width,
                           dlac_dw_flat_wbase(c, t->gb) + (uint32_t)((j * c->taps + k) * DIM), w, w);
}

/* Move `n` positions starting at scratchpad row `pos` in: from `src` (one pixel per row)
 * or zeros when src is NULL, `cols` channels across the group planes. */
static inline void dlac_dw_flat_fill(const dlac_dw_flat *c, const elem_t *src, uint32_t pos,
                                     int n, int cols) {
    for (int i = 0; i < n; i += DIM)
        gemmini_extended_mvin(src ? src + (size_t)i * c->in_stride : NULL, pos + (uint32_t)i,
                              cols, dlac_min_i(DIM, n - i));
}

static inline int dlac_dw_flat_load_count(const dlac_dw_flat *c, const dlac_dw_flat_tile *t) {
    return DLAC_CEIL(t->ng, MAX_BLOCK_LEN) * c->stride * t->rows;
}

/* Input rows [from, to) of tile `t`, counted over (block of MAX_BLOCK_LEN groups, phase,
 * row). Row i of a phase spans positions [i * pitch + padding, (i + 1) * pitch + padding):
 * its pixels, then the zeros right of them and left of the next row (the first row also
 * writes the zeros before it). */
static inline void dlac_dw_flat_load(const dlac_dw_flat *c, const dlac_dw_flat_tile *t,
                                     int from, int to) {
    for (int n = from; n < to; n++) {
        const int i = n % t->rows, ph = (n / t->rows) % c->stride;
        const int jb = n / (t->rows * c->stride) * MAX_BLOCK_LEN;
        const int cols = dlac_min_i(dlac_min_i(MAX_BLOCK_LEN, t->ng - jb) * DIM,
                                    c->channels - (t->gb + jb) * c->width);
        const uint32_t base = (uint32_t)t->slot * c->half + (uint32_t)(jb * c->plane + ph * c->phase);
        const int row = (t->p0 + i) * c->stride + ph - c->padding;
        const int start = i * c->pitch + c->padding;
        if (i == 0) dlac_dw_flat_fill(c, NULL, base, c->padding, cols);
        if (row < 0 || row >= c->in_row_dim) {
            dlac_dw_flat_fill(c, NULL, base + start, c->pitch, cols);
            continue;
        }
        dlac_dw_flat_fill(c, c->input + ((size_t)(t->b * c->in_row_dim + row) * c->in_col_dim) *
                                            c->in_stride + (t->gb + jb) * c->width,
                          base + start, c->in_col_dim, cols);
        dlac_dw_flat_fill(c, NULL, base + start + c->in_col_dim, c->pitch - c->in_col_dim, cols);
    }
}

static inline void dlac_dw_flat_bias(const dlac_dw_flat *c, const dlac_dw_flat_tile *t) {
    if (!c->bias) return;
    const uint32_t acc = 1u << 31;
    for (int jb = 0; jb < t->ng; jb += MAX_BLOCK_LEN_ACC) {
        const int cols = dlac_min_i(dlac_min_i(MAX_BLOCK_LEN_ACC, t->ng - jb) * DIM,
                                    c->channels - (t->gb + jb) * c->width);
        for (size_t o = 0; o < t->outs; o += DIM)
            gemmini_extended_mvin3(c->bias + (t->gb + jb) * c->width,
                                   acc | ((uint32_t)t->slot * c->half_acc + (uint32_t)(jb * c->outs + o)),
                                   cols, dlac_min_sz(DIM, t->outs - o));
    }
}

/* Output row `p` of group `j` of tile `t`, moved out (scaled, activated) to DRAM. */
static inline void dlac_dw_flat_store(const dlac_dw_flat *c, const dlac_dw_flat_tile *t, int j,
                                      int p) {
    const uint32_t acc = 1u << 31;
    const int g0 = (t->gb + j) * c->width, w = dlac_min_i(c->width, c->channels - g0);
    for (int q = 0; q < c->out_col_dim; q += DIM)
        gemmini_extended_mvout(
            c->output + ((size_t)(t->b * c->out_row_dim + t->p0 + p) * c->out_col_dim + q) *
                            c->out_stride + g0,
            acc | ((uint32_t)t->slot * c->half_acc +
                   (uint32_t)(j * c->outs + p * (c->pitch / c->stride) + q)),
            w, dlac_min_i(DIM, c->out_col_dim - q));
}

/* Outputs [o, o + DIM) of kernel tap `k` of group `j`: the tap's first chunk preloads its
 * diagonal weights, the rest reuse them; all accumulate onto the bias (or the first tap's
 * results). */
static inline void dlac_dw_flat_compute(const dlac_dw_flat *c, const dlac_dw_flat_tile *t,
                                        int j, int k, size_t o) {
    const uint32_t acc = 1u << 31, accum = 1u << 30;
    const int w = dlac_min_i(c->width, c->channels - (t->gb + j) * c->width);
    const int r = k / c->kernel_dim, s = k % c->kernel_dim, n = (int)dlac_min_sz(DIM, t->outs - o);
    const uint32_t a = (uint32_t)t->slot * c->half +
                       (uint32_t)(j * c->plane + (r % c->stride) * c->phase +
                                  (r / c->stride) * c->pitch + s + c->stride * o);
    const uint32_t out = acc | ((c->bias || k) ? accum : 0) |
                         ((uint32_t)t->slot * c->half_acc + (uint32_t)(j * c->outs + o));
    if (o == 0) {
        gemmini_extended_preload(dlac_dw_flat_wbase(c, t->gb) + (uint32_t)((j * c->taps + k) * DIM),
                                 out, w, w, w, n);
        gemmini_extended_compute_preloaded(a, GARBAGE_ADDR, w, n, DIM, DIM);
    } else {
        gemmini_extended_preload(GARBAGE_ADDR, out, DIM, DIM, w, n);
        gemmini_extended_compute_accumulated(a, GARBAGE_ADDR, w, n, DIM, DIM);
    }
}

/* Work issued between a tile's computes, as one stream of items: the previous tile's
 * stores (one per group and output row), then the next tile's loads (its group block's
 * weights when the block is new, one per group and tap; its input rows; its bias). The
 * CPU issues in order into small reservation stations, so a burst of loads or stores
 * would stall it while the array runs dry; a share after each compute keeps all busy. */
typedef struct dlac_dw_flat_feed {
    const dlac_dw_flat_tile *prev, *next;
    int stores, weights, rows, total, done;
} dlac_dw_flat_feed;

static inline void dlac_dw_flat_feed_init(const dlac_dw_flat *c, const dlac_dw_flat_tile *prev,
                                          const dlac_dw_flat_tile *next, bool new_block,
                                          dlac_dw_flat_feed *f) {
    f->prev = prev;
    f->next = next;
    f->stores = prev ? prev->ng * prev->np : 0;
    f->weights = next && new_block ? next->ng * c->taps : 0;
    f->rows = next ? dlac_dw_flat_load_count(c, next) : 0;
    f->total = f->stores + f->weights + f->rows + (next ? 1 : 0);
    f->done = 0;
}

static inline void dlac_dw_flat_feed_to(const dlac_dw_flat *c, dlac_dw_flat_feed *f, int upto) {
    for (; f->done < upto; f->done++) {
        int n = f->done;
        if (n < f->stores) {
            dlac_dw_flat_store(c, f->prev, n / f->prev->np, n % f->prev->np);
            continue;
        }
        n -= f->stores;
        if (n < f->weights) dlac_dw_flat_weight(c, f->next, n / c->taps, n % c->taps);
        else if (n < f->weights + f->rows) dlac_dw_flat_load(c, f->next, n - f->weights, n - f->weights + 1);
        else dlac_dw_flat_bias(c, f->next);
    }
}

/* A depthwise conv on flattened rows (dlac's "flat" lowering, see dse/lowering.py). Each
 * group's padded input rows lie back to back in the scratchpad, `pitch` positions apart,
 * split into `stride` row phases (row y in phase y % stride), so output (p, q) of a tile is
 * flat output o = p * pitch / stride + q and kernel tap (r, s) reads position
 * stride * o + (r / stride) * pitch + s of phase r % stride: one compute covers DIM outputs
 * across output rows (the few that fall in the padding are garbage and never moved out),
 * where loop_conv_ws covers at most one output row. Padding is written as zeros (mvin
 * from address 0). Weights are one diagonal matrix per group and tap, [group][krow][kcol]
 * [w][w] with w = min(DIM, channels) (passes/depthwise_groups.diagonal_blocks), so each
 * tap's weights are one contiguous block for the DMA. Tiles: `porows` output rows by
 * `pgroups` groups of DIM channels, double buffered; the CPU issues every instruction, so
 * the next tile's loads are interleaved with this tile's computes to keep both units busy
 * through the in-order reservation stations. */
static inline void dlac_conv_dw_flat(int batch_size, int in_row_dim, int in_col_dim,
        int channels, int out_row_dim, int out_col_dim, int stride, int padding, int kernel_dim,
        int in_stride, int out_stride, int porows, int pgroups, const elem_t *input,
        const elem_t *weights, const acc_t *bias, elem_t *output, int act, acc_scale_t scale) {
    dlac_dw_flat c = {.batch_size = batch_size, .in_row_dim = in_row_dim,
                      .in_col_dim = in_col_dim, .channels = channels,
                      .out_row_dim = out_row_dim, .out_col_dim = out_col_dim, .stride = stride,
                      .padding = padding, .kernel_dim = kernel_dim, .in_stride = in_stride,
                      .out_stride = out_stride, .porows = porows, .pgroups = pgroups};
    c.width = dlac_min_i(DIM, channels);
    c.ngroups = DLAC_CEIL(channels, c.width);
    c.taps = kernel_dim * kernel_dim;
    if (porows < 1 || pgroups < 1 || porows > out_row_dim || pgroups > c.ngroups) {
        gemmini_lib_fail("dlac_conv_dw_flat: tiles must be >= 1 and within the layer");
        return;
    }
    c.pitch = dlac_dw_flat_pitch(in_col_dim, out_col_dim, stride, padding, kernel_dim);
    int rows;
    dlac_dw_flat_rows(porows, out_col_dim, stride, kernel_dim, c.pitch, &rows, &c.outs);
    c.phase = (size_t)rows * c.pitch + padding;
    c.plane = (size_t)stride * c.phase;
    c.sp_total = (size_t)BANK_NUM * BANK_ROWS;
    c.wslot = (size_t)pgroups * c.taps * DIM;
    if (2 * c.wslot >= c.sp_total || (size_t)pgroups * c.plane > (c.sp_total - 2 * c.wslot) / 2 ||
        (size_t)pgroups * c.outs > (size_t)ACC_ROWS / 2 || c.plane > 0xFFFF || c.outs > 0xFFFF) {
        gemmini_lib_fail("dlac_conv_dw_flat: the tile does not fit the scratchpad/accumulator");
        return;
    }
    c.half = (uint32_t)((c.sp_total - 2 * c.wslot) / 2);
    c.half_acc = ACC_ROWS / 2;
    c.input = input;
    c.weights = weights;
    c.bias = bias;
    c.output = output;
    dlac_charge(0, 0);
    gemmini_working_set((double)batch_size * (in_row_dim * in_col_dim + out_row_dim * out_col_dim) *
                            channels + (double)c.taps * c.width * channels + (bias ? 4.0 * channels : 0.0));
    gemmini_extended_config_st(out_stride * sizeof(elem_t), act & 3, scale);
    gemmini_extended3_config_ex(WEIGHT_STATIONARY, 0, 0, ACC_SCALE_IDENTITY, 1, stride, false,
                                false, false);
    gemmini_extended4_config_ld(in_stride * sizeof(elem_t), MVIN_SCALE_IDENTITY, false,
                                (uint32_t)c.plane, 0);
    gemmini_extended4_config_ld(c.width * sizeof(elem_t), MVIN_SCALE_IDENTITY, false, DIM, 1);
    gemmini_extended4_config_ld(0, MVIN_SCALE_IDENTITY, false, (uint32_t)c.outs, 2);
    dlac_dw_flat_tile prev, cur, nxt;
    dlac_dw_flat_feed feed;
    dlac_dw_flat_tile_at(&c, 0, 0, 0, 0, &cur);
    dlac_dw_flat_feed_init(&c, NULL, &cur, true, &feed);
    dlac_dw_flat_feed_to(&c, &feed, feed.total);
    for (bool first = true;; first = false) {
        const bool more = dlac_dw_flat_next(&c, &cur, &nxt);
        dlac_charge(1, 0);
        dlac_dw_flat_feed_init(&c, first ? NULL : &prev, more ? &nxt : NULL,
                               more && nxt.gb != cur.gb, &feed);
        const long pairs = (long)cur.ng * c.taps * (long)DLAC_CEIL(cur.outs, DIM);
        long pair = 0;
        for (int j = 0; j < cur.ng; j++)
            for (int k = 0; k < c.taps; k++)
                for (size_t o = 0; o < cur.outs; o += DIM) {
                    dlac_dw_flat_compute(&c, &cur, j, k, o);
                    dlac_dw_flat_feed_to(&c, &feed, (int)(feed.total * ++pair / pairs));
                }
        prev = cur;
        if (!more) break;
        cur = nxt;
    }
    for (int j = 0; j < prev.ng; j++)
        for (int p = 0; p < prev.np; p++) dlac_dw_flat_store(&c, &prev, j, p);
    gemmini_fence();
}

/* ---- residual add and global average ------------------------------------------------- */

/* Tiles in elements, as in Gemmini's library (rounded up to whole DIM blocks). */
static inline void tiled_resadd(size_t I, size_t J, size_t stride, size_t tile_I, size_t tile_J,
        scale_t A_scale, scale_t B_scale, acc_scale_t C_scale, const elem_t *A, const elem_t *B,
        elem_t *C, bool relu, enum tiled_matmul_type_t matadd_type) {
    if (matadd_type == CPU) {
        resadd_cpu(I, J, stride, A_scale, B_scale, C_scale, A, B, C, relu);
        return;
    }
    dlac_charge(0, 0);
    gemmini_working_set(3.0 * (double)I * J);
    gemmini_extended_config_st(stride * sizeof(elem_t), relu ? RELU : NO_ACTIVATION, C_scale);
    gemmini_config_ex(WEIGHT_STATIONARY, 0, 0);
    gemmini_extended4_config_ld(stride * sizeof(elem_t), A_scale, true, DIM, 0);
    gemmini_extended4_config_ld(stride * sizeof(elem_t), B_scale, true, DIM, 1);
    const size_t dI = DLAC_CEIL(I, DIM), dJ = DLAC_CEIL(J, DIM);
    tile_I = DLAC_CEIL(tile_I, DIM);
    tile_J = DLAC_CEIL(tile_J, DIM);
    for (size_t i = 0; i < dI; i += tile_I)
        for (size_t j = 0; j < dJ; j += tile_J) {
            const size_t ti = dlac_min_sz(tile_I, dI - i), tj = dlac_min_sz(tile_J, dJ - j);
            const size_t pad_I = i + ti == dI ? dI * DIM - I : 0;
            const size_t pad_J = j + tj == dJ ? dJ * DIM - J : 0;
            const size_t off = i * DIM * stride + j * DIM;
            dlac_charge(1, 0);
            gemmini_loop_ws(ti, tj, 1, pad_I, pad_J, 0, A + off, B + off, NULL, C + off, stride,
                            stride, 0, stride, false, false, false, false, false, relu, 0, 0, true);
        }
    gemmini_fence();
}

static inline void tiled_resadd_stride_auto(size_t I, size_t J, scale_t A_scale,
        scale_t B_scale, acc_scale_t C_scale, size_t stride, const elem_t *A, const elem_t *B,
        elem_t *C, bool relu, enum tiled_matmul_type_t matadd_type) {
    size_t tI = DLAC_CEIL(I, DIM), tJ = DLAC_CEIL(J, DIM);
    while (tI * tJ * DIM > ACC_ROWS / 2) {
        if (tI >= tJ || tJ <= 1) tI = DLAC_CEIL(tI, 2);
        else tJ--;
    }
    tiled_resadd(I, J, stride, tI * DIM, tJ * DIM, A_scale, B_scale, C_scale, A, B, C, relu,
                 matadd_type);
}

static inline void tiled_resadd_auto(size_t I, size_t J, scale_t A_scale, scale_t B_scale,
        acc_scale_t C_scale, const elem_t *A, const elem_t *B, elem_t *C, bool relu,
        enum tiled_matmul_type_t matadd_type) {
    tiled_resadd_stride_auto(I, J, A_scale, B_scale, C_scale, J, A, B, C, relu, matadd_type);
}

/* Mean over the dim x dim pixels of each image, per channel (NHWC in, [batch][channel] out). */
static inline void tiled_global_average_auto(const elem_t *input, elem_t *output, int batches,
                                             int channels, int dim,
                                             enum tiled_matmul_type_t type) {
    (void)type;
    const uint32_t acc = 1u << 31, accum = 1u << 30;
    const int blocks = DLAC_CEIL(channels, DIM);
    if (blocks > ACC_ROWS) {
        gemmini_lib_fail("tiled_global_average: too many channels for the accumulator");
        return;
    }
    dlac_charge(0, 0);
    gemmini_working_set((double)batches * (dim * dim + 1) * channels);
    gemmini_extended_config_st(channels * sizeof(elem_t), NO_ACTIVATION, 1.0f / (float)(dim * dim));
    gemmini_extended4_config_ld(channels * sizeof(elem_t), MVIN_SCALE_IDENTITY, true, 1, 0);
    for (int b = 0; b < batches; b++) {
        for (int p = 0; p < dim * dim; p++)
            for (int c = 0; c < blocks; c += MAX_BLOCK_LEN) {
                const int cols = dlac_min_i(MAX_BLOCK_LEN * DIM, channels - c * DIM);
                gemmini_extended_mvin(input + ((size_t)b * dim * dim + p) * channels + c * DIM,
                                      acc | (p ? accum : 0) | (uint32_t)c, cols, 1);
            }
        for (int c = 0; c < blocks; c++)
            gemmini_extended_mvout(output + (size_t)b * channels + c * DIM, acc | (uint32_t)c,
                                   dlac_min_i(DIM, channels - c * DIM), 1);
    }
    gemmini_fence();
}

#endif
