/* dlac's extensions to Gemmini's software library, included by the emitted model after
 * gemmini.h: explicit DRAM loop orders for tiled_matmul / tiled_conv (the tile loops of
 * dlac_gemmini_tiles.h), depthwise convs over channel groups and on flattened rows, and the
 * CPU clock.
 *
 * Written only on Gemmini's public primitives (the mvin / mvout / preload / compute /
 * config macros, gemmini_loop_ws, gemmini_loop_conv_ws, gemmini_fence and the public
 * tiled_* calls of Gemmini's gemmini.h), so the same file issues the same instructions, in
 * the tuned orders, on an RTL SoC, on Spike + libgemmini and on dlac-sim.
 *
 * The four DLAC_EXT_* hooks mark where the library's own CPU work happens and what a call
 * touches; they compile to nothing (and a bad argument prints and exits, as Gemmini's
 * library does) unless defined first: dlac-sim's gemmini.h defines them
 * (dlac_sim_ext_hooks.h), charging that work to the simulated CPU clock. */
#ifndef DLAC_GEMMINI_EXT_H
#define DLAC_GEMMINI_EXT_H

#include "dlac_gemmini_tiles.h"

/* The CPU clock (rdcycle; dlac-sim's header maps it to the simulated clock). Named apart
 * from gemmini_testutils.h's read_cycles so both can be included. */
static inline uint64_t dlac_read_cycles(void) {
    uint64_t cycles;
    __asm__ volatile("rdcycle %0" : "=r"(cycles));
    return cycles;
}

/* ---- depthwise convs ---------------------------------------------------------------- */

/* A depthwise conv over `channels` channels as block-diagonal dense convs over groups of
 * `group_width` channels, in one library call (dlac's lowering; see
 * passes/depthwise_groups.py). Group g0 reads and writes channels g0.. (in/out stride =
 * in_stride / channels) and weights [krow][kcol][group_width][channels] from column g0; a
 * narrower last group uses the first krow*kcol*w rows of its columns. batches == 0 runs
 * each group through Gemmini's tiled_conv_stride_auto (its tiling heuristic); otherwise
 * each group runs the given tiles, both channel tiles equal to its width, in `perm`'s order
 * (NULL: Gemmini's). */
static inline void dlac_tiled_conv_dw_groups(int batch_size, int in_row_dim, int in_col_dim,
        int channels, int group_width, int out_row_dim, int out_col_dim, int stride,
        int kernel_dilation, int padding, int kernel_dim, int in_stride, int batches, int porows,
        int pocols, int krows, int kcols, const elem_t *input, const elem_t *weights,
        const acc_t *bias, elem_t *output, int act, acc_scale_t scale, const char *perm) {
    if (group_width <= 0 || group_width > DIM) {
        DLAC_EXT_FAIL("dlac_tiled_conv_dw_groups: group width must be in 1..DIM");
        return;
    }
    for (int g0 = 0; g0 < channels; g0 += group_width) {
        const int w = dlac_ext_min_i(group_width, channels - g0);
        const acc_t *b = bias ? bias + g0 : NULL;
        if (batches == 0)
            tiled_conv_stride_auto(batch_size, in_row_dim, in_col_dim, w, w, out_row_dim,
                                   out_col_dim, stride, 1, kernel_dilation, padding, kernel_dim,
                                   in_stride, channels, channels, false, false, false, false,
                                   false, input + g0, weights + g0, b, output + g0, act, scale,
                                   0, 0, 0, WS);
        else
            dlac_ext_conv_tiles(batch_size, in_row_dim, in_col_dim, w, w, out_row_dim,
                                out_col_dim, stride, kernel_dilation, padding, kernel_dim,
                                in_stride, channels, channels, batches, porows, pocols, w, krows,
                                kcols, w, input + g0, weights + g0, b, output + g0, act, scale,
                                perm, g0 == 0, false);
    }
    gemmini_fence();
}

/* Pitch (scratchpad rows per padded input row) of the flat depthwise layout: a multiple of
 * the stride, wide enough for a row's pixels and left padding, for one output row per
 * pitch / stride outputs, and for the last output column's taps to run at most into the
 * next row's (zero) left padding. */
static inline int dlac_dw_flat_pitch(int in_col_dim, int out_col_dim, int stride, int padding,
                                     int kernel_dim) {
    int pitch = dlac_ext_max_i(padding + in_col_dim,
                           dlac_ext_max_i(stride * (out_col_dim - 1) + kernel_dim - padding,
                                      stride * out_col_dim));
    return DLAC_EXT_CEIL(pitch, stride) * stride;
}

