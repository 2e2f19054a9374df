/* The systolic array's arithmetic: int8 x int8 products summed in int32.
 *
 * Weights are kept as int16 pairs ([k/2][j][k&1]) so that one AVX2 madd performs two
 * MACs per 32-bit lane; the scalar path computes the same integers, so results do not
 * depend on the instruction set the library was built for.
 */
#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "sim_internal.h"

void array_load_pairs(const dlac_sim *s, laddr a, uint32_t rows, uint32_t cols, uint32_t step,
                      int transpose, int16_t *wp) {
    const int dim = s->dim;
    memset(wp, 0, sizeof(int16_t) * (size_t)dim * dim);
    if (a.garbage) return;
    for (uint32_t r = 0; r < rows; r++) {
        const int8_t *src = s->spad + (size_t)(a.row + r * step) * dim;
        for (uint32_t c = 0; c < cols; c++) {
            /* element (k, j) of the matrix the array multiplies by */
            uint32_t k = transpose ? c : r, j = transpose ? r : c;
            wp[(size_t)(k / 2) * dim * 2 + (size_t)j * 2 + (k & 1)] = src[c];
        }
    }
}

uint32_t array_load_rows(const dlac_sim *s, laddr a, uint32_t rows, uint32_t cols, uint32_t step,
                         int transpose, int16_t *out) {
    const int dim = s->dim;
    if (a.garbage || rows == 0 || cols == 0) return 0;
    const uint32_t n = transpose ? cols : rows;
    memset(out, 0, sizeof(int16_t) * (size_t)n * dim);
    for (uint32_t r = 0; r < rows; r++) {
        const int8_t *src = s->spad + (size_t)(a.row + r * step) * dim;
        for (uint32_t c = 0; c < cols; c++) {
            if (transpose) out[(size_t)c * dim + r] = src[c];
            else out[(size_t)r * dim + c] = src[c];
        }
    }
    return n;
}

void array_matmul(const int16_t *A, uint32_t rows, const int16_t *wp, int32_t *C, int dim) {
    const int half = dim / 2;
    int32_t pairs[128];
    for (uint32_t i = 0; i < rows; i++) {
        const int16_t *a = A + (size_t)i * dim;
        int32_t *c = C + (size_t)i * dim;
        int any = 0;
        for (int kk = 0; kk < half; kk++) {
            pairs[kk] = (int32_t)((uint32_t)(uint16_t)a[2 * kk] |
                                  ((uint32_t)(uint16_t)a[2 * kk + 1] << 16));
            any |= pairs[kk];
        }
        if (!any) continue;
        int j = 0;
#if defined(__AVX2__)
        for (; j + 8 <= dim; j += 8) {
            __m256i acc = _mm256_loadu_si256((const __m256i *)(c + j));
            for (int kk = 0; kk < half; kk++) {
                const __m256i w = _mm256_loadu_si256((const __m256i *)(wp + (size_t)kk * dim * 2 + 2 * j));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(w, _mm256_set1_epi32(pairs[kk])));
            }
            _mm256_storeu_si256((__m256i *)(c + j), acc);
        }
#endif
        for (; j < dim; j++) {
            int32_t acc = c[j];
            for (int kk = 0; kk < half; kk++) {
                const int16_t *w = wp + (size_t)kk * dim * 2 + 2 * j;
                acc += (int32_t)w[0] * a[2 * kk] + (int32_t)w[1] * a[2 * kk + 1];
            }
            c[j] = acc;
        }
    }
}
