/* What the loop FSMs (loops.c, loop_conv_ext.c) share: operand encoding, the FSM's
 * three issue clocks, and LOOP_CONV_WS's decoded configuration registers. */
#ifndef DLAC_LOOP_COMMON_H
#define DLAC_LOOP_COMMON_H

#include "sim_internal.h"

#define F(x) ((uint64_t)(x))

static inline uint64_t operand(uint32_t rows, uint32_t cols, uint32_t addr) {
    return (F(rows) << 48) | (F(cols) << 32) | F(addr);
}

static inline uint32_t umin(uint32_t a, uint32_t b) { return a < b ? a : b; }

typedef struct fsm {
    issuer ld, ex, st;
} fsm;

static inline void fsm_init(dlac_sim *s, fsm *f, double clocks[3], int on_cpu) {
    if (on_cpu) {
        /* Software-unrolled tiles: the CPU issues every instruction, one after another. */
        f->ld.clock = f->ex.clock = f->st.clock = &s->host_t;
        f->ld.cost = f->ex.cost = f->st.cost = s->cfg.host_issue_cycles;
        return;
    }
    f->ld.clock = &clocks[UNIT_LD];
    f->ex.clock = &clocks[UNIT_EX];
    f->st.clock = &clocks[UNIT_ST];
    f->ld.cost = f->ex.cost = f->st.cost = s->cfg.loop_fsm_cycles;
}

/* LoopConv's execute FSM issues nothing until the loop's load FSMs are idle (`ld_ahead`:
 * every mvin of the loop has entered the reservation station), and its store FSM nothing
 * until the execute FSM is idle (`st.io.ex_completed`), unlike LoopMatmul's per-block
 * checks (ucb-bar/gemmini LoopConv.scala). */
static inline void fsm_ex_after_loads(fsm *f) {
    if (*f->ex.clock < *f->ld.clock) *f->ex.clock = *f->ld.clock;
}

static inline void fsm_st_after_ex(fsm *f) {
    if (*f->st.clock < *f->ex.clock) *f->st.clock = *f->ex.clock;
}

static inline uint64_t config_ld_rs1(int id, int shrunk, uint32_t block_stride) {
    return (F(0x3F800000u) << 32) | (F(block_stride) << 16) | (F(id) << 3) |
           (F(shrunk) << 2) | 1u;
}

typedef struct conv_args {
    uint32_t batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
        out_col_dim, pool_out_row_dim, pool_out_col_dim, stride, padding, kernel_dim,
        kernel_dilation, pool_size, pool_stride, pool_padding, batches, porows, pocols, pochs,
        krows, kcols, kchs, lpad, rpad, upad, dpad, plpad, prpad, pupad, pdpad, orows, ocols,
        in_stride, weight_stride, out_stride, max_pixels_per_row;
    uint64_t weights, output, bias, input;
    int no_bias, no_pool, a_spad_id, b_spad_id, transforms, dw, input_dilated, downsample,
        activation, wrot180, trans_output_1203, trans_weight_1203, trans_weight_0132,
        trans_input_3120;
} conv_args;

static inline conv_args decode_conv(const dlac_sim *s) {
    conv_args c;
    const uint64_t *r1 = s->conv_rs1, *r2 = s->conv_rs2;
#define B16(x, sh) ((uint32_t)(((x) >> (sh)) & 0xFFFF))
#define B8(x, sh) ((uint32_t)(((x) >> (sh)) & 0xFF))
    c.batch_size = B16(r1[0], 0);
    c.in_row_dim = B16(r1[0], 16);
    c.in_channels = B16(r1[0], 32);
    c.out_channels = B16(r1[0], 48);
    c.out_row_dim = B16(r2[0], 0);
    c.pool_out_row_dim = B16(r2[0], 16);
    c.out_col_dim = B16(r2[0], 32);
    c.stride = B8(r2[0], 48);
    c.padding = B8(r2[0], 56);
    c.pool_padding = B8(r1[1], 0);
    c.pool_stride = B8(r1[1], 8);
    c.pool_size = B16(r1[1], 16);
    c.pool_out_col_dim = B16(r1[1], 32);
    c.kernel_dim = B16(r1[1], 48);
    c.pochs = B16(r2[1], 0);
    c.pocols = B16(r2[1], 16);
    c.porows = B16(r2[1], 32);
    c.batches = B16(r2[1], 48);
    c.lpad = B16(r1[2], 0);
    c.kchs = B16(r1[2], 16);
    c.kcols = B16(r1[2], 32);
    c.krows = B16(r1[2], 48);
    c.in_col_dim = B16(r2[2], 0);
    c.plpad = B8(r2[2], 16);
    c.prpad = B16(r1[3], 32);
    c.pupad = (uint32_t)((r1[3] >> 21) & 0x7FF);
    c.pdpad = (uint32_t)((r1[3] >> 10) & 0x7FF);
    c.dpad = B8(r2[2], 24);
    c.upad = B16(r2[2], 32);
    c.rpad = B16(r2[2], 48);
    c.kernel_dilation = (uint32_t)(r1[3] & 0x3FF);
    c.orows = B16(r1[3], 48);
    c.ocols = B16(r2[3], 0);
    c.out_stride = B16(r2[3], 16);
    c.weight_stride = B16(r2[3], 32);
    c.in_stride = B16(r2[3], 48);
    c.weights = r1[4];
    c.output = r2[4];
    c.bias = r1[5];
    c.input = r2[5];
    c.no_bias = (int)(r1[6] & 1);
    c.transforms = (int)((r1[6] >> 1) & 0x1F);
    c.wrot180 = (int)((r1[6] >> 1) & 1);
    c.trans_output_1203 = (int)((r1[6] >> 2) & 1);
    c.trans_weight_1203 = (int)((r1[6] >> 3) & 1);
    c.trans_weight_0132 = (int)((r1[6] >> 4) & 1);
    c.trans_input_3120 = (int)((r1[6] >> 5) & 1);
    c.max_pixels_per_row = (uint32_t)((r1[6] >> 8) & 0xFF);
    c.dw = (int)((r1[6] >> 6) & 1);
    c.b_spad_id = (int)((r1[6] >> 16) & 3);
    c.a_spad_id = (int)((r1[6] >> 18) & 3);
    c.no_pool = (int)(r2[6] & 1);
    c.downsample = (int)((r2[6] >> 1) & 1);
    c.input_dilated = (int)((r2[6] >> 2) & 1);
    c.activation = (int)((r2[6] >> 3) & 3);
#undef B16
#undef B8
    return c;
}

/* loop_conv_ext.c: LOOP_CONV_WS with pooling, layout transposes, input dilation or a
 * rotated kernel. */
int sim_loop_conv_ws_ext(dlac_sim *s, const conv_args *c, fsm *f);
int sim_conv_wrapped_input(dlac_sim *s, fsm *f, const conv_args *c, uint32_t irows, uint32_t icols,
                           uint32_t a_base, uint32_t free_rows);

#endif
