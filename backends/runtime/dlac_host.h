/* Host (CPU) kernels of dlac's emitted models.
 *
 * Each function reproduces dlac.frontend.reference bit for bit: integer arithmetic, and
 * requantisation through gemmini_params.h's own ACC_SCALE / MVIN_SCALE (one float32
 * multiply, round half to even, saturate). Tensors are addressed logically as NCHW with
 * one stride per dimension, so a buffer stored NHWC needs no copy.
 * Include after gemmini_params.h (for elem_t, acc_t and the scaling macros).
 */
#ifndef DLAC_HOST_H
#define DLAC_HOST_H

#include <math.h>
#include <stdint.h>

typedef struct {
  int64_t dim[4];
  int64_t stride[4];
} dlac_view4;

static inline elem_t dlac_act(acc_t y, int relu) {
  return (elem_t)(relu && y < 0 ? 0 : y);
}

static inline elem_t dlac_requant(int64_t x, float multiplier, int relu) {
  return dlac_act(ACC_SCALE(x, multiplier), relu);
}

static inline elem_t dlac_quantize(float x, float multiplier) {
  return MVIN_SCALE(x, multiplier);
}

static inline float dlac_dequantize(int32_t x, float scale) { return (float)x * scale; }

static inline elem_t dlac_resadd(elem_t a, elem_t b, float a_scale, float b_scale,
                                 float c_scale, int relu) {
  acc_t sum = (acc_t)MVIN_SCALE(a, a_scale) + (acc_t)MVIN_SCALE(b, b_scale);
  return dlac_requant(sum, c_scale, relu);
}

/* float32(x) * m, round half to even, saturate to int16: MVIN_SCALE at 16 bits. */
static inline int16_t dlac_scale16(int32_t x, float m) {
  float y = ROUND_NEAR_EVEN((float)x * m);
  return (int16_t)(y > 32767 ? 32767 : (y < -32768 ? -32768 : y));
}

/* The resadd of an int16 (host-only) result: every saturation at int16. */
static inline int16_t dlac_resadd16(int32_t a, int32_t b, float a_scale, float b_scale,
                                    float c_scale, int relu) {
  int32_t sum = (int32_t)dlac_scale16(a, a_scale) + (int32_t)dlac_scale16(b, b_scale);
  int16_t y = dlac_scale16(sum, c_scale);
  return relu && y < 0 ? 0 : y;
}

static inline elem_t dlac_qmul(elem_t a, elem_t b, float multiplier) {
  return dlac_requant((acc_t)a * (acc_t)b, multiplier, 0);
}

/* The low digit of a product (a two-digit activation): t = float32(a * b) * m, its int8
 * rounding hi, then sat(rne((t - hi) * r)); every step one float32 operation. */
static inline elem_t dlac_qmul_lo(elem_t a, elem_t b, float multiplier, float residual) {
  float t = (float)((acc_t)a * (acc_t)b) * multiplier;
  float hi = ROUND_NEAR_EVEN(t);
  hi = hi > INT8_MAX ? INT8_MAX : (hi < INT8_MIN ? INT8_MIN : hi);
  float u = ROUND_NEAR_EVEN((t - hi) * residual);
  return (elem_t)(u > INT8_MAX ? INT8_MAX : (u < INT8_MIN ? INT8_MIN : u));
}

static inline elem_t dlac_qdiv(elem_t a, elem_t b, float multiplier) {
  if (b == 0) return (elem_t)(a > 0 ? 127 : (a < 0 ? -128 : 0));
  volatile float num = (float)a * multiplier; /* two roundings, as the reference */
  return MVIN_SCALE(num / (float)b, 1.0f);
}

/* Compare real values: predicate 0 ==, 1 <, 2 >, 3 <=, 4 >=; each product one float32
 * multiply (volatile: no contraction or excess precision, as the reference). */
