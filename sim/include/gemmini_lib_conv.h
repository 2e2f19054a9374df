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
    dlac_tiled_conv_perm(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,
                         out_row_dim, out_col_dim, stride, kernel_dilation, padding, kernel_dim,
                         in_stride, weight_stride, out_stride, batches, porows, pocols, pochs,
                         krows, kcols, kchs, input, weights, bias, output, act, scale, NULL);
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
