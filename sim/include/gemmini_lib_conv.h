/* Convolution, residual-add and global-average functions of the Gemmini C library for the
 * dlac simulator.  Included by gemmini_lib.h.  Layouts: input NHWC, weights
 * [krow][kcol][in_ch][out_ch], bias int32[out_ch], output NHWC.  Pooling, layout
 * transposes, input dilation and wrot180 are not supported (the call fails cleanly).
 */
#ifndef DLAC_GEMMINI_LIB_CONV_H
#define DLAC_GEMMINI_LIB_CONV_H

static inline int dlac_max_i(int a, int b) { return a > b ? a : b; }
static inline int dlac_min_i(int a, int b) { return a < b ? a : b; }

static inline bool dlac_conv_unsupported(int input_dilation, bool wrot180, bool trans_output_1203,
                                         bool trans_input_3120, bool trans_weight_1203,
                                         bool trans_weight_0132, int pool_stride) {
    if (input_dilation != 1 || wrot180 || trans_output_1203 || trans_input_3120 ||
        trans_weight_1203 || trans_weight_0132) {
        gemmini_lib_fail("tiled_conv: input dilation, wrot180 and layout transposes are not supported");
        return true;
    }
    if (pool_stride != 0) {
        gemmini_lib_fail("tiled_conv: pooling is not supported by dlac-sim");
        return true;
    }
    return false;
}

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
    (void)pool_size;
    (void)pool_padding;
    if (tiled_conv_type != WS) {
        gemmini_lib_fail("tiled_conv: only the WS dataflow is supported");
        return;
    }
    if (dlac_conv_unsupported(input_dilation, wrot180, trans_output_1203, trans_input_3120,
                              trans_weight_1203, trans_weight_0132, pool_stride))
        return;
    dlac_tiled_conv_perm(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
                         out_col_dim, stride, kernel_dilation, padding, kernel_dim, in_stride,
                         weight_stride, out_stride, batches, porows, pocols, pochs, krows, kcols,
                         kchs, input, weights, bias, output, act, scale, NULL);
}

/* Rows a conv tile needs (Gemmini's tiled_conv_total_spad_rows, no pooling). */
static inline void dlac_conv_tile_rows(const int args[7], int stride, int kernel_dilation,
                                       size_t *spad_rows, size_t *acc_rows) {
    const int b = args[0], porows = args[1], pocols = args[2], pochs = args[3], krows = args[4],
              kcols = args[5], kchs = args[6];
    const int dk_r = krows + (kernel_dilation - 1) * (krows - 1);
    const int dk_c = kcols + (kernel_dilation - 1) * (kcols - 1);
    const int irows = porows * stride + dk_r - 1, icols = pocols * stride + dk_c - 1;
    const size_t A = (size_t)DLAC_CEIL(kchs, DIM) * b * irows * icols;
    const size_t B = (size_t)DLAC_CEIL(pochs, DIM) * kcols * krows * kchs;
    *spad_rows = A + B;
    *acc_rows = (size_t)DLAC_CEIL(pochs, DIM) * b * porows * pocols;
}

/* Gemmini's default conv tiling: shrink, grow pocols, then grow everything. */
static inline void tiled_conv_auto_tiles(int batch_size, int out_row_dim, int out_col_dim,
                                         int in_channels, int out_channels, int kernel_dim,
                                         int stride, int kernel_dilation, int tiles[7]) {
    const int maxv[7] = {batch_size, out_row_dim, out_col_dim, out_channels, kernel_dim, kernel_dim,
                         in_channels};
    const size_t spad_max = (size_t)BANK_NUM * BANK_ROWS / 2, acc_max = (size_t)ACC_ROWS / 2;
    int *a = tiles;
    for (int i = 0; i < 7; i++) a[i] = maxv[i];
    size_t sp, ac;
    dlac_conv_tile_rows(a, stride, kernel_dilation, &sp, &ac);
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
        dlac_conv_tile_rows(a, stride, kernel_dilation, &sp, &ac);
    }
    for (;;) {
        if (a[2] + 1 > maxv[2]) break;
        a[2]++;
        dlac_conv_tile_rows(a, stride, kernel_dilation, &sp, &ac);
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
            dlac_conv_tile_rows(a, stride, kernel_dilation, &sp, &ac);
            if (sp > spad_max || ac > acc_max) a[i]--;
            else changed = true;
        }
    }
}

