/* Seeded Gemmini kernels whose results are printed as one FNV-1a hash per kernel, so the
 * same file run on dlac-sim and on Spike + libgemmini can be compared line by line: every
 * instruction and config field dlac's emitted C uses, through Gemmini's library and
 * through dlac's extensions (dlac_gemmini_ext.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gemmini.h"
#include "dlac_gemmini_ext.h"

#define N (2 * DIM + 3)
static elem_t A[N][N], B[N][N], C[N][N], R[N][N];
static acc_t BIAS[N][N], CA[N][N];
static elem_t IMG[2 * 9 * 9 * 5], W[3 * 3 * 5 * 7], OUT[2 * 9 * 9 * 7];
static acc_t CBIAS[7];
static elem_t BIG[2 * 17 * 17 * 7];
/* depthwise: 20 channels NHWC, group weights [3][3][8][20], flat weights [group][3][3][w][w] */
static elem_t DWI[2 * 9 * 9 * 20], DWW[3 * 3 * 8 * 20], FW[3 * 9 * 16 * 16], DWO[2 * 9 * 9 * 20];
static acc_t DWB[20];
static uint32_t state = 12345u;

static uint32_t rnd(void) {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
}

static void fill(elem_t *p, size_t n, int range) {
    for (size_t i = 0; i < n; i++) p[i] = (elem_t)((int)(rnd() % (2 * range + 1)) - range);
}

static void fill_acc(acc_t *p, size_t n, int range) {
    for (size_t i = 0; i < n; i++) p[i] = (acc_t)((int)(rnd() % (2 * range + 1)) - range);
}

static void report(const char *name, const void *data, size_t bytes) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < bytes; i++) h = (h ^ ((const uint8_t *)data)[i]) * 16777619u;
    printf("%s %08x\n", name, (unsigned)h);
}

/* mvin with a row stride and a scale, mvout with a row stride. */
static void kernel_mvin_mvout(float scale) {
    memset(C, 0, sizeof C);
    gemmini_extended3_config_ld(N * sizeof(elem_t), scale, false, 0);
    gemmini_config_st(N * sizeof(elem_t));
    gemmini_extended_mvin(&A[1][2], 0, DIM, DIM - 1);
    gemmini_extended_mvout(&C[3][0], 0, DIM, DIM - 1);
    gemmini_fence();
}

/* One DIM x DIM product, preloaded and computed, in OS or WS, with accumulation. */
static void kernel_preload_compute(int dataflow) {
    memset(CA, 0, sizeof CA);
    const uint32_t acc = 1u << 31, accum = 1u << 30;
    gemmini_extended_config_ex(dataflow, NO_ACTIVATION, 0, 1, false, false);
    gemmini_extended_config_st(N * sizeof(acc_t), NO_ACTIVATION, ACC_SCALE_IDENTITY);
    gemmini_extended3_config_ld(N * sizeof(elem_t), MVIN_SCALE_IDENTITY, false, 0);
    gemmini_extended_mvin(&A[0][0], 0, DIM, DIM);
    gemmini_extended_mvin(&B[0][0], DIM, DIM, DIM);
    gemmini_extended_mvin(&B[DIM][0], 2 * DIM, DIM, DIM);
    if (dataflow == WEIGHT_STATIONARY) {
        gemmini_extended_preload(DIM, acc, DIM, DIM, DIM, DIM);
        gemmini_extended_compute_preloaded(0, GARBAGE_ADDR, DIM, DIM, DIM, DIM);
        gemmini_extended_preload(2 * DIM, acc | accum, DIM, DIM, DIM, DIM);
        gemmini_extended_compute_preloaded(0, GARBAGE_ADDR, DIM, DIM, DIM, DIM);
    } else {
        gemmini_extended_preload(GARBAGE_ADDR, acc, DIM, DIM, DIM, DIM);
        gemmini_extended_compute_preloaded(0, DIM, DIM, DIM, DIM, DIM);
        gemmini_extended_preload(GARBAGE_ADDR, acc | accum, DIM, DIM, DIM, DIM);
        gemmini_extended_compute_preloaded(0, 2 * DIM, DIM, DIM, DIM, DIM);
    }
    gemmini_extended_mvout(&CA[0][0], acc | (1u << 29), DIM, DIM);
    gemmini_fence();
}

