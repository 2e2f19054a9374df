/* Seeded Gemmini kernels whose results are printed as one FNV-1a hash per kernel, so the
 * same file run on dlac-sim and on Spike + libgemmini can be compared line by line. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gemmini.h"

#define N (2 * DIM + 3)
static elem_t A[N][N], B[N][N], C[N][N], R[N][N];
static acc_t BIAS[N][N], CA[N][N];
static elem_t IMG[2 * 9 * 9 * 5], W[3 * 3 * 5 * 7], OUT[2 * 9 * 9 * 7];
static acc_t CBIAS[7];
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

int main(void) {
    char name[64];
    fill(&A[0][0], sizeof A, 40);
    fill(&B[0][0], sizeof B, 40);
    fill(&R[0][0], sizeof R, 100);
    fill_acc(&BIAS[0][0], N * N, 3000);
    fill(IMG, sizeof IMG, 60);
    fill(W, sizeof W, 60);
    fill_acc(CBIAS, 7, 2000);
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
    return 0;
}
