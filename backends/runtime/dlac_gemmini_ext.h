/* dlac's extensions to Gemmini's software library, included by the emitted model after
 * gemmini.h: explicit DRAM loop orders for tiled_matmul / tiled_conv, depthwise convs over
 * channel groups and on flattened rows, and the CPU clock.
 *
 * Written only on Gemmini's public primitives (the mvin / mvout / preload / compute /
 * config macros, gemmini_loop_ws, gemmini_loop_conv_ws, gemmini_fence and the public
 * tiled_* calls of Gemmini's gemmini.h), so the same file issues the same instructions, in
 * the tuned orders, on an RTL SoC, on Spike + libgemmini and on dlac-sim.
 *
 * The four DLAC_EXT_* hooks mark where the library's own CPU work happens and what a call
 * touches; they compile to nothing (and a bad argument prints and exits, as Gemmini's
 * library does) unless the build defines them first. dlac-sim's builds force-include
 * dlac_sim_ext_hooks.h, which charges that work to the simulated CPU clock. */
#ifndef DLAC_GEMMINI_EXT_H
#define DLAC_GEMMINI_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A library call starts (conv: a tiled_conv-like call); one tile is issued. */
#ifndef DLAC_EXT_CALL
#define DLAC_EXT_CALL(conv) ((void)0)
#endif
#ifndef DLAC_EXT_TILE
#define DLAC_EXT_TILE(conv) ((void)0)
#endif
/* Bytes the call moves between DRAM and the accelerator. */
#ifndef DLAC_EXT_BYTES
#define DLAC_EXT_BYTES(bytes) ((void)0)
#endif
/* A bad argument (the caller returns right after). */
#ifndef DLAC_EXT_FAIL
#define DLAC_EXT_FAIL(reason) \
    do { \
        printf("%s\n", reason); \
        exit(1); \
    } while (0)
#endif

#define DLAC_EXT_CEIL(a, b) (((a) + (b) - 1) / (b))

static inline size_t dlac_ext_min_sz(size_t a, size_t b) { return a < b ? a : b; }
static inline int dlac_ext_min_i(int a, int b) { return a < b ? a : b; }
static inline int dlac_ext_max_i(int a, int b) { return a > b ? a : b; }

/* The CPU clock (rdcycle; dlac-sim's header maps it to the simulated clock). Named apart
 * from gemmini_testutils.h's read_cycles so both can be included. */
static inline uint64_t dlac_read_cycles(void) {
    uint64_t cycles;
    __asm__ volatile("rdcycle %0" : "=r"(cycles));
    return cycles;
}

/* Parse a DRAM loop permutation such as "CRSKPQN" / "IJK" (outermost first) into the
 * positions of `dims`; false if it is not a permutation. */
static inline bool dlac_parse_perm(const char *perm, const char *dims, int n, int *order) {
    if (!perm || (int)strlen(perm) != n) return false;
    for (int i = 0; i < n; i++) {
        const char *p = strchr(dims, perm[i]);
        if (!p || perm[i] == 0) return false;
        order[i] = (int)(p - dims);
        for (int j = 0; j < i; j++)
            if (order[j] == order[i]) return false;
    }
    return true;
}

/* ---- tiled_matmul with a DRAM loop order ------------------------------------------- */