static inline uint8_t dlac_compare(elem_t a, elem_t b, float a_scale, float b_scale,
                                   int predicate) {
  volatile float x = (float)a * a_scale, y = (float)b * b_scale;
  switch (predicate) {
    case 0: return x == y;
    case 1: return x < y;
    case 2: return x > y;
    case 3: return x <= y;
    default: return x >= y;
  }
}

static inline int64_t dlac_at(const dlac_view4 *v, int64_t n, int64_t c, int64_t h, int64_t w) {
  return n * v->stride[0] + c * v->stride[1] + h * v->stride[2] + w * v->stride[3];
}

/* out[e] = the e-th source element of the inputs laid end to end; -1 writes zero. */
static inline void dlac_gather(elem_t *out, int64_t n, const int32_t *table, int n_src,
                               const elem_t *const *src, const int64_t *src_len) {
  for (int64_t e = 0; e < n; e++) {
    int64_t t = table[e];
    elem_t v = 0;
    for (int s = 0; t >= 0 && s < n_src; s++) {
      if (t < src_len[s]) {
        v = src[s][t];
        break;
      }
      t -= src_len[s];
    }
    out[e] = v;
  }
}

/* Max pooling; positions outside the input count as -128. */
static inline void dlac_max_pool(const elem_t *x, const dlac_view4 *xv, elem_t *y,
                                 const dlac_view4 *yv, const int64_t kernel[2],
                                 const int64_t stride[2], const int64_t pad[2],
                                 const int64_t dil[2]) {
  for (int64_t n = 0; n < yv->dim[0]; n++)
    for (int64_t c = 0; c < yv->dim[1]; c++)
      for (int64_t oh = 0; oh < yv->dim[2]; oh++)
        for (int64_t ow = 0; ow < yv->dim[3]; ow++) {
          elem_t best = -128;
          for (int64_t kh = 0; kh < kernel[0]; kh++)
            for (int64_t kw = 0; kw < kernel[1]; kw++) {
              int64_t ih = oh * stride[0] - pad[0] + kh * dil[0];
              int64_t iw = ow * stride[1] - pad[1] + kw * dil[1];
              if (ih < 0 || iw < 0 || ih >= xv->dim[2] || iw >= xv->dim[3]) continue;
              elem_t v = x[dlac_at(xv, n, c, ih, iw)];
              if (v > best) best = v;
            }
          y[dlac_at(yv, n, c, oh, ow)] = best;
        }
}

/* Average pooling: int32 window sum, then ACC_SCALE by float32(m) / float32(count). */
static inline void dlac_avg_pool(const elem_t *x, const dlac_view4 *xv, elem_t *y,
                                 const dlac_view4 *yv, const int64_t kernel[2],
                                 const int64_t stride[2], const int64_t pad[2],
                                 int count_include_pad, float multiplier) {
  for (int64_t n = 0; n < yv->dim[0]; n++)
    for (int64_t c = 0; c < yv->dim[1]; c++)
      for (int64_t oh = 0; oh < yv->dim[2]; oh++)
        for (int64_t ow = 0; ow < yv->dim[3]; ow++) {
          acc_t sum = 0;
          int64_t count = 0;
          for (int64_t kh = 0; kh < kernel[0]; kh++)
            for (int64_t kw = 0; kw < kernel[1]; kw++) {
              int64_t ih = oh * stride[0] - pad[0] + kh;
              int64_t iw = ow * stride[1] - pad[1] + kw;
              if (ih < 0 || iw < 0 || ih >= xv->dim[2] || iw >= xv->dim[3]) continue;
              sum += x[dlac_at(xv, n, c, ih, iw)];
              count++;
            }
          if (count_include_pad) count = kernel[0] * kernel[1];
          float per = multiplier / (float)count;
          y[dlac_at(yv, n, c, oh, ow)] = (elem_t)MVIN_SCALE(sum, per);
        }
}

