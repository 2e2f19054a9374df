/* Gemmini's high-level C library (tiled matmul / conv / resadd / global average) for the
 * dlac simulator, written from the documented behaviour: same names, argument orders and
 * default tiling heuristics as Gemmini's gemmini.h.  Included by gemmini.h.
 *
 */
#ifndef DLAC_GEMMINI_LIB_H
#define DLAC_GEMMINI_LIB_H

#define DLAC_CEIL(a, b) (((a) + (b) - 1) / (b))

static inline size_t dlac_min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* CPU time of the library's own code: per call (setup) and per tile (loop bookkeeping).
 * tiled_conv's code (7-deep tile loop, padding and address arithmetic) has its own costs. */
static inline void dlac_charge(int per_tile, int conv) {
    const dlac_sim_config *c = dlac_sim_get_config(gemmini_sim());
    if (conv) gemmini_host_work(per_tile ? c->host_conv_tile_cycles : c->host_conv_call_cycles);
    else gemmini_host_work(per_tile ? c->host_tile_cycles : c->host_call_cycles);
}

/* Gemmini's tile loops, shared with the emitted models' extensions, charging their CPU
 * work through the simulator's hooks. */
#include "dlac_sim_ext_hooks.h"
#include "dlac_gemmini_tiles.h"

/* ---- matmul ------------------------------------------------------------------------- */

static inline void matmul_cpu(bool transA, bool transB, size_t DIM_I, size_t DIM_J, size_t DIM_K,
                              const elem_t *A, const elem_t *B, const void *D, void *C,
                              size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
                              scale_t A_scale_factor, scale_t B_scale_factor,
                              scale_acc_t D_scale_factor, int act, acc_scale_t scale,
                              bool repeating_bias, bool full_C, bool low_D) {
    (void)A_scale_factor;
    (void)B_scale_factor;
    (void)D_scale_factor;
    for (size_t i = 0; i < DIM_I; i++)
        for (size_t j = 0; j < DIM_J; j++) {
            size_t bias_row = repeating_bias ? 0 : i;
            int64_t acc = 0;
            if (D) acc = low_D ? ((const elem_t *)D)[bias_row * stride_D + j]
                               : ((const acc_t *)D)[bias_row * stride_D + j];
            for (size_t k = 0; k < DIM_K; k++) {
                elem_t a = transA ? A[k * stride_A + i] : A[i * stride_A + k];
                elem_t b = transB ? B[j * stride_B + k] : B[k * stride_B + j];
                acc += (int64_t)a * b;
            }
            acc_t a32 = (acc_t)(uint32_t)acc;
            if (full_C) {
                ((acc_t *)C)[i * stride_C + j] = a32;
            } else {
                float y = nearbyintf((float)a32 * scale);
                int32_t v = y > 127.0f ? 127 : (y < -128.0f ? -128 : (int32_t)y);
                if (act == RELU && v < 0) v = 0;
                ((elem_t *)C)[i * stride_C + j] = (elem_t)v;
            }
        }
}

static inline void tiled_matmul(size_t dim_I, size_t dim_J, size_t dim_K,
        const elem_t *A, const elem_t *B, const void *D, void *C,
        size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        int act, acc_scale_t scale, acc_scale_t bert_scale, bool repeating_bias,
        size_t tile_I, size_t tile_J, size_t tile_K, bool transpose_A, bool transpose_B,
        bool full_C, bool low_D, uint8_t weightA, enum tiled_matmul_type_t tiled_matmul_type) {
    if (tiled_matmul_type == CPU) {
        matmul_cpu(transpose_A, transpose_B, dim_I, dim_J, dim_K, A, B, D, C, stride_A, stride_B,
                   stride_D, stride_C, A_scale_factor, B_scale_factor, D_scale_factor, act, scale,
                   repeating_bias, full_C, low_D);
        return;
    }
    const int ws = tiled_matmul_type == WS;
    const size_t sp_lim = (size_t)BANK_NUM * BANK_ROWS / (ws ? 2 : 1);
    const size_t acc_lim = (size_t)ACC_ROWS / (ws ? 2 : 1);
    if (tile_I == 0 || tile_J == 0 || tile_K == 0 ||
        tile_I * DIM > DLAC_CEIL(dim_I, DIM) * DIM || tile_J * DIM > DLAC_CEIL(dim_J, DIM) * DIM ||
        tile_K * DIM > DLAC_CEIL(dim_K, DIM) * DIM) {
        gemmini_lib_fail("tiled_matmul: tile sizes must be >= 1 and fit the padded matrix");
        return;
    }
    if ((tile_I * tile_K + tile_K * tile_J) * DIM > sp_lim || tile_I * tile_J * DIM > acc_lim) {
        gemmini_lib_fail("tiled_matmul: tiles do not fit the scratchpad/accumulator");
        return;
    }
    if (!ws && (transpose_A || transpose_B)) {
        gemmini_lib_fail("tiled_matmul: transposes are not supported in OS");
        return;
    }
    dlac_tiled_matmul_perm(dim_I, dim_J, dim_K, A, B, D, C, stride_A, stride_B, stride_D,
                           stride_C, A_scale_factor, B_scale_factor, D_scale_factor, act, scale,
                           bert_scale, repeating_bias, tile_I, tile_J, tile_K, transpose_A,
                           transpose_B, full_C, low_D, weightA,
                           ws ? WEIGHT_STATIONARY : OUTPUT_STATIONARY, NULL);
}

