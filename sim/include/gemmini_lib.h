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

/* tiled_matmul's tile loop (i, j, k tiles, k innermost): each WS tile one loop_ws, each OS
 * tile unrolled by the CPU. */
static inline void dlac_matmul_tiles(size_t dim_I, size_t dim_J, size_t dim_K,
        const elem_t *A, const elem_t *B, const void *D, void *C,
        size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
        scale_t A_scale_factor, scale_t B_scale_factor, int act, acc_scale_t scale,
        bool repeating_bias, size_t tile_I, size_t tile_J, size_t tile_K, bool transpose_A,
        bool transpose_B, bool full_C, bool low_D, int dataflow) {
    const size_t dI = DLAC_CEIL(dim_I, DIM) * DIM, dJ = DLAC_CEIL(dim_J, DIM) * DIM,
                 dK = DLAC_CEIL(dim_K, DIM) * DIM;
    const size_t I0 = DLAC_CEIL(dI, tile_I * DIM), J0 = DLAC_CEIL(dJ, tile_J * DIM),
                 K0 = DLAC_CEIL(dK, tile_K * DIM);
    const size_t sizeof_D = low_D ? sizeof(elem_t) : sizeof(acc_t);
    const size_t sizeof_C = full_C ? sizeof(acc_t) : sizeof(elem_t);
    dlac_charge(0, 0);
    gemmini_working_set((double)(dim_I * dim_K + dim_K * dim_J) * sizeof(elem_t) +
                        (D ? (double)(repeating_bias ? 1 : dim_I) * dim_J * sizeof_D : 0.0) +
                        (double)dim_I * dim_J * sizeof_C);
    gemmini_extended_config_ex(dataflow, act & 3, 0, 1, transpose_A, transpose_B);
    gemmini_extended_config_st(stride_C * sizeof_C, act & 3, scale);
    gemmini_extended3_config_ld(stride_A * sizeof(elem_t), A_scale_factor, false, 0);
    gemmini_extended3_config_ld(stride_B * sizeof(elem_t), B_scale_factor, false, 1);
    gemmini_extended3_config_ld(repeating_bias ? 0 : (stride_D * sizeof_D), MVIN_SCALE_IDENTITY,
                                low_D, 2);
    for (size_t n = 0; n < I0 * J0 * K0; n++) {
        const size_t i0 = n / (J0 * K0), j0 = n / K0 % J0, k0 = n % K0;
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
        dlac_charge(1, 0);
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
                                               dlac_min_sz(DIM, colsJ - j * DIM), dlac_min_sz(DIM, rowsI - i * DIM));
            for (size_t i = 0; i < I; i++)
                for (size_t k = 0; k < K; k++)
                    gemmini_extended_mvin(a + i * DIM * stride_A + k * DIM, (uint32_t)((i * K + k) * DIM),
                                          dlac_min_sz(DIM, colsK - k * DIM), dlac_min_sz(DIM, rowsI - i * DIM));
            for (size_t k = 0; k < K; k++)
                for (size_t j = 0; j < J; j++)
                    gemmini_extended_mvin2(b + k * DIM * stride_B + j * DIM, b_base + (uint32_t)((k * J + j) * DIM),
                                           dlac_min_sz(DIM, colsJ - j * DIM), dlac_min_sz(DIM, colsK - k * DIM));
            for (size_t i = 0; i < I; i++)
                for (size_t j = 0; j < J; j++) {
                    const size_t ir = dlac_min_sz(DIM, rowsI - i * DIM), jc = dlac_min_sz(DIM, colsJ - j * DIM);
                    const uint32_t c_addr = acc | ((pre || k0 > 0) ? accum : 0) | (uint32_t)((i * J + j) * DIM);
                    for (size_t k = 0; k < K; k++) {
                        const size_t kc = dlac_min_sz(DIM, colsK - k * DIM);
                        gemmini_extended_preload(GARBAGE_ADDR, k == K - 1 ? c_addr : GARBAGE_ADDR, DIM, DIM, jc, ir);
                        if (k == 0)
                            gemmini_extended_compute_preloaded((uint32_t)((i * K + k) * DIM),
                                                               b_base + (uint32_t)((k * J + j) * DIM), kc, ir, jc, kc);
                        else
                            gemmini_extended_compute_accumulated((uint32_t)((i * K + k) * DIM),
                                                                 b_base + (uint32_t)((k * J + j) * DIM), kc, ir, jc, kc);
                    }
                }
            if (out)
                for (size_t i = 0; i < I; i++)
                    for (size_t j = 0; j < J; j++)
                        gemmini_extended_mvout((char *)out + (i * DIM * stride_C + j * DIM) * sizeof_C,
                                               acc | (full_C ? fullb : 0) | (uint32_t)((i * J + j) * DIM),
                                               dlac_min_sz(DIM, colsJ - j * DIM), dlac_min_sz(DIM, rowsI - i * DIM));
        }
    }
    gemmini_fence();
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
    (void)D_scale_factor;
    (void)bert_scale;
    (void)weightA;
    dlac_matmul_tiles(dim_I, dim_J, dim_K, A, B, D, C, stride_A, stride_B, stride_D, stride_C,
                      A_scale_factor, B_scale_factor, act, scale, repeating_bias, tile_I, tile_J,
                      tile_K, transpose_A, transpose_B, full_C, low_D,
                      ws ? WEIGHT_STATIONARY : OUTPUT_STATIONARY);
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
