/* tiled_conv's WS path for convs with pooling, input dilation, a rotated kernel or layout
 * transposes: Gemmini's tile loop over pooled output pixels, each tile one LOOP_CONV_WS
 * with the feature flags set (the loop FSM pools during the store and reads the
 * transposed/dilated layouts).  Plain convs run dlac_gemmini_tiles.h's loop.  Included by
 * gemmini_lib_conv.h.
 */
#ifndef DLAC_GEMMINI_LIB_CONV_EXT_H
#define DLAC_GEMMINI_LIB_CONV_EXT_H

/* Everything a conv asks for beyond a plain NHWC x HWIO conv. */
typedef struct dlac_conv_feat {
    int input_dilation, pool_size, pool_stride, pool_padding;
    bool wrot180, trans_output_1203, trans_input_3120, trans_weight_1203, trans_weight_0132;
} dlac_conv_feat;

static inline bool dlac_conv_feat_any(const dlac_conv_feat *f) {
    return f->input_dilation != 1 || f->pool_stride != 0 || f->wrot180 || f->trans_output_1203 ||
           f->trans_input_3120 || f->trans_weight_1203 || f->trans_weight_0132;
}

static inline bool dlac_conv_feat_check(const dlac_conv_feat *f, int stride) {
    const char *why = NULL;
    if (f->input_dilation > 2) why = "tiled_conv: input dilation > 2 runs only on the CPU";
    else if (f->input_dilation > 1 && stride > 1) why = "tiled_conv: input dilation needs stride 1";
    else if (f->trans_output_1203 && f->pool_stride) why = "tiled_conv: a transposed output cannot be pooled";
    else if (f->trans_input_3120 && f->trans_weight_0132)
        why = "tiled_conv: WS cannot transpose both the input and the weights' inner dims";
    else if (f->trans_weight_1203 && f->trans_weight_0132) why = "tiled_conv: one weight transpose at a time";
    if (why) gemmini_lib_fail(why);
    return why == NULL;
}