/* Accumulator rows (flat outputs) of one group of a flat depthwise tile of `porows` output
 * rows, and the padded input rows (`pitch` positions each) of each of its row phases. */
static inline void dlac_dw_flat_rows(int porows, int out_col_dim, int stride, int kernel_dim,
                                     int pitch, int *phase_rows, size_t *acc_rows) {
    const size_t outs = (size_t)(porows - 1) * (pitch / stride) + out_col_dim;
    const size_t reach = (size_t)stride * (outs - 1) +
                         (size_t)((kernel_dim - 1) / stride) * pitch + kernel_dim;
    *acc_rows = outs;
    *phase_rows = (int)DLAC_EXT_CEIL(reach, (size_t)pitch);
}

/* One flat depthwise conv call: the layer, its layout, and where the tiles live. */
typedef struct dlac_dw_flat {
    int batch_size, in_row_dim, in_col_dim, channels, out_row_dim, out_col_dim, stride, padding,
        kernel_dim, in_stride, out_stride, porows, pgroups, width, ngroups, taps, pitch;
    size_t phase, plane, outs, wslot, sp_total;
    uint32_t half, half_acc;
    const elem_t *input, *weights;
    const acc_t *bias;
    elem_t *output;
} dlac_dw_flat;

/* One tile: `ng` groups from group `gb`, image `b`, `np` output rows from `p0`; `slot`
 * picks the scratchpad/accumulator half, `rows` its input rows per phase. */
typedef struct dlac_dw_flat_tile {
    int gb, ng, b, p0, np, slot, rows;
    size_t outs;
} dlac_dw_flat_tile;

static inline void dlac_dw_flat_tile_at(const dlac_dw_flat *c, int gb, int b, int p0, int slot,
                                        dlac_dw_flat_tile *t) {
    t->gb = gb;
    t->ng = dlac_ext_min_i(c->pgroups, c->ngroups - gb);
    t->b = b;
    t->p0 = p0;
    t->np = dlac_ext_min_i(c->porows, c->out_row_dim - p0);
    t->slot = slot;
    dlac_dw_flat_rows(t->np, c->out_col_dim, c->stride, c->kernel_dim, c->pitch, &t->rows, &t->outs);
}

/* The tile after `t` (rows, then images, then group blocks); false after the last. */
static inline bool dlac_dw_flat_next(const dlac_dw_flat *c, const dlac_dw_flat_tile *t,
                                     dlac_dw_flat_tile *n) {
    int gb = t->gb, b = t->b, p0 = t->p0 + c->porows;
    if (p0 >= c->out_row_dim) {
        p0 = 0;
        if (++b >= c->batch_size) {
            b = 0;
            gb += c->pgroups;
        }
    }
    if (gb >= c->ngroups) return false;
    dlac_dw_flat_tile_at(c, gb, b, p0, t->slot ^ 1, n);
    return true;
}

static inline uint32_t dlac_dw_flat_wbase(const dlac_dw_flat *c, int gb) {
    return (uint32_t)(c->sp_total - ((size_t)((gb / c->pgroups) % 2) + 1) * c->wslot);
}

static inline void dlac_dw_flat_weight(const dlac_dw_flat *c, const dlac_dw_flat_tile *t, int j,
                                       int k) {
    const int w = dlac_ext_min_i(c->width, c->channels - (t->gb + j) * c->width);
    gemmini_extended_mvin2(c->weights + ((size_t)(t->gb + j) * c->taps + k) * c->width * c->width,
                           dlac_dw_flat_wbase(c, t->gb) + (uint32_t)((j * c->taps + k) * DIM), w, w);
}

/* Move `n` positions starting at scratchpad row `pos` in: from `src` (one pixel per row)
 * or zeros when src is NULL, `cols` channels across the group planes. */
static inline void dlac_dw_flat_fill(const dlac_dw_flat *c, const elem_t *src, uint32_t pos,
                                     int n, int cols) {
    for (int i = 0; i < n; i += DIM)
        gemmini_extended_mvin(src ? src + (size_t)i * c->in_stride : NULL, pos + (uint32_t)i,
                              cols, dlac_ext_min_i(DIM, n - i));
}