static inline void dlac_tiled_matmul_perm(size_t dim_I, size_t dim_J, size_t dim_K,
        const elem_t *A, const elem_t *B, const void *D, void *C,
        size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        int act, acc_scale_t scale, acc_scale_t bert_scale, bool repeating_bias,
        size_t tile_I, size_t tile_J, size_t tile_K, bool transpose_A, bool transpose_B,
        bool full_C, bool low_D, uint8_t weightA, int dataflow, const char *perm) {
    (void)bert_scale;
    (void)weightA;
    (void)D_scale_factor;
    const size_t dI = DLAC_EXT_CEIL(dim_I, DIM) * DIM, dJ = DLAC_EXT_CEIL(dim_J, DIM) * DIM,
                 dK = DLAC_EXT_CEIL(dim_K, DIM) * DIM;
    const size_t I0 = DLAC_EXT_CEIL(dI, tile_I * DIM), J0 = DLAC_EXT_CEIL(dJ, tile_J * DIM),
                 K0 = DLAC_EXT_CEIL(dK, tile_K * DIM);
    const size_t sizeof_D = low_D ? sizeof(elem_t) : sizeof(acc_t);
    const size_t sizeof_C = full_C ? sizeof(acc_t) : sizeof(elem_t);
    int order[3] = {0, 1, 2};
    if (perm && !dlac_parse_perm(perm, "IJK", 3, order)) {
        DLAC_EXT_FAIL("tiled_matmul: bad loop permutation (want a permutation of IJK)");
        return;
    }
    DLAC_EXT_CALL(0);
    DLAC_EXT_BYTES((double)(dim_I * dim_K + dim_K * dim_J) * sizeof(elem_t) +
                   (D ? (double)(repeating_bias ? 1 : dim_I) * dim_J * sizeof_D : 0.0) +
                   (double)dim_I * dim_J * sizeof_C);
    gemmini_extended_config_ex(dataflow, act & 3, 0, 1, transpose_A, transpose_B);
    gemmini_extended_config_st(stride_C * sizeof_C, act & 3, scale);
    gemmini_extended3_config_ld(stride_A * sizeof(elem_t), A_scale_factor, false, 0);
    gemmini_extended3_config_ld(stride_B * sizeof(elem_t), B_scale_factor, false, 1);
    gemmini_extended3_config_ld(repeating_bias ? 0 : (stride_D * sizeof_D), MVIN_SCALE_IDENTITY,
                                low_D, 2);
    const size_t bounds[3] = {I0, J0, K0};
    size_t idx[3];
    const size_t total = I0 * J0 * K0;
    for (size_t n = 0; n < total; n++) {
        size_t rem = n;
        for (int lv = 2; lv >= 0; lv--) {
            idx[order[lv]] = rem % bounds[order[lv]];
            rem /= bounds[order[lv]];
        }
        const size_t i0 = idx[0], j0 = idx[1], k0 = idx[2];
        const size_t I = i0 < I0 - 1 ? tile_I : (dI / DIM) - (I0 - 1) * tile_I;
        const size_t J = j0 < J0 - 1 ? tile_J : (dJ / DIM) - (J0 - 1) * tile_J;
        const size_t K = k0 < K0 - 1 ? tile_K : (dK / DIM) - (K0 - 1) * tile_K;
        const size_t pad_I = i0 == I0 - 1 ? dI - dim_I : 0;
        const size_t pad_J = j0 == J0 - 1 ? dJ - dim_J : 0;
        const size_t pad_K = k0 == K0 - 1 ? dK - dim_K : 0;
        const size_t ri = i0 * tile_I * DIM, rj = j0 * tile_J * DIM, rk = k0 * tile_K * DIM;
        const elem_t *a = transpose_A ? A + rk * stride_A + ri : A + ri * stride_A + rk;
        const elem_t *b = transpose_B ? B + rj * stride_B + rk : B + rk * stride_B + rj;
        const void *pre = NULL;
        if (D && k0 == 0)
            pre = (const char *)D + ((repeating_bias ? 0 : ri * stride_D) + rj) * sizeof_D;
        void *out = k0 == K0 - 1 ? (char *)C + (ri * stride_C + rj) * sizeof_C : NULL;
        DLAC_EXT_TILE(0);
        if (dataflow == WEIGHT_STATIONARY) {
            /* Pin an operand to a scratchpad half when it has at most two distinct tiles. */
            int a_spad_id = 0, b_spad_id = 0;
            if (I0 * K0 <= 2) {
                a_spad_id = (int)(i0 * K0 + k0) + 1;
                if (j0 > 0) a = NULL;
            }
            if (J0 * K0 <= 2) {
                b_spad_id = (int)(j0 * K0 + k0) + 1;
                if (i0 > 0) b = NULL;
            }
            /* ex_accumulate: onto the bias or the earlier K tiles (Gemmini's convention:
             * without it the first K tile overwrites, dropping a moved-in bias) */
            gemmini_loop_ws(I, J, K, pad_I, pad_J, pad_K, a, b, pre, out, stride_A, stride_B,
                            repeating_bias ? 0 : stride_D, stride_C, transpose_A, transpose_B,
                            full_C, low_D, pre != NULL || k0 > 0, act, a_spad_id, b_spad_id,
                            false);
        } else {
            /* OS: software-unrolled tile; A then B in the scratchpad, C in the accumulator. */
            const uint32_t b_base = (uint32_t)(I * K * DIM);
            const uint32_t acc = 1u << 31, accum = 1u << 30, fullb = 1u << 29;
            const size_t rowsI = I * DIM - pad_I, colsJ = J * DIM - pad_J, colsK = K * DIM - pad_K;
            if (pre)
                for (size_t i = 0; i < I; i++)
                    for (size_t j = 0; j < J; j++)
                        gemmini_extended_mvin3((const char *)pre +
                                                   ((repeating_bias ? 0 : i * DIM * stride_D) + j * DIM) * sizeof_D,
                                               acc | (uint32_t)((i * J + j) * DIM),
                                               dlac_ext_min_sz(DIM, colsJ - j * DIM), dlac_ext_min_sz(DIM, rowsI - i * DIM));
            for (size_t i = 0; i < I; i++)
                for (size_t k = 0; k < K; k++)
                    gemmini_extended_mvin(a + i * DIM * stride_A + k * DIM, (uint32_t)((i * K + k) * DIM),
                                          dlac_ext_min_sz(DIM, colsK - k * DIM), dlac_ext_min_sz(DIM, rowsI - i * DIM));
            for (size_t k = 0; k < K; k++)
                for (size_t j = 0; j < J; j++)
                    gemmini_extended_mvin2(b + k * DIM * stride_B + j * DIM, b_base + (uint32_t)((k * J + j) * DIM),
                                           dlac_ext_min_sz(DIM, colsJ - j * DIM), dlac_ext_min_sz(DIM, colsK - k * DIM));
            for (size_t i = 0; i < I; i++)
                for (size_t j = 0; j < J; j++) {
                    const size_t ir = dlac_ext_min_sz(DIM, rowsI - i * DIM), jc = dlac_ext_min_sz(DIM, colsJ - j * DIM);
                    const uint32_t c_addr = acc | ((pre || k0 > 0) ? accum : 0) | (uint32_t)((i * J + j) * DIM);
                    for (size_t k = 0; k < K; k++) {
                        const size_t kc = dlac_ext_min_sz(DIM, colsK - k * DIM);
                        gemmini_extended_preload(GARBAGE_ADDR, k == K - 1 ? c_addr : GARBAGE_ADDR, DIM, DIM, jc, ir);
                        /* braces: Gemmini's instruction macros are blocks */
                        if (k == 0) {
                            gemmini_extended_compute_preloaded((uint32_t)((i * K + k) * DIM),
                                                               b_base + (uint32_t)((k * J + j) * DIM), kc, ir, jc, kc);
                        } else {
                            gemmini_extended_compute_accumulated((uint32_t)((i * K + k) * DIM),
                                                                 b_base + (uint32_t)((k * J + j) * DIM), kc, ir, jc, kc);
                        }
                    }
                }
            if (out)
                for (size_t i = 0; i < I; i++)
                    for (size_t j = 0; j < J; j++)
                        gemmini_extended_mvout((char *)out + (i * DIM * stride_C + j * DIM) * sizeof_C,
                                               acc | (full_C ? fullb : 0) | (uint32_t)((i * J + j) * DIM),
                                               dlac_ext_min_sz(DIM, colsJ - j * DIM), dlac_ext_min_sz(DIM, rowsI - i * DIM));
        }
    }
    gemmini_fence();
}