/* tiled_matmul through loop_ws: bias, activation, output scale, padded edges. */
static void kernel_matmul(int act, float scale, bool repeating_bias, enum tiled_matmul_type_t t) {
    tiled_matmul_auto(N, N, N, &A[0][0], &B[0][0], &BIAS[0][0], &C[0][0], N, N, N, N,
                      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, act, scale,
                      0, repeating_bias, false, false, false, false, 0, t);
    gemmini_fence();
}

/* tiled_conv through loop_conv_ws: stride, padding, bias, activation, scale. */
static void kernel_conv(int stride, int padding, int act, float scale) {
    const int out_dim = (9 + 2 * padding - 3) / stride + 1;
    memset(OUT, 0, sizeof OUT);
    tiled_conv_auto(2, 9, 9, 5, 7, out_dim, out_dim, stride, 1, 1, padding, 3, false, false,
                    false, false, false, IMG, W, CBIAS, OUT, act, scale, 0, 0, 0, WS);
    gemmini_fence();
}

/* tiled_matmul's other operand layouts: transposed A / B, int32 output, int8 bias. */
static void kernel_matmul_layouts(bool ta, bool tb, bool full_C, bool low_D) {
    memset(CA, 0, sizeof CA);
    tiled_matmul_auto(N, N, N, &A[0][0], &B[0][0], low_D ? (const void *)&R[0][0] : &BIAS[0][0],
                      full_C ? (void *)&CA[0][0] : &C[0][0], N, N, N, N, MVIN_SCALE_IDENTITY,
                      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION, 0.02f, 0, false,
                      ta, tb, full_C, low_D, 0, WS);
    gemmini_fence();
}

/* A conv with Gemmini's feature flags (pooling in the store, input/kernel dilation, a
 * rotated kernel, layout transposes) through tiled_conv_auto, into BIG. */
static void kernel_conv_feat(int in_dil, int k_dil, int kdim, bool wrot, bool t_out, bool t_in,
                             bool t_w1203, bool t_w0132, int psize, int pstride, int ppad,
                             bool bias) {
    const int pad = 1, din = 9 + (in_dil - 1) * 8, dk = kdim + (k_dil - 1) * (kdim - 1);
    const int out_dim = din + 2 * pad - dk + 1;
    memset(BIG, 0, sizeof BIG);
    tiled_conv_auto(2, 9, 9, 5, 7, out_dim, out_dim, 1, in_dil, k_dil, pad, kdim, wrot, t_out,
                    t_in, t_w1203, t_w0132, IMG, W, bias ? CBIAS : NULL, BIG, RELU, 0.004f,
                    psize, pstride, ppad, WS);
    gemmini_fence();
}

/* tiled_conv with explicit tiles that split the kernel (partial sums stay in the
 * accumulator; the bias enters only with the first kernel tile), pooled or not. */
static void kernel_conv_tiles(bool bias, int psize, int pstride, int ppad) {
    const int pout = psize ? (9 + 2 * ppad - psize) / pstride + 1 : 9;
    memset(BIG, 0, sizeof BIG);
    tiled_conv(2, 9, 9, 5, 7, 9, 9, 1, 1, 1, 1, 3, 5, 7, 7, false, false, false, false, false, 1,
               dlac_ext_min_i(2, pout), 3, 7, 2, 3, 3, IMG, W, bias ? CBIAS : NULL, BIG, RELU,
               0.004f, psize, pstride, ppad, WS);
    gemmini_fence();
}

/* dlac_tiled_matmul_perm: tiles in a given DRAM loop order, WS or OS. */
static void kernel_matmul_perm(const char *perm, size_t ti, size_t tj, size_t tk, int dataflow,
                               bool repeating_bias) {
    memset(C, 0, sizeof C);
    dlac_tiled_matmul_perm(N, N, N, &A[0][0], &B[0][0], &BIAS[0][0], &C[0][0], N, N, N, N,
                           MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, RELU,
                           0.01f, 0, repeating_bias, ti, tj, tk, false, false, false, false, 0,
                           dataflow, perm);
}