/* Mean over the dimensions flagged in `reduce` (the output view has extent 1 there). */
static inline void dlac_reduce_mean(const elem_t *x, const dlac_view4 *xv, elem_t *y,
                                    const dlac_view4 *yv, const int reduce[4],
                                    float multiplier) {
  int64_t count = 1;
  for (int d = 0; d < 4; d++) count *= reduce[d] ? xv->dim[d] : 1;
  float per = multiplier / (float)count;
  for (int64_t a = 0; a < yv->dim[0]; a++)
    for (int64_t b = 0; b < yv->dim[1]; b++)
      for (int64_t c = 0; c < yv->dim[2]; c++)
        for (int64_t d = 0; d < yv->dim[3]; d++) {
          int64_t sum = 0;
          for (int64_t i = 0; i < (reduce[0] ? xv->dim[0] : 1); i++)
            for (int64_t j = 0; j < (reduce[1] ? xv->dim[1] : 1); j++)
              for (int64_t k = 0; k < (reduce[2] ? xv->dim[2] : 1); k++)
                for (int64_t l = 0; l < (reduce[3] ? xv->dim[3] : 1); l++)
                  sum += x[dlac_at(xv, reduce[0] ? i : a, reduce[1] ? j : b,
                                   reduce[2] ? k : c, reduce[3] ? l : d)];
          y[dlac_at(yv, a, b, c, d)] = (elem_t)MVIN_SCALE((acc_t)sum, per);
        }
}

/* Reduction over the flagged dimensions: kind 0 sum, 1 max, 2 min, 3 sum |x|, 4 sum x^2,
 * 5 sqrtf(float(sum x^2)); max/min are stored as they are, the others through ACC_SCALE. */
static inline void dlac_reduce(const elem_t *x, const dlac_view4 *xv, elem_t *y,
                               const dlac_view4 *yv, const int reduce[4], int kind,
                               float multiplier) {
  for (int64_t a = 0; a < yv->dim[0]; a++)
    for (int64_t b = 0; b < yv->dim[1]; b++)
      for (int64_t c = 0; c < yv->dim[2]; c++)
        for (int64_t d = 0; d < yv->dim[3]; d++) {
          int64_t acc = kind == 1 ? -128 : (kind == 2 ? 127 : 0);
          for (int64_t i = 0; i < (reduce[0] ? xv->dim[0] : 1); i++)
            for (int64_t j = 0; j < (reduce[1] ? xv->dim[1] : 1); j++)
              for (int64_t k = 0; k < (reduce[2] ? xv->dim[2] : 1); k++)
                for (int64_t l = 0; l < (reduce[3] ? xv->dim[3] : 1); l++) {
                  int64_t v = x[dlac_at(xv, reduce[0] ? i : a, reduce[1] ? j : b,
                                        reduce[2] ? k : c, reduce[3] ? l : d)];
                  if (kind == 1) acc = v > acc ? v : acc;
                  else if (kind == 2) acc = v < acc ? v : acc;
                  else if (kind == 3) acc += v < 0 ? -v : v;
                  else if (kind >= 4) acc += v * v;
                  else acc += v;
                }
          elem_t out;
          if (kind == 1 || kind == 2) out = (elem_t)acc;
          else if (kind == 5) out = (elem_t)ACC_SCALE(sqrtf((float)acc), multiplier);
          else out = (elem_t)ACC_SCALE(acc, multiplier);
          y[dlac_at(yv, a, b, c, d)] = out;
        }
}

/* Product of the real values float32(x) * in_scale, in float32, reduced elements in
 * row-major order; then MVIN_SCALE (volatile: one rounding per multiply, no contraction). */
