/* Entry points of the C library for Python (ctypes): each runs one library call on `sim`
 * and returns non-zero if a hardware assertion or library check fired.  Compiled per
 * target, because the library's tiling depends on gemmini_params.h.  dlac's extensions
 * (dlac_gemmini_ext.h, the emitted models' copy) run with the simulator's cost hooks
 * (dlac_sim_ext_hooks.h, which gemmini.h includes before the tile loops). */
#include "gemmini.h"
#include "dlac_gemmini_ext.h"

int dlac_py_matmul(dlac_sim *sim, size_t I, size_t J, size_t K, const elem_t *A,
                   const elem_t *B, const void *D, void *C, size_t sA, size_t sB, size_t sD,
                   size_t sC, float a_scale, float b_scale, int act, float scale,
                   int repeating_bias, size_t tI, size_t tJ, size_t tK, int tA, int tB,
                   int full_C, int low_D, int dataflow, const char *perm) {
    dlac_sim_set_current(sim);
    if (tI == 0) tiled_matmul_auto_tiles(I, J, K, dataflow == WEIGHT_STATIONARY, &tI, &tJ, &tK);
    if (perm)
        dlac_tiled_matmul_perm(I, J, K, A, B, D, C, sA, sB, sD, sC, a_scale, b_scale, 0, act,
                               scale, 0, repeating_bias, tI, tJ, tK, tA, tB, full_C, low_D, 0,
                               dataflow, perm);
    else
        tiled_matmul(I, J, K, A, B, D, C, sA, sB, sD, sC, a_scale, b_scale, 0, act, scale, 0,
                     repeating_bias, tI, tJ, tK, tA, tB, full_C, low_D, 0,
                     dataflow == WEIGHT_STATIONARY ? WS : OS);
    return dlac_sim_failed(sim);
}

void dlac_py_matmul_tiles(size_t I, size_t J, size_t K, int ws, size_t *out) {
    tiled_matmul_auto_tiles(I, J, K, ws, &out[0], &out[1], &out[2]);
}

void dlac_py_conv_tiles(int batch, int orows, int ocols, int in_ch, int out_ch, int kdim,
                        int stride, int kdil, int *out) {
    tiled_conv_auto_tiles(batch, orows, ocols, in_ch, out_ch, kdim, stride, kdil, out);
}

/* tiles: NULL = Gemmini's heuristic, else [batches, porows, pocols, pochs, krows, kcols, kchs].
 * gemmini_pads: each tile's padding unclamped, as gemmini.h's tiled_conv passes it.
 * in/weight/out_stride: row strides of channel slices of wider buffers (0: dense). */
int dlac_py_conv(dlac_sim *sim, int batch, int in_rows, int in_cols, int in_ch, int out_ch,
                 int out_rows, int out_cols, int stride, int kdil, int padding, int kdim,
                 const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output,
                 int act, float scale, const int *tiles, const char *perm, int gemmini_pads,
                 int in_stride, int weight_stride, int out_stride) {
    dlac_sim_set_current(sim);
    int t[7];
    if (tiles) memcpy(t, tiles, sizeof t);
    else tiled_conv_auto_tiles(batch, out_rows, out_cols, in_ch, out_ch, kdim, stride, kdil, t);
    dlac_ext_conv_tiles(batch, in_rows, in_cols, in_ch, out_ch, out_rows, out_cols, stride, kdil,
                        padding, kdim, in_stride ? in_stride : in_ch,
                        weight_stride ? weight_stride : out_ch, out_stride ? out_stride : out_ch,
                        t[0], t[1], t[2], t[3], t[4], t[5],
                        t[6], input, weights, bias, output, act, scale, perm, true,
                        gemmini_pads != 0);
    gemmini_fence();
    return dlac_sim_failed(sim);
}