/* dlac_tiled_conv_perm: conv tiles (split kernel and channels) in a given DRAM order. */
static void kernel_conv_perm(const char *perm, int stride, bool bias) {
    const int out_dim = (9 + 2 - 3) / stride + 1;
    memset(OUT, 0, sizeof OUT);
    dlac_tiled_conv_perm(2, 9, 9, 5, 7, out_dim, out_dim, stride, 1, 1, 3, 5, 7, 7, 1, 3, 4, 4,
                         2, 2, 3, IMG, W, bias ? CBIAS : NULL, OUT, RELU, 0.004f, perm);
}

/* dlac_tiled_conv_dw_groups: a depthwise conv as dense convs over groups of 8 channels;
 * batches == 0 runs Gemmini's own tiled_conv_stride_auto per group. */
static void kernel_dw_groups(int stride, int batches, const char *perm) {
    const int out_dim = (9 + 2 - 3) / stride + 1;
    memset(DWO, 0, sizeof DWO);
    dlac_tiled_conv_dw_groups(2, 9, 9, 20, 8, out_dim, out_dim, stride, 1, 1, 3, 20, batches, 3,
                              4, 2, 3, DWI, DWW, DWB, DWO, RELU, 0.01f, perm);
}

/* dlac_conv_dw_flat: a depthwise conv on flattened rows, `porows` x `pgroups` tiles. */
static void kernel_dw_flat(int stride, int porows, int pgroups, bool bias) {
    const int out_dim = (9 + 2 - 3) / stride + 1;
    memset(DWO, 0, sizeof DWO);
    dlac_conv_dw_flat(2, 9, 9, 20, out_dim, out_dim, stride, 1, 3, 20, 20, porows, pgroups, DWI,
                      FW, bias ? DWB : NULL, DWO, RELU, 0.01f);
}