/* ---- tiled_conv with a DRAM loop order --------------------------------------------- */

/* One conv with explicit tiles and an explicit DRAM loop order over "NPQKRSC"-style letters:
 * N batch, Q output rows, P output cols, K output channels, S kernel rows, R kernel cols,
 * C input channels (DOSA's names).  perm == NULL means Gemmini's order b, orow, ocol, och,
 * krow, kcol, kch. */
static inline void dlac_ext_conv_tiles(int batch_size, int in_row_dim, int in_col_dim,
        int in_channels, int out_channels, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int weight_stride,
        int out_stride, int batches, int porows, int pocols, int pochs, int krows, int kcols,
        int kchs, const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output,
        int act, acc_scale_t scale, const char *perm, bool new_call) {
    /* index order of the loop counters: b, orow, ocol, och, krow, kcol, kch */
    int order[7] = {0, 1, 2, 3, 4, 5, 6};
    if (perm && !dlac_parse_perm(perm, "NQPKSRC", 7, order)) {
        DLAC_EXT_FAIL("tiled_conv: bad loop permutation (want a permutation of NQPKSRC)");
        return;
    }
    const int full[7] = {batch_size, out_row_dim, out_col_dim, out_channels, kernel_dim, kernel_dim,
                         in_channels};
    const int tile[7] = {batches, porows, pocols, pochs, krows, kcols, kchs};
    int count[7];
    size_t total = 1;
    for (int d = 0; d < 7; d++) {
        if (tile[d] <= 0) {
            DLAC_EXT_FAIL("tiled_conv: tile sizes must be >= 1");
            return;
        }
        count[d] = DLAC_EXT_CEIL(full[d], tile[d]);
        total *= (size_t)count[d];
    }
    if (new_call) DLAC_EXT_CALL(1);
    DLAC_EXT_BYTES((double)batch_size * in_row_dim * in_col_dim * in_channels +
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
        const int nb = dlac_ext_min_i(batches, batch_size - b), nor = dlac_ext_min_i(porows, out_row_dim - orow),
                  noc = dlac_ext_min_i(pocols, out_col_dim - ocol), nk = dlac_ext_min_i(pochs, out_channels - och),
                  nkr = dlac_ext_min_i(krows, kernel_dim - krow), nkc = dlac_ext_min_i(kcols, kernel_dim - kcol),
                  nc = dlac_ext_min_i(kchs, in_channels - kch);
        const int irow = orow * stride + krow * kernel_dilation - padding;
        const int icol = ocol * stride + kcol * kernel_dilation - padding;
        /* the input window as Gemmini's loop FSM sizes it: orows * stride + dilated krows - 1 */
        const int irows = nor * stride + (nkr - 1) * kernel_dilation;
        const int icols = noc * stride + (nkc - 1) * kernel_dilation;
        /* a kernel tile whose dilated rows/cols fall wholly in the padding: all padding */
        int upad = dlac_ext_max_i(-irow, 0), lpad = dlac_ext_max_i(-icol, 0);
        int dpad = dlac_ext_max_i(irow + irows - in_row_dim, 0), rpad = dlac_ext_max_i(icol + icols - in_col_dim, 0);
        if (upad > irows) upad = irows;
        if (lpad > icols) lpad = icols;
        if (upad + dpad > irows) dpad = irows - upad;
        if (lpad + rpad > icols) rpad = icols - lpad;
        const int first = krow == 0 && kcol == 0 && kch == 0;
        const int last = krow + krows >= kernel_dim && kcol + kcols >= kernel_dim && kch + kchs >= in_channels;
        const elem_t *in = input + ((size_t)(b * in_row_dim + irow + upad) * in_col_dim + (icol + lpad)) *
                                       in_stride + kch;
        const elem_t *w = weights + ((size_t)(krow * kernel_dim + kcol) * in_channels + kch) * weight_stride + och;
        /* Gemmini's bias convention: the first kernel tile moves in the bias, or zeros (a
         * dummy address with no_bias); later tiles pass NULL and accumulate */
        const acc_t *bi = !first ? NULL : bias ? bias + och : (const acc_t *)(uintptr_t)sizeof(acc_t);
        elem_t *out = last ? output + ((size_t)(b * out_row_dim + orow) * out_col_dim + ocol) * out_stride + och
                           : NULL;
        DLAC_EXT_TILE(1);
        gemmini_loop_conv_ws(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
                             out_col_dim, out_row_dim, out_col_dim, stride, padding, kernel_dim,
                             kernel_dilation, 0, 0, 0, nb, nor, noc, nk, nkr, nkc, nc, lpad, rpad,
                             upad, dpad, 0, 0, 0, 0, nor, noc, w, out, bi, in, !bias, true,
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
    dlac_ext_conv_tiles(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,
                        out_row_dim, out_col_dim, stride, kernel_dilation, padding, kernel_dim,
                        in_stride, weight_stride, out_stride, batches, porows, pocols, pochs,
                        krows, kcols, kchs, input, weights, bias, output, act, scale, perm, true);
    gemmini_fence();
}

/* ---- depthwise convs ---------------------------------------------------------------- */

/* A depthwise conv over `channels` channels as block-diagonal dense convs over groups of
 * `group_width` channels, in one library call (dlac's lowering; see
 * passes/depthwise_groups.py). Group g0 reads and writes channels g0.. (in/out stride =
 * in_stride / channels) and weights [krow][kcol][group_width][channels] from column g0; a
 * narrower last group uses the first krow*kcol*w rows of its columns. batches == 0 runs
 * each group through Gemmini's tiled_conv_stride_auto (its tiling heuristic); otherwise
 * each group runs the given tiles, both channel tiles equal to its width, in `perm`'s order
 * (NULL: Gemmini's). */
static inline void dlac_tiled_conv_dw_groups(int batch_size, int in_row_dim, int in_col_dim,
        int channels, int group_width, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int batches, int porows,
        int pocols, int krows, int kcols, const elem_t *input, const elem_t *weights,
        const acc_t *bias, elem_t *output, int act, acc_scale_t scale, const char *perm) {
    if (group_width <= 0 || group_width > DIM) {
        DLAC_EXT_FAIL("dlac_tiled_conv_dw_groups: group width must be in 1..DIM");
        return;
    }
    for (int g0 = 0; g0 < channels; g0 += group_width) {
        const int w = dlac_ext_min_i(group_width, channels - g0);
        const acc_t *b = bias ? bias + g0 : NULL;
        if (batches == 0)
            tiled_conv_stride_auto(batch_size, in_row_dim, in_col_dim, w, w, out_row_dim,
                                   out_col_dim, stride, 1, kernel_dilation, padding, kernel_dim,
                                   in_stride, channels, channels, false, false, false, false,
                                   false, input + g0, weights + g0, b, output + g0, act, scale,
                                   0, 0, 0, WS);
        else
            dlac_ext_conv_tiles(batch_size, in_row_dim, in_col_dim, w, w, out_row_dim,
                                out_col_dim, stride, kernel_dilation, padding, kernel_dim,
                                in_stride, channels, channels, batches, porows, pocols, w, krows,
                                kcols, w, input + g0, weights + g0, b, output + g0, act, scale,
                                perm, g0 == 0);
    }
    gemmini_fence();
}

/* Pitch (scratchpad rows per padded input row) of the flat depthwise layout: a multiple of
 * the stride, wide enough for a row's pixels and left padding, for one output row per
 * pitch / stride outputs, and for the last output column's taps to run at most into the
 * next row's (zero) left padding. */
static inline int dlac_dw_flat_pitch(int in_col_dim, int out_col_dim, int stride, int padding,
                                     int kernel_dim) {
    int pitch = dlac_ext_max_i(padding + in_col_dim,
                           dlac_ext_max_i(stride * (out_col_dim - 1) + kernel_dim - padding,
                                      stride * out_col_dim));
    return DLAC_EXT_CEIL(pitch, stride) * stride;
}

/* Accumulator rows (flat outputs) of one group of a flat depthwise tile of `porows` output
 * rows, and the padded input rows (`pitch` positions each) of each of its row phases. */
static inline void dlac_dw_flat_rows(int porows, int out_col_dim, int stride, int kernel_dim,
                                     int pitch, int *phase_rows, size_t *acc_rows) {
    const size_t outs = (size_t)(porows - 1) * (pitch / stride) + out_col_dim;
    const size_t reach = (size_t)stride * (outs - 1) +
                         (size_t)((kernel_dim - 1) / stride) * pitch + kernel_dim;
    *acc_rows = outs;
    *phase_rows = (int)DLAC_EXT_CEIL(reach, (size_t)pitch);
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
    t->ng = dlac_ext_min_i(c->pgroups, c->ngroups - gb);
    t->b = b;
    t->p0 = p0;
    t->np = dlac_ext_min_i(c->porows, c->out_row_dim - p0);
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
    const int w = dlac_ext_min_i(c->width, c->channels - (t->gb + j) * c->width);
    gemmini_extended_mvin2(c->weights + ((size_t)(t->gb + j) * c->taps + k) * c->width * c->width,
                           dlac_dw_flat_wbase(c, t->gb) + (uint32_t)((j * c->taps + k) * DIM), w, w);
}

/* Move `n` positions starting at scratchpad row `pos` in: from `src` (one pixel per row)
 * or zeros when src is NULL, `cols` channels across the group planes. */
static inline void dlac_dw_flat_fill(const dlac_dw_flat *c, const elem_t *src, uint32_t pos,
                                     int n, int cols) {
    for (int i = 0; i < n; i += DIM)
        gemmini_extended_mvin(src ? src + (size_t)i * c->in_stride : NULL, pos + (uint32_t)i,
                              cols, dlac_ext_min_i(DIM, n - i));
}

static inline int dlac_dw_flat_load_count(const dlac_dw_flat *c, const dlac_dw_flat_tile *t) {
    return DLAC_EXT_CEIL(t->ng, MAX_BLOCK_LEN) * c->stride * t->rows;
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
        const int cols = dlac_ext_min_i(dlac_ext_min_i(MAX_BLOCK_LEN, t->ng - jb) * DIM,
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
        const int cols = dlac_ext_min_i(dlac_ext_min_i(MAX_BLOCK_LEN_ACC, t->ng - jb) * DIM,
                                    c->channels - (t->gb + jb) * c->width);
        for (size_t o = 0; o < t->outs; o += DIM)
            gemmini_extended_mvin3(c->bias + (t->gb + jb) * c->width,
                                   acc | ((uint32_t)t->slot * c->half_acc + (uint32_t)(jb * c->outs + o)),
                                   cols, dlac_ext_min_sz(DIM, t->outs - o));
    }
}

/* Output row `p` of group `j` of tile `t`, moved out (scaled, activated) to DRAM. */
static inline void dlac_dw_flat_store(const dlac_dw_flat *c, const dlac_dw_flat_tile *t, int j,
                                      int p) {
    const uint32_t acc = 1u << 31;
    const int g0 = (t->gb + j) * c->width, w = dlac_ext_min_i(c->width, c->channels - g0);
    for (int q = 0; q < c->out_col_dim; q += DIM)
        gemmini_extended_mvout(
            c->output + ((size_t)(t->b * c->out_row_dim + t->p0 + p) * c->out_col_dim + q) *
                            c->out_stride + g0,
            acc | ((uint32_t)t->slot * c->half_acc +
                   (uint32_t)(j * c->outs + p * (c->pitch / c->stride) + q)),
            w, dlac_ext_min_i(DIM, c->out_col_dim - q));
}

/* Outputs [o, o + DIM) of kernel tap `k` of group `j`: the tap's first chunk preloads its
 * diagonal weights, the rest reuse them; all accumulate onto the bias (or the first tap's
 * results). */
static inline void dlac_dw_flat_compute(const dlac_dw_flat *c, const dlac_dw_flat_tile *t,
                                        int j, int k, size_t o) {
    const uint32_t acc = 1u << 31, accum = 1u << 30;
    const int w = dlac_ext_min_i(c->width, c->channels - (t->gb + j) * c->width);
    const int r = k / c->kernel_dim, s = k % c->kernel_dim, n = (int)dlac_ext_min_sz(DIM, t->outs - o);
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
    c.width = dlac_ext_min_i(DIM, channels);
    c.ngroups = DLAC_EXT_CEIL(channels, c.width);
    c.taps = kernel_dim * kernel_dim;
    if (porows < 1 || pgroups < 1 || porows > out_row_dim || pgroups > c.ngroups) {
        DLAC_EXT_FAIL("dlac_conv_dw_flat: tiles must be >= 1 and within the layer");
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
        DLAC_EXT_FAIL("dlac_conv_dw_flat: the tile does not fit the scratchpad/accumulator");
        return;
    }
    c.half = (uint32_t)((c.sp_total - 2 * c.wslot) / 2);
    c.half_acc = ACC_ROWS / 2;
    c.input = input;
    c.weights = weights;
    c.bias = bias;
    c.output = output;
    DLAC_EXT_CALL(0);
    DLAC_EXT_BYTES((double)batch_size * (in_row_dim * in_col_dim + out_row_dim * out_col_dim) *
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
        DLAC_EXT_TILE(0);
        dlac_dw_flat_feed_init(&c, first ? NULL : &prev, more ? &nxt : NULL,
                               more && nxt.gb != cur.gb, &feed);
        const long pairs = (long)cur.ng * c.taps * (long)DLAC_EXT_CEIL(cur.outs, DIM);
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

#endif