/* A conv whose store max-pools its output (pool_size/stride/padding, as the emitted code
 * calls tiled_conv for a fused max pool): tiles count pooled outputs and run in the
 * library's own loop order; NULL tiles = Gemmini's pooled heuristic. */
int dlac_py_conv_pool(dlac_sim *sim, int batch, int in_rows, int in_cols, int in_ch, int out_ch,
                      int out_rows, int out_cols, int stride, int padding, int kdim,
                      const elem_t *input, const elem_t *weights, const acc_t *bias,
                      elem_t *output, int pool_size, int pool_stride, int pool_padding,
                      const int *tiles) {
    dlac_sim_set_current(sim);
    if (tiles)
        tiled_conv(batch, in_rows, in_cols, in_ch, out_ch, out_rows, out_cols, stride, 1, 1,
                   padding, kdim, in_ch, out_ch, out_ch, false, false, false, false, false,
                   tiles[0], tiles[1], tiles[2], tiles[3], tiles[4], tiles[5], tiles[6], input,
                   weights, bias, output, RELU, 1.0f, pool_size, pool_stride, pool_padding, WS);
    else
        tiled_conv_stride_auto(batch, in_rows, in_cols, in_ch, out_ch, out_rows, out_cols, stride,
                               1, 1, padding, kdim, in_ch, out_ch, out_ch, false, false, false,
                               false, false, input, weights, bias, output, RELU, 1.0f, pool_size,
                               pool_stride, pool_padding, WS);
    gemmini_fence();
    return dlac_sim_failed(sim);
}

/* A depthwise conv as block-diagonal dense convs over groups of `width` channels in one call;
 * tiles: NULL = Gemmini's heuristic per group, else [batches, porows, pocols, krows, kcols]. */
int dlac_py_conv_dw(dlac_sim *sim, int batch, int in_rows, int in_cols, int channels, int width,
                    int out_rows, int out_cols, int stride, int kdil, int padding, int kdim,
                    const elem_t *input, const elem_t *weights, const acc_t *bias,
                    elem_t *output, int act, float scale, const int *tiles, const char *perm) {
    dlac_sim_set_current(sim);
    int t[5] = {0, 0, 0, 0, 0};
    if (tiles) memcpy(t, tiles, sizeof t);
    dlac_tiled_conv_dw_groups(batch, in_rows, in_cols, channels, width, out_rows, out_cols, stride,
                              kdil, padding, kdim, channels, t[0], t[1], t[2], t[3], t[4], input,
                              weights, bias, output, act, scale, perm);
    return dlac_sim_failed(sim);
}

/* A depthwise conv on flattened rows (dlac_conv_dw_flat); tiles: [porows, pgroups]. */
int dlac_py_conv_dw_flat(dlac_sim *sim, int batch, int in_rows, int in_cols, int channels,
                         int out_rows, int out_cols, int stride, int padding, int kdim,
                         const elem_t *input, const elem_t *weights, const acc_t *bias,
                         elem_t *output, int act, float scale, int porows, int pgroups) {
    dlac_sim_set_current(sim);
    dlac_conv_dw_flat(batch, in_rows, in_cols, channels, out_rows, out_cols, stride, padding, kdim,
                      channels, channels, porows, pgroups, input, weights, bias, output, act,
                      scale);
    return dlac_sim_failed(sim);
}

int dlac_py_resadd(dlac_sim *sim, size_t I, size_t J, float a_scale, float b_scale,
                   float c_scale, const elem_t *A, const elem_t *B, elem_t *C, int relu) {
    dlac_sim_set_current(sim);
    tiled_resadd_auto(I, J, a_scale, b_scale, c_scale, A, B, C, relu, WS);
    return dlac_sim_failed(sim);
}

int dlac_py_global_average(dlac_sim *sim, const elem_t *input, elem_t *output, int batches,
                           int channels, int dim) {
    dlac_sim_set_current(sim);
    tiled_global_average_auto(input, output, batches, channels, dim, WS);
    return dlac_sim_failed(sim);
}
