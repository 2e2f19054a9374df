/* Gemmini's tile loops with an explicit DRAM loop order: tiled_matmul over I, J, K and
 * tiled_conv over its seven tile counters, each tile one gemmini_loop_ws /
 * gemmini_loop_conv_ws (or, for OS matmuls, the CPU-unrolled tile). With no order given
 * they are Gemmini's own loops, so dlac-sim's tiled_matmul / tiled_conv run them too:
 * one copy of the loop for the emitted models (Spike, RTL) and the simulator.
 *
 * Written only on Gemmini's public primitives; included by dlac_gemmini_ext.h after
 * gemmini.h, and by dlac-sim's gemmini.h after its primitives and cost hooks. */
#ifndef DLAC_GEMMINI_TILES_H
#define DLAC_GEMMINI_TILES_H

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
 * krow, kcol, kch.  gemmini_pads passes each tile's padding as gemmini.h's tiled_conv does,
 * unclamped (DOSA's FireSim harness; see sim/csrc/loop_conv_wrap.c for what the RTL then
 * does); otherwise padding beyond a tile's window is clamped to it. */
static inline void dlac_ext_conv_tiles(int batch_size, int in_row_dim, int in_col_dim,
        int in_channels, int out_channels, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int weight_stride,
        int out_stride, int batches, int porows, int pocols, int pochs, int krows, int kcols,
        int kchs, const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output,
        int act, acc_scale_t scale, const char *perm, bool new_call, bool gemmini_pads) {
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
        if (!gemmini_pads) {
            if (upad > irows) upad = irows;
            if (lpad > icols) lpad = icols;
            if (upad + dpad > irows) dpad = irows - upad;
            if (lpad + rpad > icols) rpad = icols - lpad;
        }
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
                        krows, kcols, kchs, input, weights, bias, output, act, scale, perm, true,
                        false);
    gemmini_fence();
}

#endif