static inline int dlac_dw_flat_load_count(const dlac_dw_flat *c, const dlac_dw_flat_tile *t) {
    return DLAC_EXT_CEIL(t->ng, MAX_BLOCK_LEN) * c->stride * t->rows;
}

/* Input rows [from, to) of tile `t`, counted over (block of MAX_BLOCK_LEN groups, phase,
 * row). Row i of a phase spans positions [i * pitch + padding, (i + 1) * pitch + padding):
 * its pixels, then the zeros right of them and left of the next row (the first row also
 * writes the zeros before it). */
static inline void dlac_dw_flat_load(const dlac_dw_flat *c, const dlac_dw_flat_tile *t,
                                     int from, int to) {
    for (int n = from; n < to; n++) {
        const int i = n % t->rows, ph = (n / t->rows) % c->stride;
        const int jb = n / (t->rows * c->stride) * MAX_BLOCK_LEN;
        const int cols = dlac_ext_min_i(dlac_ext_min_i(MAX_BLOCK_LEN, t->ng - jb) * DIM,
                                    c->channels - (t->gb + jb) * c->width);
        const uint32_t base = (uint32_t)t->slot * c->half + (uint32_t)(jb * c->plane + ph * c->phase);
        const int row = (t->p0 + i) * c->stride + ph - c->padding;
        const int start = i * c->pitch + c->padding;
        if (i == 0) dlac_dw_flat_fill(c, NULL, base, c->padding, cols);
        if (row < 0 || row >= c->in_row_dim) {
            dlac_dw_flat_fill(c, NULL, base + start, c->pitch, cols);
            continue;
        }
        dlac_dw_flat_fill(c, c->input + ((size_t)(t->b * c->in_row_dim + row) * c->in_col_dim) *
                                            c->in_stride + (t->gb + jb) * c->width,
                          base + start, c->in_col_dim, cols);
        dlac_dw_flat_fill(c, NULL, base + start + c->in_col_dim, c->pitch - c->in_col_dim, cols);
    }
}

static inline void dlac_dw_flat_bias(const dlac_dw_flat *c, const dlac_dw_flat_tile *t) {
    if (!c->bias) return;
    const uint32_t acc = 1u << 31;
    for (int jb = 0; jb < t->ng; jb += MAX_BLOCK_LEN_ACC) {
        const int cols = dlac_ext_min_i(dlac_ext_min_i(MAX_BLOCK_LEN_ACC, t->ng - jb) * DIM,
                                    c->channels - (t->gb + jb) * c->width);
        for (size_t o = 0; o < t->outs; o += DIM)
            gemmini_extended_mvin3(c->bias + (t->gb + jb) * c->width,
                                   acc | ((uint32_t)t->slot * c->half_acc + (uint32_t)(jb * c->outs + o)),
                                   cols, dlac_ext_min_sz(DIM, t->outs - o));
    }
}

/* Output row `p` of group `j` of tile `t`, moved out (scaled, activated) to DRAM. */
static inline void dlac_dw_flat_store(const dlac_dw_flat *c, const dlac_dw_flat_tile *t, int j,
                                      int p) {
    const uint32_t acc = 1u << 31;
    const int g0 = (t->gb + j) * c->width, w = dlac_ext_min_i(c->width, c->channels - g0);
    for (int q = 0; q < c->out_col_dim; q += DIM)
        gemmini_extended_mvout(
            c->output + ((size_t)(t->b * c->out_row_dim + t->p0 + p) * c->out_col_dim + q) *
                            c->out_stride + g0,
            acc | ((uint32_t)t->slot * c->half_acc +
                   (uint32_t)(j * c->outs + p * (c->pitch / c->stride) + q)),
            w, dlac_ext_min_i(DIM, c->out_col_dim - q));
}

/* Outputs [o, o + DIM) of kernel tap `k` of group `j`: the tap's first chunk preloads its
 * diagonal weights, the rest reuse them; all accumulate onto the bias (or the first tap's
 * results). */
