/* The C library's CPU fallbacks for convolutions and residual adds (tiled_conv /
 * tiled_resadd with the CPU type), with the arithmetic of Gemmini's own: int32
 * accumulation, ACC_SCALE rounding, int8 saturation, then the activation.  Programs use
 * them as golden references for the accelerated paths.  Included by gemmini_lib_conv.h.
 */
#ifndef DLAC_GEMMINI_LIB_CPU_H
#define DLAC_GEMMINI_LIB_CPU_H

static inline elem_t dlac_cpu_scale_sat(acc_t x, int act, acc_scale_t scale) {
    acc_t y = (acc_t)ACC_SCALE(x, scale);
    y = y > elem_t_max ? elem_t_max : (y < elem_t_min ? elem_t_min : y);
    if (act == RELU && y < 0) y = 0;
    return (elem_t)y;
}

/* One conv output pixel (before pooling): taps that land between the dilated input's
 * pixels or in the padding read zero. */
static inline elem_t dlac_conv_cpu_pixel(int b, int orow, int ocol, int och, int batch_size,
        int in_row_dim, int in_col_dim, int in_channels, int out_channels, int stride,
        int input_dilation, int kernel_dilation, int padding, int kernel_dim, int in_stride,
        int weight_stride, bool wrot180, bool trans_input_3120, bool trans_weight_1203,
        bool trans_weight_0132, const elem_t *input, const elem_t *weights, const acc_t *bias,
        int act, acc_scale_t scale) {
    acc_t sum = bias ? bias[och] : 0;
    for (int kr = 0; kr < kernel_dim; kr++) {
        const int drow = orow * stride + kr * kernel_dilation - padding;
        if (drow < 0 || drow % input_dilation) continue;
        const int irow = drow / input_dilation;
        if (irow >= in_row_dim) continue;
        for (int kc = 0; kc < kernel_dim; kc++) {
            const int dcol = ocol * stride + kc * kernel_dilation - padding;
            if (dcol < 0 || dcol % input_dilation) continue;
            const int icol = dcol / input_dilation;
            if (icol >= in_col_dim) continue;
            const int wr = wrot180 ? kernel_dim - 1 - kr : kr, wc = wrot180 ? kernel_dim - 1 - kc : kc;
            for (int ich = 0; ich < in_channels; ich++) {
                const size_t pix = (size_t)irow * in_col_dim + icol;
                const elem_t x = trans_input_3120
                    ? input[((size_t)ich * in_row_dim * in_col_dim + pix) * batch_size + b]
                    : input[((size_t)b * in_row_dim * in_col_dim + pix) * in_stride + ich];
                size_t w;
                if (trans_weight_1203)
                    w = (((size_t)ich * kernel_dim + wr) * kernel_dim + wc) * out_channels + och;
                else if (trans_weight_0132)
                    w = (((size_t)wr * kernel_dim + wc) * out_channels + och) * in_channels + ich;
                else
                    w = (((size_t)wr * kernel_dim + wc) * in_channels + ich) * weight_stride + och;
                sum += (acc_t)x * weights[w];
            }
        }
    }
    return dlac_cpu_scale_sat(sum, act, scale);
}

/* conv_cpu: the whole conv on the CPU, then max pooling (pool_stride 0: none) whose
 * padding counts as zeros, as Gemmini's pooling unit does. */
static inline void conv_cpu(int batch_size, int in_row_dim, int in_col_dim, int in_channels,
        int out_channels, int out_row_dim, int out_col_dim, int stride, int input_dilation,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int weight_stride,
        int out_stride, bool wrot180, bool trans_output_1203, bool trans_input_3120,
        bool trans_weight_1203, bool trans_weight_0132, const elem_t *input,
        const elem_t *weights, const acc_t *bias, elem_t *output, int act, acc_scale_t scale,
        int pool_size, int pool_stride, int pool_padding) {
    if (pool_stride == 0) {
        pool_size = 1;
        pool_stride = 1;
        pool_padding = 0;
    }
    const int prows = (out_row_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
    const int pcols = (out_col_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
    for (int b = 0; b < batch_size; b++)
        for (int pr = 0; pr < prows; pr++)
            for (int pc = 0; pc < pcols; pc++)
                for (int och = 0; och < out_channels; och++) {
                    int best = elem_t_min;
                    for (int wr = 0; wr < pool_size; wr++)
                        for (int wc = 0; wc < pool_size; wc++) {
                            const int orow = pr * pool_stride + wr - pool_padding;
                            const int ocol = pc * pool_stride + wc - pool_padding;
                            int v = 0;
                            if (orow >= 0 && orow < out_row_dim && ocol >= 0 && ocol < out_col_dim)
                                v = dlac_conv_cpu_pixel(b, orow, ocol, och, batch_size, in_row_dim,
                                                        in_col_dim, in_channels, out_channels, stride,
                                                        input_dilation, kernel_dilation, padding,
                                                        kernel_dim, in_stride, weight_stride, wrot180,
                                                        trans_input_3120, trans_weight_1203,
                                                        trans_weight_0132, input, weights, bias, act,
                                                        scale);
                            if (v > best) best = v;
                        }
                    const size_t o = trans_output_1203
                        ? (((size_t)pr * pcols + pc) * batch_size + b) * out_channels + och
                        : (((size_t)b * prows + pr) * pcols + pc) * out_stride + och;
                    output[o] = (elem_t)best;
                }
}

static inline void resadd_cpu(size_t I, size_t J, size_t stride, scale_t A_scale, scale_t B_scale,
                              acc_scale_t C_scale, const elem_t *A, const elem_t *B, elem_t *C,
                              bool relu) {
    for (size_t i = 0; i < I; i++)
        for (size_t j = 0; j < J; j++) {
            const size_t o = i * stride + j;
            const acc_t sum = (acc_t)MVIN_SCALE(A[o], A_scale) + (acc_t)MVIN_SCALE(B[o], B_scale);
            C[o] = dlac_cpu_scale_sat(sum, relu ? RELU : NO_ACTIVATION, C_scale);
        }
}

#endif