static inline void dlac_tiled_conv_ext(int batch_size, int in_row_dim, int in_col_dim,
        int in_channels, int out_channels, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int weight_stride,
        int out_stride, const dlac_conv_feat *f, int batches, int porows, int pocols, int pochs,
        int krows, int kcols, int kchs, const elem_t *input, const elem_t *weights,
        const acc_t *bias, elem_t *output, int act, acc_scale_t scale) {
    if (!dlac_conv_feat_check(f, stride)) return;
    const bool no_pool = f->pool_stride == 0, no_bias = bias == NULL;
    const int psize = no_pool ? 1 : f->pool_size, pstride = no_pool ? 1 : f->pool_stride;
    const int ppad = no_pool ? 0 : f->pool_padding;
    const int input_dilated = f->input_dilation == 2;
    const int prow_dim = (out_row_dim + 2 * ppad - psize) / pstride + 1;
    const int pcol_dim = (out_col_dim + 2 * ppad - psize) / pstride + 1;
    const int drow_dim = in_row_dim + (f->input_dilation - 1) * (in_row_dim - 1);
    const int dcol_dim = in_col_dim + (f->input_dilation - 1) * (in_col_dim - 1);
    const acc_t *bias_base = no_bias ? (const acc_t *)(uintptr_t)sizeof(acc_t) : bias;
    dlac_charge(0, 1);
    gemmini_working_set((double)batch_size * in_row_dim * in_col_dim * in_channels +
                        (double)kernel_dim * kernel_dim * in_channels * out_channels +
                        (no_bias ? 0.0 : 4.0 * out_channels) +
                        (double)batch_size * prow_dim * pcol_dim * out_channels);
    gemmini_extended_config_st(f->trans_output_1203 ? (size_t)batch_size * out_channels
                                                    : (size_t)out_stride, act & 3, scale);
    gemmini_extended3_config_ex(WEIGHT_STATIONARY, 0, 0, ACC_SCALE_IDENTITY, f->input_dilation,
                                stride, f->trans_input_3120, f->trans_weight_0132, false);
    for (int b = 0; b < batch_size; b += batches)
        for (int porow = 0; porow < prow_dim; porow += porows) {
            const int orow = porow * pstride - ppad;
            for (int pocol = 0; pocol < pcol_dim; pocol += pocols) {
                const int ocol = pocol * pstride - ppad;
                for (int poch = 0; poch < out_channels; poch += pochs)
                    for (int krow = 0; krow < kernel_dim; krow += krows)
                        for (int kcol = 0; kcol < kernel_dim; kcol += kcols)
                            for (int kch = 0; kch < in_channels; kch += kchs) {
                                const int nb = dlac_min_i(batches, batch_size - b);
                                const int npr = dlac_min_i(porows, prow_dim - porow);
                                const int npc = dlac_min_i(pocols, pcol_dim - pocol);
                                const int nk = dlac_min_i(pochs, out_channels - poch);
                                const int nkr = dlac_min_i(krows, kernel_dim - krow);
                                const int nkc = dlac_min_i(kcols, kernel_dim - kcol);
                                const int nc = dlac_min_i(kchs, in_channels - kch);
                                /* the conv outputs the pooling windows of this tile cover */
                                const int tocols = npc * pstride + psize - 1;
                                const int torows = npr * pstride + psize - 1;
                                const int plpad = ocol < 0 ? -ocol : 0;
                                const int prpad = dlac_max_i(ocol + tocols - out_col_dim, 0);
                                const int pupad = orow < 0 ? -orow : 0;
                                const int pdpad = dlac_max_i(orow + torows - out_row_dim, 0);
                                const int dkr = nkr + (kernel_dilation - 1) * (nkr - 1);
                                const int dkc = nkc + (kernel_dilation - 1) * (nkc - 1);
                                const int irow = dlac_max_i(orow, 0) * stride + krow * kernel_dilation - padding;
                                const int icol = dlac_max_i(ocol, 0) * stride + kcol * kernel_dilation - padding;
                                const int icols = (tocols - plpad - prpad) * stride + dkc - 1;
                                const int irows = (torows - pupad - pdpad) * stride + dkr - 1;
                                int lpad = icol < 0 ? -icol : 0, upad = irow < 0 ? -irow : 0;
                                int rpad = dlac_max_i(icol + icols - dcol_dim, 0);
                                int dpad = dlac_max_i(irow + irows - drow_dim, 0);
                                if (input_dilated) {
                                    /* start and end the dilated tile on real pixels */
                                    lpad += lpad == 0 && icol % 2 != 0;
                                    rpad += rpad == 0 && (icol + icols) % 2 != 1;
                                    upad += upad == 0 && irow % 2 != 0;
                                    dpad += dpad == 0 && (irow + irows) % 2 != 1;
                                }
                                const int wr = f->wrot180 ? kernel_dim - krow - nkr : krow;
                                const int wc = f->wrot180 ? kernel_dim - kcol - nkc : kcol;
                                const elem_t *w;
                                if (f->trans_weight_1203)
                                    w = weights + ((size_t)kch * kernel_dim * kernel_dim + wr * kernel_dim + wc) *
                                                      out_channels + poch;
                                else if (f->trans_weight_0132)
                                    w = weights + ((size_t)(wr * kernel_dim + wc) * out_channels + poch) *
                                                      in_channels + kch;
                                else
                                    w = weights + ((size_t)(wr * kernel_dim + wc) * in_channels + kch) *
                                                      weight_stride + poch;
                                const size_t pix = (size_t)((irow + upad) >> input_dilated) * in_col_dim +
                                                   (size_t)((icol + lpad) >> input_dilated);
                                const elem_t *in = f->trans_input_3120
                                    ? input + ((size_t)kch * in_row_dim * in_col_dim + pix) * batch_size + b
                                    : input + ((size_t)b * in_row_dim * in_col_dim + pix) * in_stride + kch;
                                const bool last = krow + krows >= kernel_dim && kcol + kcols >= kernel_dim &&
                                                  kch + kchs >= in_channels;
                                elem_t *out = NULL;
                                if (last && f->trans_output_1203)
                                    out = output + (((size_t)porow * pcol_dim + pocol) * batch_size + b) *
                                                       out_channels + poch;
                                else if (last)
                                    out = output + (((size_t)b * prow_dim + porow) * pcol_dim + pocol) *
                                                       out_stride + poch;
                                const acc_t *bi = krow == 0 && kcol == 0 && kch == 0 ? bias_base + poch : NULL;
                                dlac_charge(1, 1);
                                gemmini_loop_conv_ws(batch_size, in_row_dim, in_col_dim, in_channels,
                                    out_channels, out_row_dim, out_col_dim, prow_dim, pcol_dim, stride,
                                    padding, kernel_dim, kernel_dilation, psize, pstride, ppad, nb, npr,
                                    npc, nk, nkr, nkc, nc, lpad, rpad, upad, dpad, plpad, prpad, pupad,
                                    pdpad, torows - pupad - pdpad, tocols - plpad - prpad, w, out, bi, in,
                                    no_bias, no_pool, false, f->wrot180, input_dilated, act,
                                    f->trans_output_1203, f->trans_weight_1203, f->trans_weight_0132,
                                    f->trans_input_3120, 1, in_stride, weight_stride, out_stride, false,
                                    0, 0);
                            }
            }
        }
    gemmini_fence();
}

#endif
