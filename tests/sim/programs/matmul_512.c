/* 512x512x512 int8 matmul through tiled_matmul_auto, checked bit-exactly on the CPU. */
#include <stdio.h>
#include <stdlib.h>

#include "gemmini.h"

/* The CPU clock, read as gemmini_testutils.h does. */
static uint64_t read_cycles(void) {
    uint64_t cycles;
    __asm__ volatile("rdcycle %0" : "=r"(cycles));
    return cycles;
}

#define N 512

static elem_t A[N][N] row_align(1);
static elem_t B[N][N] row_align(1);
static acc_t D[N][N] row_align_acc(1);
static elem_t C[N][N] row_align(1);
static elem_t gold[N][N];

int main(void) {
    srand(7);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (elem_t)(rand() % 256 - 128);
            B[i][j] = (elem_t)(rand() % 256 - 128);
            D[i][j] = rand() % 20001 - 10000;
        }
    const acc_scale_t scale = 1.0f / 2048.0f;
    gemmini_flush(0);
    uint64_t start = read_cycles();
    tiled_matmul_auto(N, N, N, (elem_t *)A, (elem_t *)B, (acc_t *)D, (elem_t *)C, N, N, N, N,
                      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, RELU, scale,
                      0, false, false, false, false, false, 0, WS);
    uint64_t end = read_cycles();
    matmul_cpu(false, false, N, N, N, (elem_t *)A, (elem_t *)B, (acc_t *)D, (elem_t *)gold, N, N,
               N, N, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, RELU, scale,
               false, false, false);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (C[i][j] != gold[i][j]) {
                printf("mismatch at (%d, %d): %d != %d\n", i, j, C[i][j], gold[i][j]);
                return 1;
            }
    printf("tiled_matmul_auto 512^3 took %llu cycles: PASS\n", (unsigned long long)(end - start));
    return 0;
}