/* Gemmini's default tile choice (in DIM blocks) for a matmul. */
static inline void tiled_matmul_auto_tiles(size_t dim_I, size_t dim_J, size_t dim_K, int ws,
                                           size_t *tI, size_t *tJ, size_t *tK) {
    const size_t bI = DLAC_CEIL(dim_I, DIM), bJ = DLAC_CEIL(dim_J, DIM), bK = DLAC_CEIL(dim_K, DIM);
    const size_t spad_max = (size_t)BANK_NUM * BANK_ROWS / (ws ? 2 : 1);
    const size_t acc_max = (size_t)ACC_ROWS / (ws ? 2 : 1);
    const size_t m = (size_t)sqrt((double)((ws ? ACC_ROWS / 2 : ACC_ROWS) / DIM));
    const size_t kmax = ((size_t)BANK_NUM * BANK_ROWS / (ws ? 4 : 2) / DIM) / (m ? m : 1);
    size_t I = dlac_min_sz(bI, m ? m : 1), J = dlac_min_sz(bJ, m ? m : 1), K = dlac_min_sz(bK, kmax ? kmax : 1);
#define DLAC_SPAD(i, j, k) (((i) * (k) + (k) * (j)) * DIM)
#define DLAC_ACC(i, j) ((i) * (j) * DIM)
    bool changed = true;
    while (changed) {
        changed = false;
        if (J + 1 <= bJ && DLAC_SPAD(I, J + 1, K) <= spad_max && DLAC_ACC(I, J + 1) <= acc_max) {
            J++;
            changed = true;
        }
        if (I + 1 <= bI && DLAC_SPAD(I + 1, J, K) <= spad_max && DLAC_ACC(I + 1, J) <= acc_max) {
            I++;
            changed = true;
        }
        if (K + 1 <= bK && DLAC_SPAD(I, J, K + 1) <= spad_max) {
            K++;
            changed = true;
        }
    }
#undef DLAC_SPAD
#undef DLAC_ACC
    *tI = I;
    *tJ = J;
    *tK = K;
}

static inline void tiled_matmul_auto(size_t dim_I, size_t dim_J, size_t dim_K,
        const elem_t *A, const elem_t *B, const void *D, void *C,
        size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        int act, acc_scale_t scale, acc_scale_t bert_scale, bool repeating_bias,
        bool transpose_A, bool transpose_B, bool full_C, bool low_D, uint8_t weightA,
        enum tiled_matmul_type_t tiled_matmul_type) {
    size_t tI, tJ, tK;
    tiled_matmul_auto_tiles(dim_I, dim_J, dim_K, tiled_matmul_type != OS, &tI, &tJ, &tK);
    tiled_matmul(dim_I, dim_J, dim_K, A, B, D, C, stride_A, stride_B, stride_D, stride_C,
                 A_scale_factor, B_scale_factor, D_scale_factor, act, scale, bert_scale,
                 repeating_bias, tI, tJ, tK, transpose_A, transpose_B, full_C, low_D, weightA,
                 tiled_matmul_type);
}

#include "gemmini_lib_conv.h"

#endif