static inline void dlac_reduce_prod(const elem_t *x, const dlac_view4 *xv, elem_t *y,
                                    const dlac_view4 *yv, const int reduce[4], float in_scale,
                                    float multiplier) {
  for (int64_t a = 0; a < yv->dim[0]; a++)
    for (int64_t b = 0; b < yv->dim[1]; b++)
      for (int64_t c = 0; c < yv->dim[2]; c++)
        for (int64_t d = 0; d < yv->dim[3]; d++) {
          volatile float p = 1.0f;
          for (int64_t i = 0; i < (reduce[0] ? xv->dim[0] : 1); i++)
            for (int64_t j = 0; j < (reduce[1] ? xv->dim[1] : 1); j++)
              for (int64_t k = 0; k < (reduce[2] ? xv->dim[2] : 1); k++)
                for (int64_t l = 0; l < (reduce[3] ? xv->dim[3] : 1); l++) {
                  volatile float v = (float)x[dlac_at(xv, reduce[0] ? i : a, reduce[1] ? j : b,
                                                      reduce[2] ? k : c, reduce[3] ? l : d)] *
                                     in_scale;
                  p = p * v;
                }
          y[dlac_at(yv, a, b, c, d)] = MVIN_SCALE(p, multiplier);
        }
}

#define DLAC_REDUCE_KIND(k)                                                              \
  static inline void dlac_reduce##k(const elem_t *x, const dlac_view4 *xv, elem_t *y,       \
                                    const dlac_view4 *yv, const int reduce[4], float m) { \
    dlac_reduce(x, xv, y, yv, reduce, k, m);                                              \
  }
DLAC_REDUCE_KIND(0)
DLAC_REDUCE_KIND(1)
DLAC_REDUCE_KIND(2)
DLAC_REDUCE_KIND(3)
DLAC_REDUCE_KIND(4)
DLAC_REDUCE_KIND(5)

/* log(sum(exp(x))) over the flagged dimensions: m = max, S = sum exp_t[x - m + 255]
 * (2^20 = 1.0), L = log_t[(S >> k) - 256] + (k - 12) ln2_q with k = bitlength(S) - 9,
 * y = ACC_SCALE(m * a + L, multiplier). */
static inline void dlac_reduce_log_sum_exp(const elem_t *x, const dlac_view4 *xv, elem_t *y,
                                           const dlac_view4 *yv, const int reduce[4],
                                           const int32_t exp_t[256], const int32_t log_t[256],
                                           int64_t a, int64_t ln2_q, float multiplier) {
  for (int64_t p = 0; p < yv->dim[0]; p++)
    for (int64_t q = 0; q < yv->dim[1]; q++)
      for (int64_t u = 0; u < yv->dim[2]; u++)
        for (int64_t v = 0; v < yv->dim[3]; v++) {
          int64_t m = -128, s = 0;
          for (int pass = 0; pass < 2; pass++)
            for (int64_t i = 0; i < (reduce[0] ? xv->dim[0] : 1); i++)
              for (int64_t j = 0; j < (reduce[1] ? xv->dim[1] : 1); j++)
                for (int64_t k = 0; k < (reduce[2] ? xv->dim[2] : 1); k++)
                  for (int64_t l = 0; l < (reduce[3] ? xv->dim[3] : 1); l++) {
                    int64_t e = x[dlac_at(xv, reduce[0] ? i : p, reduce[1] ? j : q,
                                          reduce[2] ? k : u, reduce[3] ? l : v)];
                    if (pass == 0) m = e > m ? e : m;
                    else s += exp_t[e - m + 255];
                  }
          int bits = 0;
          for (int64_t t = s; t; t >>= 1) bits++;
          int64_t k = bits - 9;
          int64_t lg = log_t[(s >> k) - 256] + (k - 12) * ln2_q;
          y[dlac_at(yv, p, q, u, v)] = (elem_t)ACC_SCALE(m * a + lg, multiplier);
        }
}