static inline void dlac_dw_flat_compute(const dlac_dw_flat *c, const dlac_dw_flat_tile *t,
                                        int j, int k, size_t o) {
    const uint32_t acc = 1u << 31, accum = 1u << 30;
    const int w = dlac_ext_min_i(c->width, c->channels - (t->gb + j) * c->width);
    const int r = k / c->kernel_dim, s = k % c->kernel_dim, n = (int)dlac_ext_min_sz(DIM, t->outs - o);
    const uint32_t a = (uint32_t)t->slot * c->half +
                       (uint32_t)(j * c->plane + (r % c->stride) * c->phase +
                                  (r / c->stride) * c->pitch + s + c->stride * o);
    const uint32_t out = acc | ((c->bias || k) ? accum : 0) |
                         ((uint32_t)t->slot * c->half_acc + (uint32_t)(j * c->outs + o));
    if (o == 0) {
        gemmini_extended_preload(dlac_dw_flat_wbase(c, t->gb) + (uint32_t)((j * c->taps + k) * DIM),
                                 out, w, w, w, n);
        gemmini_extended_compute_preloaded(a, GARBAGE_ADDR, w, n, DIM, DIM);
    } else {
        gemmini_extended_preload(GARBAGE_ADDR, out, DIM, DIM, w, n);
        gemmini_extended_compute_accumulated(a, GARBAGE_ADDR, w, n, DIM, DIM);
    }
}

/* Work issued between a tile's computes, as one stream of items: the previous tile's
 * stores (one per group and output row), then the next tile's loads (its group block's
 * weights when the block is new, one per group and tap; its input rows; its bias). The
 * CPU issues in order into small reservation stations, so a burst of loads or stores
 * would stall it while the array runs dry; a share after each compute keeps all busy. */
typedef struct dlac_dw_flat_feed {
    const dlac_dw_flat_tile *prev, *next;
    int stores, weights, rows, total, done;
} dlac_dw_flat_feed;

static inline void dlac_dw_flat_feed_init(const dlac_dw_flat *c, const dlac_dw_flat_tile *prev,
                                          const dlac_dw_flat_tile *next, bool new_block,
                                          dlac_dw_flat_feed *f) {
    f->prev = prev;
    f->next = next;
    f->stores = prev ? prev->ng * prev->np : 0;
    f->weights = next && new_block ? next->ng * c->taps : 0;
    f->rows = next ? dlac_dw_flat_load_count(c, next) : 0;
    f->total = f->stores + f->weights + f->rows + (next ? 1 : 0);
    f->done = 0;
}

static inline void dlac_dw_flat_feed_to(const dlac_dw_flat *c, dlac_dw_flat_feed *f, int upto) {
    for (; f->done < upto; f->done++) {
        int n = f->done;
        if (n < f->stores) {
            dlac_dw_flat_store(c, f->prev, n / f->prev->np, n % f->prev->np);
            continue;
        }
        n -= f->stores;
        if (n < f->weights) dlac_dw_flat_weight(c, f->next, n / c->taps, n % c->taps);
        else if (n < f->weights + f->rows) dlac_dw_flat_load(c, f->next, n - f->weights, n - f->weights + 1);
        else dlac_dw_flat_bias(c, f->next);
    }
}

/* A depthwise conv on flattened rows (dlac's "flat" lowering, see dse/lowering.py). Each
 * group's padded input rows lie back to back in the scratchpad, `pitch` positions apart,
 * split into `stride` row phases (row y in phase y % stride), so output (p, q) of a tile is
 * flat output o = p * pitch / stride + q and kernel tap (r, s) reads position
 * stride * o + (r / stride) * pitch + s of phase r % stride: one compute covers DIM outputs
 * across output rows (the few that fall in the padding are garbage and never moved out),
 * where loop_conv_ws covers at most one output row. Padding is written as zeros (mvin
 * from address 0). Weights are one diagonal matrix per group and tap, [group][krow][kcol]
 * [w][w] with w = min(DIM, channels) (passes/depthwise_groups.diagonal_blocks), so each
 * tap's weights are one contiguous block for the DMA. Tiles: `porows` output rows by
 * `pgroups` groups of DIM channels, double buffered; the CPU issues every instruction, so
 * the next tile's loads are interleaved with this tile's computes to keep both units busy
 * through the in-order reservation stations. */