int main(void) {
    char name[64];
    fill(&A[0][0], sizeof A, 40);
    fill(&B[0][0], sizeof B, 40);
    fill(&R[0][0], sizeof R, 100);
    fill_acc(&BIAS[0][0], N * N, 3000);
    fill(IMG, sizeof IMG, 60);
    fill(W, sizeof W, 60);
    fill_acc(CBIAS, 7, 2000);
    fill(DWI, sizeof DWI, 60);
    fill(DWW, sizeof DWW, 60);
    fill(FW, sizeof FW, 60);
    fill_acc(DWB, 20, 2000);
    gemmini_flush(0);
    const float scales[] = {1.0f, 0.5f, 0.37f, 2.0f};
    for (int s = 0; s < 4; s++) {
        kernel_mvin_mvout(scales[s]);
        snprintf(name, sizeof name, "mvin_mvout_scale%d", s);
        report(name, C, sizeof C);
    }
    kernel_preload_compute(OUTPUT_STATIONARY);
    report("preload_compute_os", CA, sizeof CA);
    kernel_preload_compute(WEIGHT_STATIONARY);
    report("preload_compute_ws", CA, sizeof CA);
    const float mscale[] = {0.01f, 0.003f, 0.05f};
    for (int act = 0; act < 2; act++)
        for (int s = 0; s < 3; s++)
            for (int rb = 0; rb < 2; rb++) {
                kernel_matmul(act, mscale[s], rb, WS);
                snprintf(name, sizeof name, "matmul_ws_act%d_s%d_rb%d", act, s, rb);
                report(name, C, sizeof C);
            }
    kernel_matmul(RELU, 0.01f, false, OS);
    report("matmul_os_relu", C, sizeof C);
    for (int stride = 1; stride <= 2; stride++)
        for (int pad = 0; pad <= 1; pad++)
            for (int act = 0; act < 2; act++) {
                kernel_conv(stride, pad, act, 0.004f);
                snprintf(name, sizeof name, "conv_s%d_p%d_act%d", stride, pad, act);
                report(name, OUT, sizeof OUT);
            }
    const float ra[] = {1.0f, 0.5f, 0.75f};
    for (int s = 0; s < 3; s++)
        for (int relu = 0; relu < 2; relu++) {
            tiled_resadd_auto(N, N, ra[s], 0.25f, 1.0f, &A[0][0], &R[0][0], &C[0][0], relu, WS);
            gemmini_fence();
            snprintf(name, sizeof name, "resadd_s%d_relu%d", s, relu);
            report(name, C, sizeof C);
        }
    for (int l = 0; l < 4; l++) {
        kernel_matmul_layouts(l == 1, l == 2, l == 3, l == 3);
        snprintf(name, sizeof name, "matmul_layout%d", l);
        report(name, l == 3 ? (const void *)CA : (const void *)C, l == 3 ? sizeof CA : sizeof C);
    }
    /* in_dil, k_dil, kdim, wrot, t_out, t_in, t_w1203, t_w0132, psize, pstride, ppad, bias */
    const int feats[][12] = {
        {1, 1, 3, 0, 0, 0, 0, 0, 3, 2, 1, 1}, {1, 1, 3, 0, 0, 0, 0, 0, 2, 2, 0, 1},
        {1, 1, 3, 0, 0, 0, 0, 0, 3, 2, 1, 0}, {2, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1},
        {1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {1, 1, 3, 1, 0, 0, 0, 0, 0, 0, 0, 1},
        {1, 1, 3, 0, 1, 0, 0, 0, 0, 0, 0, 1}, {1, 1, 3, 0, 0, 1, 0, 0, 0, 0, 0, 1},
        {1, 1, 3, 0, 0, 0, 1, 0, 0, 0, 0, 1}, {1, 1, 3, 0, 0, 0, 0, 1, 0, 0, 0, 1},
        {2, 1, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 3, 1, 0, 0, 1, 0, 3, 2, 1, 1},
    };
    for (size_t f = 0; f < sizeof feats / sizeof feats[0]; f++) {
        const int *x = feats[f];
        kernel_conv_feat(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10],
                         x[11]);
        snprintf(name, sizeof name, "conv_feat%d", (int)f);
        report(name, BIG, sizeof BIG);
    }
    const int pools[][3] = {{0, 0, 0}, {3, 2, 1}, {2, 2, 0}};
    for (int pl = 0; pl < 3; pl++)
        for (int bias = 0; bias < 2; bias++) {
            kernel_conv_tiles(bias, pools[pl][0], pools[pl][1], pools[pl][2]);
            snprintf(name, sizeof name, "conv_tiles_pool%d_bias%d", pl, bias);
            report(name, BIG, sizeof BIG);
        }
    /* dlac's mappers keep the reduction loops innermost (partial sums stay on chip) */
    const char *mperms[] = {"IJK", "JIK"};
    const size_t mtiles[][3] = {{1, 2, 1}, {3, 1, 3}, {1, 3, 2}};
    for (int pm = 0; pm < 2; pm++)
        for (int t = 0; t < 3; t++) {
            kernel_matmul_perm(mperms[pm], mtiles[t][0], mtiles[t][1], mtiles[t][2],
                               WEIGHT_STATIONARY, t == 1);
            snprintf(name, sizeof name, "matmul_perm_%s_t%d", mperms[pm], t);
            report(name, C, sizeof C);
        }
    kernel_matmul_perm("JIK", 1, 2, 2, OUTPUT_STATIONARY, false);
    report("matmul_perm_os_JIK", C, sizeof C);
    const char *cperms[] = {"NQPKSRC", "KPQNCRS", "QKNPRSC", "PNKQSCR"};
    for (int pc = 0; pc < 4; pc++)
        for (int stride = 1; stride <= 2; stride++) {
            kernel_conv_perm(cperms[pc], stride, pc != 2);
            snprintf(name, sizeof name, "conv_perm_%s_s%d", cperms[pc], stride);
            report(name, OUT, sizeof OUT);
        }
    for (int stride = 1; stride <= 2; stride++) {
        kernel_dw_groups(stride, 2, NULL);
        snprintf(name, sizeof name, "dw_groups_s%d", stride);
        report(name, DWO, sizeof DWO);
        kernel_dw_groups(stride, 1, "KPQNCRS");
        snprintf(name, sizeof name, "dw_groups_perm_s%d", stride);
        report(name, DWO, sizeof DWO);
        kernel_dw_groups(stride, 0, NULL);
        snprintf(name, sizeof name, "dw_groups_auto_s%d", stride);
        report(name, DWO, sizeof DWO);
        kernel_dw_flat(stride, 3, 1, true);
        snprintf(name, sizeof name, "dw_flat_s%d_r3g1", stride);
        report(name, DWO, sizeof DWO);
        kernel_dw_flat(stride, 2, 2, stride == 1);
        snprintf(name, sizeof name, "dw_flat_s%d_r2g2", stride);
        report(name, DWO, sizeof DWO);
    }
    return 0;
}