/* Integer softmax over rows of `len`: e = table[x - max + 255], out = (254 e + s) / 2s. */
static inline void dlac_softmax(const elem_t *x, elem_t *y, int64_t rows, int64_t len,
                                int64_t row_stride, int64_t elem_stride,
                                const int32_t table[256]) {
  for (int64_t r = 0; r < rows; r++) {
    const elem_t *xr = x + r * row_stride;
    elem_t *yr = y + r * row_stride;
    elem_t max = -128;
    for (int64_t i = 0; i < len; i++)
      if (xr[i * elem_stride] > max) max = xr[i * elem_stride];
    int64_t sum = 0;
    for (int64_t i = 0; i < len; i++) sum += table[xr[i * elem_stride] - max + 255];
    for (int64_t i = 0; i < len; i++)
      yr[i * elem_stride] = (elem_t)((254 * (int64_t)table[xr[i * elem_stride] - max + 255] + sum) /
                                     (2 * sum));
  }
}

static inline int64_t dlac_isqrt(uint64_t v) {
  uint64_t r = 0, bit = (uint64_t)1 << 62;
  while (bit > v) bit >>= 2;
  while (bit) {
    if (v >= r + bit) {
      v -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return (int64_t)r;
}

static inline int64_t dlac_div_round(int64_t a, int64_t b) {
  int64_t mag = ((a < 0 ? -a : a) + b / 2) / b;
  return a < 0 ? -mag : mag;
}

/* Element i of an int8 (`wide` = 0) or int16 (`wide` = 1, a host-only tensor) buffer. */
static inline int64_t dlac_load_int(const void *x, int wide, int64_t i) {
  return wide ? (int64_t)((const int16_t *)x)[i] : (int64_t)((const elem_t *)x)[i];
}

/* Integer layer normalisation over the last dimension (rows of `h` contiguous elements);
 * the input is int8 or, with `wide`, int16. */
static inline void dlac_layer_norm(const void *x, int wide, const int16_t *gamma,
                                   const int64_t *beta, elem_t *y, int64_t rows, int64_t h,
                                   int64_t eps_term, int64_t frac_bits, int64_t k,
                                   float multiplier) {
  for (int64_t r = 0; r < rows; r++) {
    int64_t sum = 0;
    for (int64_t i = 0; i < h; i++) sum += dlac_load_int(x, wide, r * h + i);
    int64_t sq = eps_term;
    for (int64_t i = 0; i < h; i++) {
      int64_t c = h * dlac_load_int(x, wide, r * h + i) - sum;
      sq += c * c;
    }
    int64_t root = dlac_isqrt((uint64_t)sq << (2 * frac_bits));
    if (root < 1) root = 1;
    for (int64_t i = 0; i < h; i++) {
      int64_t z = dlac_div_round((h * dlac_load_int(x, wide, r * h + i) - sum) * k, root);
      y[r * h + i] = (elem_t)ACC_SCALE(z * gamma[i] + beta[i], multiplier);
    }
  }
}

/* LRN across channels: sum of x^2 over the `size` window (int32) indexes a fixed-point
 * factor table; y = ACC_SCALE(x * table[sum >> shift], multiplier). */
static inline void dlac_lrn(const elem_t *x, const dlac_view4 *xv, elem_t *y,
                            const dlac_view4 *yv, int64_t size, int64_t shift,
                            const int32_t *table, float multiplier) {
  int64_t before = (size - 1) / 2, after = size / 2;
  for (int64_t n = 0; n < xv->dim[0]; n++)
    for (int64_t c = 0; c < xv->dim[1]; c++)
      for (int64_t h = 0; h < xv->dim[2]; h++)
        for (int64_t w = 0; w < xv->dim[3]; w++) {
          int32_t sq = 0;
          for (int64_t k = c - before; k <= c + after; k++) {
            if (k < 0 || k >= xv->dim[1]) continue;
            int32_t v = x[dlac_at(xv, n, k, h, w)];
            sq += v * v;
          }
          int64_t v = x[dlac_at(xv, n, c, h, w)];
          y[dlac_at(yv, n, c, h, w)] = (elem_t)ACC_SCALE(v * (int64_t)table[sq >> shift],
                                                         multiplier);
        }
}

/* Gather with run-time indices (an embedding lookup): x is row-major [outer][rows][inner],
 * y [outer][n][inner] takes row idx[i] (negative counts from the end) of every outer block;
 * an index out of range gives a zero row. */
static inline void dlac_gather_rows(const elem_t *x, int64_t outer, int64_t rows,
                                    int64_t inner, const int64_t *idx, int64_t n, elem_t *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < n; i++) {
      int64_t r = idx[i] < 0 ? idx[i] + rows : idx[i];
      elem_t *dst = y + (o * n + i) * inner;
      for (int64_t k = 0; k < inner; k++)
        dst[k] = (r >= 0 && r < rows) ? x[(o * rows + r) * inner + k] : 0;
    }
}

/* x is row-major [outer][n][inner]; per (outer, inner) the index along n of the largest
 * (`largest`) or smallest value: the first one, or the last with `last`. */
static inline void dlac_arg_max(const elem_t *x, int64_t outer, int64_t n, int64_t inner,
                                int largest, int last, int64_t *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const elem_t *xr = x + o * n * inner + j;
      int64_t best = 0;
      elem_t bv = xr[0];
      for (int64_t i = 1; i < n; i++) {
        elem_t v = xr[i * inner];
        int better = largest ? v > bv : v < bv;
        if (better || (last && v == bv)) {
          best = i;
          bv = v;
        }
      }
      y[o * inner + j] = best;
    }
}