static inline void dlac_conv_dw_flat(int batch_size, int in_row_dim, int in_col_dim,
        int channels, int out_row_dim, int out_col_dim, int stride, int padding, int kernel_dim,
        int in_stride, int out_stride, int porows, int pgroups, const elem_t *input,
        const elem_t *weights, const acc_t *bias, elem_t *output, int act, acc_scale_t scale) {
    dlac_dw_flat c = {.batch_size = batch_size, .in_row_dim = in_row_dim,
                      .in_col_dim = in_col_dim, .channels = channels,
                      .out_row_dim = out_row_dim, .out_col_dim = out_col_dim, .stride = stride,
                      .padding = padding, .kernel_dim = kernel_dim, .in_stride = in_stride,
                      .out_stride = out_stride, .porows = porows, .pgroups = pgroups};
    c.width = dlac_ext_min_i(DIM, channels);
    c.ngroups = DLAC_EXT_CEIL(channels, c.width);
    c.taps = kernel_dim * kernel_dim;
    if (porows < 1 || pgroups < 1 || porows > out_row_dim || pgroups > c.ngroups) {
        DLAC_EXT_FAIL("dlac_conv_dw_flat: tiles must be >= 1 and within the layer");
        return;
    }
    c.pitch = dlac_dw_flat_pitch(in_col_dim, out_col_dim, stride, padding, kernel_dim);
    int rows;
    dlac_dw_flat_rows(porows, out_col_dim, stride, kernel_dim, c.pitch, &rows, &c.outs);
    c.phase = (size_t)rows * c.pitch + padding;
    c.plane = (size_t)stride * c.phase;
    c.sp_total = (size_t)BANK_NUM * BANK_ROWS;
    c.wslot = (size_t)pgroups * c.taps * DIM;
    if (2 * c.wslot >= c.sp_total || (size_t)pgroups * c.plane > (c.sp_total - 2 * c.wslot) / 2 ||
        (size_t)pgroups * c.outs > (size_t)ACC_ROWS / 2 || c.plane > 0xFFFF || c.outs > 0xFFFF) {
        DLAC_EXT_FAIL("dlac_conv_dw_flat: the tile does not fit the scratchpad/accumulator");
        return;
    }
    c.half = (uint32_t)((c.sp_total - 2 * c.wslot) / 2);
    c.half_acc = ACC_ROWS / 2;
    c.input = input;
    c.weights = weights;
    c.bias = bias;
    c.output = output;
    DLAC_EXT_CALL(0);
    DLAC_EXT_BYTES((double)batch_size * (in_row_dim * in_col_dim + out_row_dim * out_col_dim) *
                       channels + (double)c.taps * c.width * channels + (bias ? 4.0 * channels : 0.0));
    gemmini_extended_config_st(out_stride * sizeof(elem_t), act & 3, scale);
    gemmini_extended3_config_ex(WEIGHT_STATIONARY, 0, 0, ACC_SCALE_IDENTITY, 1, stride, false,
                                false, false);
    gemmini_extended4_config_ld(in_stride * sizeof(elem_t), MVIN_SCALE_IDENTITY, false,
                                (uint32_t)c.plane, 0);
    gemmini_extended4_config_ld(c.width * sizeof(elem_t), MVIN_SCALE_IDENTITY, false, DIM, 1);
    gemmini_extended4_config_ld(0, MVIN_SCALE_IDENTITY, false, (uint32_t)c.outs, 2);
    dlac_dw_flat_tile prev, cur, nxt;
    dlac_dw_flat_feed feed;
    dlac_dw_flat_tile_at(&c, 0, 0, 0, 0, &cur);
    dlac_dw_flat_feed_init(&c, NULL, &cur, true, &feed);
    dlac_dw_flat_feed_to(&c, &feed, feed.total);
    for (bool first = true;; first = false) {
        const bool more = dlac_dw_flat_next(&c, &cur, &nxt);
        DLAC_EXT_TILE(0);
        dlac_dw_flat_feed_init(&c, first ? NULL : &prev, more ? &nxt : NULL,
                               more && nxt.gb != cur.gb, &feed);
        const long pairs = (long)cur.ng * c.taps * (long)DLAC_EXT_CEIL(cur.outs, DIM);
        long pair = 0;
        for (int j = 0; j < cur.ng; j++)
            for (int k = 0; k < c.taps; k++)
                for (size_t o = 0; o < cur.outs; o += DIM) {
                    dlac_dw_flat_compute(&c, &cur, j, k, o);
                    dlac_dw_flat_feed_to(&c, &feed, (int)(feed.total * ++pair / pairs));
                }
        prev = cur;
        if (!more) break;
        cur = nxt;
    }
    for (int j = 0; j < prev.ng; j++)
        for (int p = 0; p < prev.np; p++) dlac_dw_flat_store(&c, &prev, j, p);
    gemmini_fence();
}

#endif