static inline void tiled_conv_stride_auto(int batch_size, int in_row_dim, int in_col_dim,
        int in_channels, int out_channels, int out_row_dim, int out_col_dim, int stride,
        int input_dilation, int kernel_dilation, int padding, int kernel_dim, int in_stride,
        int weight_stride, int out_stride, bool wrot180, bool trans_output_1203,
        bool trans_input_3120, bool trans_weight_1203, bool trans_weight_0132,
        const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output, int act,
        acc_scale_t scale, int pool_size, int pool_stride, int pool_padding,
        enum tiled_matmul_type_t tiled_conv_type) {
    int t[7];
    tiled_conv_auto_tiles(batch_size, out_row_dim, out_col_dim, in_channels, out_channels,
                          kernel_dim, stride, kernel_dilation, t);
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
 * weights are [krow][kcol][channel]. */
static inline void tiled_conv_dw_auto(int batch_size, int in_row_dim, int in_col_dim, int channels,
        int out_row_dim, int out_col_dim, int stride, int padding, int kernel_dim,
        const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output, int act,
        acc_scale_t scale, int pool_size, int pool_stride, int pool_padding,
        enum tiled_matmul_type_t tiled_conv_type) {
    for (int c = 0; c < channels; c++)
        tiled_conv_stride_auto(batch_size, in_row_dim, in_col_dim, 1, 1, out_row_dim, out_col_dim,
                               stride, 1, 1, padding, kernel_dim, channels, channels, channels,
                               false, false, false, false, false, input + c, weights + c,
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

/* ---- residual add and global average ------------------------------------------------- */

static inline void tiled_resadd(size_t I, size_t J, size_t stride, size_t tile_I, size_t tile_J,
        scale_t A_scale, scale_t B_scale, acc_scale_t C_scale, const elem_t *A, const elem_t *B,
        elem_t *C, bool relu, enum tiled_matmul_type_t matadd_type) {
    if (matadd_type == CPU) {
        for (size_t i = 0; i < I; i++)
            for (size_t j = 0; j < J; j++) {
                int32_t a = A[i * stride + j], b = B[i * stride + j];
                if (A_scale != 1.0f) a = (int32_t)MVIN_SCALE(a, A_scale);
                if (B_scale != 1.0f) b = (int32_t)MVIN_SCALE(b, B_scale);
                float y = nearbyintf((float)(a + b) * C_scale);
                int32_t v = y > 127.0f ? 127 : (y < -128.0f ? -128 : (int32_t)y);
                C[i * stride + j] = (elem_t)(relu && v < 0 ? 0 : v);
            }
        return;
    }
    dlac_charge(0, 0);
    gemmini_working_set(3.0 * (double)I * J);
    gemmini_extended_config_st(stride * sizeof(elem_t), relu ? RELU : NO_ACTIVATION, C_scale);
    gemmini_config_ex(WEIGHT_STATIONARY, 0, 0);
    gemmini_extended4_config_ld(stride * sizeof(elem_t), A_scale, true, DIM, 0);
    gemmini_extended4_config_ld(stride * sizeof(elem_t), B_scale, true, DIM, 1);
    const size_t dI = DLAC_CEIL(I, DIM), dJ = DLAC_CEIL(J, DIM);
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

static inline void tiled_resadd_stride_auto(size_t I, size_t J, size_t stride, scale_t A_scale,
        scale_t B_scale, acc_scale_t C_scale, const elem_t *A, const elem_t *B, elem_t *C,
        bool relu, enum tiled_matmul_type_t matadd_type) {
    size_t tI = DLAC_CEIL(I, DIM), tJ = DLAC_CEIL(J, DIM);
    while (tI * tJ * DIM > ACC_ROWS / 2) {
        if (tI >= tJ || tJ <= 1) tI = DLAC_CEIL(tI, 2);
        else tJ--;
    }
    tiled_resadd(I, J, stride, tI, tJ, A_scale, B_scale, C_scale, A, B, C, relu, matadd_type);
}

static inline void tiled_resadd_auto(size_t I, size_t J, scale_t A_scale, scale_t B_scale,
        acc_scale_t C_scale, const elem_t *A, const elem_t *B, elem_t *C, bool relu,
        enum tiled_matmul_type_t matadd_type) {
    tiled_resadd_stride_auto(I, J, J, A_scale, B_scale, C_scale, A, B, C, relu, matadd_type);
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
