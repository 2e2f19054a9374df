/* dlac's extensions to Gemmini's software library, included by the emitted model after
 * gemmini.h. Written only on what both Gemmini's own gemmini.h and dlac's simulator header
 * provide, so the same model C builds for an RTL SoC, Spike + libgemmini and dlac-sim. */
#ifndef DLAC_GEMMINI_EXT_H
#define DLAC_GEMMINI_EXT_H

#include <stdint.h>

/* The CPU clock: rdcycle on RISC-V, the simulated host clock on dlac-sim (named apart from
 * gemmini_testutils.h's read_cycles so both can be included). */
static inline uint64_t dlac_read_cycles(void) {
#ifdef DLAC_SIM_H
    dlac_sim_stats st;
    dlac_sim_get_stats(gemmini_sim(), &st);
    return (uint64_t)st.host_cycles;
#else
    uint64_t cycles;
    __asm__ volatile("rdcycle %0" : "=r"(cycles));
    return cycles;
#endif
}

#ifndef DLAC_SIM_H
/* On Gemmini's own library the extensions below run through its public tiled_* calls. A
 * DRAM loop permutation only reorders exact int32 accumulation, so these run Gemmini's
 * default order: the same bytes, not the tuned DRAM traffic. */

/* tiled_matmul with a DRAM loop order (perm over "IJK"). */
static inline void dlac_tiled_matmul_perm(size_t dim_I, size_t dim_J, size_t dim_K,
        const elem_t *A, const elem_t *B, const void *D, void *C,
        size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        int act, acc_scale_t scale, acc_scale_t bert_scale, bool repeating_bias,
        size_t tile_I, size_t tile_J, size_t tile_K, bool transpose_A, bool transpose_B,
        bool full_C, bool low_D, uint8_t weightA, int dataflow, const char *perm) {
    (void)perm;
    tiled_matmul(dim_I, dim_J, dim_K, A, B, D, C, stride_A, stride_B, stride_D, stride_C,
                 A_scale_factor, B_scale_factor, D_scale_factor, act, scale, bert_scale,
                 repeating_bias, tile_I, tile_J, tile_K, transpose_A, transpose_B, full_C, low_D,
                 weightA, dataflow == WEIGHT_STATIONARY ? WS : OS);
}

/* tiled_conv with a DRAM loop order (perm over "NQPKSRC"). */
static inline void dlac_tiled_conv_perm(int batch_size, int in_row_dim, int in_col_dim,
        int in_channels, int out_channels, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int weight_stride,
        int out_stride, int batches, int porows, int pocols, int pochs, int krows, int kcols,
        int kchs, const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output,
        int act, acc_scale_t scale, const char *perm) {
    (void)perm;
    tiled_conv(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
               out_col_dim, stride, 1, kernel_dilation, padding, kernel_dim, in_stride,
               weight_stride, out_stride, false, false, false, false, false, batches, porows,
               pocols, pochs, krows, kcols, kchs, input, weights, bias, output, act, scale, 0, 0,
               0, WS);
}

/* A depthwise conv as block-diagonal dense convs over groups of `group_width` channels
 * (passes/depthwise_groups.py): group g0 reads and writes channels g0.. with row pitch
 * in_stride / channels and weights [krow][kcol][group_width][channels] from column g0.
 * batches == 0 lets Gemmini's heuristic tile each group. */
static inline void dlac_tiled_conv_dw_groups(int batch_size, int in_row_dim, int in_col_dim,
        int channels, int group_width, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int batches, int porows,
        int pocols, int krows, int kcols, const elem_t *input, const elem_t *weights,
        const acc_t *bias, elem_t *output, int act, acc_scale_t scale, const char *perm) {
    (void)perm;
    for (int g0 = 0; g0 < channels; g0 += group_width) {
        const int w = channels - g0 < group_width ? channels - g0 : group_width;
        const acc_t *b = bias ? bias + g0 : NULL;
        if (batches == 0)
            tiled_conv_stride_auto(batch_size, in_row_dim, in_col_dim, w, w, out_row_dim,
                                   out_col_dim, stride, 1, kernel_dilation, padding, kernel_dim,
                                   in_stride, channels, channels, false, false, false, false,
                                   false, input + g0, weights + g0, b, output + g0, act, scale,
                                   0, 0, 0, WS);
        else
            tiled_conv(batch_size, in_row_dim, in_col_dim, w, w, out_row_dim, out_col_dim, stride,
                       1, kernel_dilation, padding, kernel_dim, in_stride, channels, channels,
                       false, false, false, false, false, batches, porows, pocols, w, krows,
                       kcols, w, input + g0, weights + g0, b, output + g0, act, scale, 0, 0, 0,
                       WS);
    }
}
#endif

#endif