/* The k largest (or smallest) along n, sorted, equal values by lower index: pick r is the
 * best element ordered after pick r - 1 (key descending, then index ascending). */
static inline void dlac_top_k(const elem_t *x, int64_t outer, int64_t n, int64_t inner,
                              int largest, int64_t k, elem_t *values, int64_t *indices) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const elem_t *xr = x + o * n * inner + j;
      int64_t prev = -1, prev_key = 0;
      for (int64_t r = 0; r < k; r++) {
        int64_t best = -1, best_key = 0;
        for (int64_t i = 0; i < n; i++) {
          int64_t key = largest ? xr[i * inner] : -(int64_t)xr[i * inner];
          int after = prev < 0 || key < prev_key || (key == prev_key && i > prev);
          if (after && (best < 0 || key > best_key)) {
            best = i;
            best_key = key;
          }
        }
        values[(o * k + r) * inner + j] = xr[best * inner];
        indices[(o * k + r) * inner + j] = best;
        prev = best;
        prev_key = best_key;
      }
    }
}

/* Linear resize: `coef` holds (i0, i1, w0, w1) per output index of each of the 4 logical
 * dims, dims laid end to end; acc = sum over corners of the weights' product times x
 * (int64), y = ACC_SCALE(acc, multiplier). */
static inline void dlac_resize_linear(const elem_t *x, const dlac_view4 *xv, elem_t *y,
                                      const dlac_view4 *yv, const int32_t *coef,
                                      float multiplier) {
  const int32_t *c0 = coef, *c1 = c0 + 4 * yv->dim[0], *c2 = c1 + 4 * yv->dim[1],
                *c3 = c2 + 4 * yv->dim[2];
  for (int64_t n = 0; n < yv->dim[0]; n++)
    for (int64_t c = 0; c < yv->dim[1]; c++)
      for (int64_t h = 0; h < yv->dim[2]; h++)
        for (int64_t w = 0; w < yv->dim[3]; w++) {
          const int32_t *a = c0 + 4 * n, *b = c1 + 4 * c, *e = c2 + 4 * h, *f = c3 + 4 * w;
          int64_t acc = 0;
          for (int s = 0; s < 16; s++) {
            int p = s & 1, q = (s >> 1) & 1, u = (s >> 2) & 1, v = (s >> 3) & 1;
            int64_t wt = (int64_t)a[2 + p] * b[2 + q] * e[2 + u] * f[2 + v];
            if (wt == 0) continue;
            acc += wt * x[dlac_at(xv, a[p], b[q], e[u], f[v])];
          }
          y[dlac_at(yv, n, c, h, w)] = (elem_t)ACC_SCALE(acc, multiplier);
        }
}

#endif /* DLAC_HOST_H */
