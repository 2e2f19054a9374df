/* Gemmini's public software API for the dlac simulator.
 *
 * Names and argument orders follow Gemmini's gemmini.h (see docs/simulator.md).  Every
 * macro encodes rs1/rs2 exactly as the hardware ISA does and hands the instruction to the
 * dlac simulator core (dlac_sim.h), so a C program written for Gemmini compiles with the
 * host C compiler and runs on the simulator.  Link with the .c files in sim/csrc.
 */
#ifndef DLAC_GEMMINI_H
#define DLAC_GEMMINI_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemmini_params.h"
#include "dlac_sim_config.h"
#include "dlac_sim.h"
#include "gemmini_counter.h"

#define k_CONFIG 0
#define k_MVIN2 1
#define k_MVIN 2
#define k_MVOUT 3
#define k_COMPUTE_PRELOADED 4
#define k_COMPUTE_ACCUMULATE 5
#define k_PRELOAD 6
#define k_FLUSH 7
#define k_LOOP_WS 8
#define k_LOOP_WS_CONFIG_BOUNDS 9
#define k_LOOP_WS_CONFIG_ADDRS_AB 10
#define k_LOOP_WS_CONFIG_ADDRS_DC 11
#define k_LOOP_WS_CONFIG_STRIDES_AB 12
#define k_LOOP_WS_CONFIG_STRIDES_DC 13
#define k_MVIN3 14
#define k_LOOP_CONV_WS 15
#define k_LOOP_CONV_WS_CONFIG_1 16
#define k_LOOP_CONV_WS_CONFIG_2 17
#define k_LOOP_CONV_WS_CONFIG_3 18
#define k_LOOP_CONV_WS_CONFIG_4 19
#define k_LOOP_CONV_WS_CONFIG_5 20
#define k_LOOP_CONV_WS_CONFIG_6 21
#define k_COUNTER 126

#define CONFIG_EX 0
#define CONFIG_LD 1
#define CONFIG_ST 2
#define CONFIG_BERT 3

#define GARBAGE_ADDR ((uint32_t)(-1))
#define OUTPUT_STATIONARY 0
#define WEIGHT_STATIONARY 1

#define NO_ACTIVATION 0
#define RELU 1
#define LAYERNORM 2
#define IGELU 3
#define SOFTMAX 4

enum tiled_matmul_type_t { OS, WS, CPU };

/* ---- simulator glue ------------------------------------------------------------------ */

#ifdef DLAC_SIM_STATS_PATH
static inline void dlac_sim_write_stats_(void) {
    dlac_sim *sim = dlac_sim_current();
    if (!sim) return;
    dlac_sim_stats st;
    dlac_sim_get_stats(sim, &st);
    FILE *f = fopen(DLAC_SIM_STATS_PATH, "w");
    if (!f) return;
    fprintf(f, "{\"cycles\": %.17g, \"host_cycles\": %.17g, \"energy_pj\": %.17g, "
               "\"instructions\": %llu, \"macs\": %llu, \"counts\": [",
            st.cycles, st.host_cycles, st.energy_pj, (unsigned long long)st.instructions,
            (unsigned long long)st.macs);
    for (int i = 0; i < DLAC_CLS_COUNT; i++)
        fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)st.counts[i]);
    fprintf(f, "]}\n");
    fclose(f);
}
#endif

/* The simulator this program runs on, created on first use from the generated config. */
static inline dlac_sim *gemmini_sim(void) {
    dlac_sim *sim = dlac_sim_current();
    if (!sim) {
        const dlac_sim_config cfg = DLAC_SIM_CONFIG_INIT;
        sim = dlac_sim_new(&cfg);
        if (!sim) {
            fprintf(stderr, "gemmini-sim: out of memory\n");
            exit(2);
        }
        dlac_sim_set_current(sim);
#ifdef DLAC_SIM_STATS_PATH
        atexit(dlac_sim_write_stats_);
#endif
    }
    return sim;
}

static inline void gemmini_rocc(uint32_t funct, uint64_t rs1, uint64_t rs2) {
    dlac_sim_issue(gemmini_sim(), funct, rs1, rs2);
}

/* A software-side assertion of the C library (compiled programs exit, Python raises). */
static inline void gemmini_lib_fail(const char *reason) { dlac_sim_fail(gemmini_sim(), reason); }

static inline void gemmini_host_work(double cycles) { dlac_sim_host_work(gemmini_sim(), cycles); }

/* Bytes a library call touches, so the simulator knows whether it fits the LLC. */
static inline void gemmini_working_set(double bytes) { dlac_sim_set_working_set(gemmini_sim(), bytes); }

#if defined(__x86_64__) && !defined(DLAC_SIM_NO_RDCYCLE)
/* Gemmini programs (gemmini_testutils.h's read_cycles) read the clock with the RISC-V
 * `rdcycle` instruction; on an x86-64 host it assembles to a read of the simulated host
 * clock, kept in dlac_sim_rdcycle by the simulator core. */
extern uint64_t dlac_sim_rdcycle;
__asm__(".macro rdcycle reg\n\tmovq dlac_sim_rdcycle(%rip), \\reg\n.endm");
#endif

static inline uint32_t scale_t_to_scale_t_bits(scale_t x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline uint32_t acc_scale_t_to_acc_scale_t_bits(acc_scale_t x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

#define DLAC_U64(x) ((uint64_t)(x))
#define DLAC_OPERAND(addr, cols, rows) \
    ((DLAC_U64(rows) << (ADDR_LEN + 16)) | (DLAC_U64(cols) << ADDR_LEN) | DLAC_U64((uint32_t)(addr)))

/* ---- instruction macros (argument orders as in Gemmini's gemmini.h) --------------------- */

#define gemmini_extended_mvin(dram_addr, spad_addr, cols, rows) \
    gemmini_rocc(k_MVIN, (uint64_t)(uintptr_t)(dram_addr), DLAC_OPERAND(spad_addr, cols, rows))
#define gemmini_extended_mvin2(dram_addr, spad_addr, cols, rows) \
    gemmini_rocc(k_MVIN2, (uint64_t)(uintptr_t)(dram_addr), DLAC_OPERAND(spad_addr, cols, rows))
#define gemmini_extended_mvin3(dram_addr, spad_addr, cols, rows) \
    gemmini_rocc(k_MVIN3, (uint64_t)(uintptr_t)(dram_addr), DLAC_OPERAND(spad_addr, cols, rows))
#define gemmini_block_mvin(dram_addr, spad_addr, len) \
    gemmini_extended_mvin(dram_addr, spad_addr, (len) * DIM, DIM)
#define gemmini_mvin(dram_addr, spad_addr) gemmini_extended_mvin(dram_addr, spad_addr, DIM, DIM)

#define gemmini_extended_mvout(dram_addr, spad_addr, cols, rows) \
    gemmini_rocc(k_MVOUT, (uint64_t)(uintptr_t)(dram_addr), DLAC_OPERAND(spad_addr, cols, rows))
#define gemmini_mvout(dram_addr, spad_addr) gemmini_extended_mvout(dram_addr, spad_addr, DIM, DIM)

#define gemmini_extended_preload(BD, C, BD_cols, BD_rows, C_cols, C_rows) \
    gemmini_rocc(k_PRELOAD, DLAC_OPERAND(BD, BD_cols, BD_rows), DLAC_OPERAND(C, C_cols, C_rows))
#define gemmini_preload(BD, C) gemmini_extended_preload(BD, C, DIM, DIM, DIM, DIM)
#define gemmini_preload_zeros(C) gemmini_preload(GARBAGE_ADDR, C)

#define gemmini_extended_compute_preloaded(A, BD, A_cols, A_rows, BD_cols, BD_rows) \
    gemmini_rocc(k_COMPUTE_PRELOADED, DLAC_OPERAND(A, A_cols, A_rows), DLAC_OPERAND(BD, BD_cols, BD_rows))
#define gemmini_extended_compute_accumulated(A, BD, A_cols, A_rows, BD_cols, BD_rows) \
    gemmini_rocc(k_COMPUTE_ACCUMULATE, DLAC_OPERAND(A, A_cols, A_rows), DLAC_OPERAND(BD, BD_cols, BD_rows))
#define gemmini_compute_preloaded(A, BD) gemmini_extended_compute_preloaded(A, BD, DIM, DIM, DIM, DIM)
#define gemmini_compute_accumulated(A, BD) \
    gemmini_extended_compute_accumulated(A, BD, DIM, DIM, DIM, DIM)

#define gemmini_extended3_config_ex(dataflow, sys_act, sys_shift, sys_acc_scale, C_stride, A_stride, \
                                    A_transpose, B_transpose, set_only_strides) \
    gemmini_rocc(k_CONFIG, \
        (DLAC_U64(acc_scale_t_to_acc_scale_t_bits((acc_scale_t)(sys_acc_scale))) << 32) | \
        (DLAC_U64(A_stride) << 16) | (DLAC_U64(B_transpose) << 9) | (DLAC_U64(A_transpose) << 8) | \
        (DLAC_U64(set_only_strides) << 7) | (DLAC_U64(sys_act) << 3) | (DLAC_U64(dataflow) << 2) | \
        CONFIG_EX, \
        (DLAC_U64(C_stride) << 48) | DLAC_U64((uint32_t)(sys_shift)));
#define gemmini_extended2_config_ex(dataflow, sys_act, sys_shift, A_stride, A_transpose, B_transpose) \
    gemmini_extended3_config_ex(dataflow, sys_act, sys_shift, ACC_SCALE_IDENTITY, 1, A_stride, \
                                A_transpose, B_transpose, false)
#define gemmini_extended_config_ex(dataflow, sys_act, sys_shift, A_stride, A_transpose, B_transpose) \
    gemmini_extended2_config_ex(dataflow, sys_act, sys_shift, A_stride, A_transpose, B_transpose)
#define gemmini_config_ex(dataflow, sys_act, sys_shift) \
    gemmini_extended_config_ex(dataflow, sys_act, sys_shift, 1, 0, 0)

#define gemmini_extended5_config_ld(stride, scale, shrunk, block_mvin_stride, pixel_repeats, id) \
    gemmini_rocc(k_CONFIG, \
        (DLAC_U64(scale_t_to_scale_t_bits((scale_t)(scale))) << 32) | \
        (DLAC_U64(block_mvin_stride) << 16) | (DLAC_U64(pixel_repeats) << 8) | (DLAC_U64(id) << 3) | \
        (DLAC_U64(shrunk) << 2) | CONFIG_LD, \
        DLAC_U64(stride))
#define gemmini_extended4_config_ld(stride, scale, shrunk, block_mvin_stride, id) \
    gemmini_extended5_config_ld(stride, scale, shrunk, block_mvin_stride, 1, id)
#define gemmini_extended3_config_ld(stride, scale, shrunk, id) \
    gemmini_extended4_config_ld(stride, scale, shrunk, DIM, id)
#define gemmini_extended2_config_ld(stride, scale, shrunk) \
    gemmini_extended3_config_ld(stride, scale, shrunk, 0)
#define gemmini_extended_config_ld(stride, scale) gemmini_extended2_config_ld(stride, scale, false)
#define gemmini_config_ld(stride) gemmini_extended_config_ld(stride, MVIN_SCALE_IDENTITY)

#define gemmini_extended2_config_st(stride, acc_act, acc_scale, pool_stride, pool_size, pool_out_dim, \
                                    porows, pocols, orows, ocols, upad, lpad) \
    gemmini_rocc(k_CONFIG, \
        (DLAC_U64(ocols) << 56) | (DLAC_U64(orows) << 48) | (DLAC_U64(pocols) << 40) | \
        (DLAC_U64(porows) << 32) | (DLAC_U64(pool_out_dim) << 24) | (DLAC_U64(lpad) << 10) | \
        (DLAC_U64(upad) << 8) | (DLAC_U64(pool_size) << 6) | (DLAC_U64(pool_stride) << 4) | \
        (DLAC_U64(acc_act) << 2) | CONFIG_ST, \
        (DLAC_U64(acc_scale_t_to_acc_scale_t_bits((acc_scale_t)(acc_scale))) << 32) | \
        DLAC_U64((uint32_t)(stride)))
#define gemmini_extended_config_st(stride, acc_act, acc_scale) \
    gemmini_extended2_config_st(stride, acc_act, acc_scale, 0, 0, 0, 0, 0, 0, 0, 0, 0)
#define gemmini_config_st(stride) gemmini_extended_config_st(stride, NO_ACTIVATION, ACC_SCALE_IDENTITY)

#define gemmini_config_norm(q_const, q_const_type, set_stats_id_only, act_msb, stat_id, igelu_qb, \
                            igelu_qc) \
    gemmini_rocc(k_CONFIG, \
        (DLAC_U64((uint32_t)(q_const)) << 32) | (DLAC_U64(q_const_type) << 18) | \
        (DLAC_U64(set_stats_id_only) << 17) | (DLAC_U64(act_msb) << 16) | (DLAC_U64(stat_id) << 8) | \
        CONFIG_BERT, \
        (DLAC_U64((uint32_t)(igelu_qc)) << 32) | DLAC_U64((uint32_t)(igelu_qb)))

/* ---- performance counters (config_reg encoding as in Gemmini's gemmini.h) ------------- */

#define gemmini_counter_access(rd, config_reg) \
    { rd = dlac_sim_counter(gemmini_sim(), (uint32_t)(config_reg)); }

static inline uint32_t counter_read(size_t index) {
    uint32_t res;
    gemmini_counter_access(res, (index & 0x7) << 4);
    return res;
}

/* Point counter `index` at event `counter_code` (codes above INCREMENTAL_COUNTERS are
 * external signals) and zero it. */
static inline void counter_configure(size_t index, size_t counter_code) {
    const uint32_t external = counter_code > INCREMENTAL_COUNTERS;
    if (external) counter_code -= INCREMENTAL_COUNTERS;
    uint32_t unused;
    gemmini_counter_access(unused, ((index & 0x7) << 4) | 0x8 | ((counter_code & 0x3F) << 12) |
                                       (external << 31));
    (void)unused;
}

static inline void counter_snapshot_take(void) {
    uint32_t unused;
    gemmini_counter_access(unused, 0x4);
    (void)unused;
}

static inline void counter_snapshot_reset(void) {
    uint32_t unused;
    gemmini_counter_access(unused, 0x2);
    (void)unused;
}

static inline void counter_reset(void) {
    uint32_t unused;
    gemmini_counter_access(unused, 0x1);
    (void)unused;
}

#define gemmini_flush(skip) gemmini_rocc(k_FLUSH, DLAC_U64(skip), 0)
#define gemmini_fence() dlac_sim_fence(gemmini_sim())

#define gemmini_loop_ws(I, J, K, pad_I, pad_J, pad_K, A, B, D, C, A_stride, B_stride, D_stride, \
                        C_stride, A_transpose, B_transpose, full_C, low_D, ex_accumulate, act, \
                        a_spad_id, b_spad_id, is_resadd) \
    do { \
        gemmini_rocc(k_LOOP_WS_CONFIG_BOUNDS, \
            (DLAC_U64(pad_K) << 32) | (DLAC_U64(pad_J) << 16) | DLAC_U64(pad_I), \
            (DLAC_U64(K) << 32) | (DLAC_U64(J) << 16) | DLAC_U64(I)); \
        gemmini_rocc(k_LOOP_WS_CONFIG_ADDRS_AB, DLAC_U64((uintptr_t)(A)), DLAC_U64((uintptr_t)(B))); \
        gemmini_rocc(k_LOOP_WS_CONFIG_ADDRS_DC, DLAC_U64((uintptr_t)(D)), DLAC_U64((uintptr_t)(C))); \
        gemmini_rocc(k_LOOP_WS_CONFIG_STRIDES_AB, DLAC_U64(A_stride), DLAC_U64(B_stride)); \
        gemmini_rocc(k_LOOP_WS_CONFIG_STRIDES_DC, DLAC_U64(D_stride), DLAC_U64(C_stride)); \
        gemmini_rocc(k_LOOP_WS, \
            (DLAC_U64(a_spad_id) << 18) | (DLAC_U64(b_spad_id) << 16) | (DLAC_U64(act) << 8) | \
            (DLAC_U64(low_D) << 2) | (DLAC_U64(full_C) << 1) | DLAC_U64(ex_accumulate), \
            (DLAC_U64(is_resadd) << 2) | (DLAC_U64(B_transpose) << 1) | DLAC_U64(A_transpose)); \
    } while (0)

#define gemmini_loop_conv_ws(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, \
    out_row_dim, out_col_dim, pool_out_row_dim, pool_out_col_dim, stride, padding, kernel_dim, \
    kernel_dilation, pool_size, pool_stride, pool_padding, batches, porows, pocols, pochs, krows, \
    kcols, kchs, lpad, rpad, upad, dpad, plpad, prpad, pupad, pdpad, orows, ocols, weights, output, \
    bias, input, no_bias, no_pool, downsample, wrot180, input_dilated, activation, \
    trans_output_1203, trans_weight_1203, trans_weight_0132, trans_input_3120, max_pixels_per_row, \
    in_stride, weight_stride, out_stride, dw, a_spad_id, b_spad_id) \
    do { \
        gemmini_rocc(k_LOOP_CONV_WS_CONFIG_1, \
            (DLAC_U64(out_channels) << 48) | (DLAC_U64(in_channels) << 32) | \
            (DLAC_U64(in_row_dim) << 16) | DLAC_U64(batch_size), \
            (DLAC_U64(padding) << 56) | (DLAC_U64(stride) << 48) | (DLAC_U64(out_col_dim) << 32) | \
            (DLAC_U64(pool_out_row_dim) << 16) | DLAC_U64(out_row_dim)); \
        gemmini_rocc(k_LOOP_CONV_WS_CONFIG_2, \
            (DLAC_U64(kernel_dim) << 48) | (DLAC_U64(pool_out_col_dim) << 32) | \
            (DLAC_U64(pool_size) << 16) | (DLAC_U64(pool_stride) << 8) | DLAC_U64(pool_padding), \
            (DLAC_U64(batches) << 48) | (DLAC_U64(porows) << 32) | (DLAC_U64(pocols) << 16) | \
            DLAC_U64(pochs)); \
        gemmini_rocc(k_LOOP_CONV_WS_CONFIG_3, \
            (DLAC_U64(krows) << 48) | (DLAC_U64(kcols) << 32) | (DLAC_U64(kchs) << 16) | DLAC_U64(lpad), \
            (DLAC_U64(rpad) << 48) | (DLAC_U64(upad) << 32) | (DLAC_U64(dpad) << 24) | \
            (DLAC_U64(plpad) << 16) | DLAC_U64(in_col_dim)); \
        gemmini_rocc(k_LOOP_CONV_WS_CONFIG_4, \
            (DLAC_U64(orows) << 48) | (DLAC_U64(prpad) << 32) | (DLAC_U64(pupad) << 21) | \
            (DLAC_U64(pdpad) << 10) | DLAC_U64(kernel_dilation), \
            (DLAC_U64(in_stride) << 48) | (DLAC_U64(weight_stride) << 32) | \
            (DLAC_U64(out_stride) << 16) | DLAC_U64(ocols)); \
        gemmini_rocc(k_LOOP_CONV_WS_CONFIG_5, DLAC_U64((uintptr_t)(weights)), \
                     DLAC_U64((uintptr_t)(output))); \
        gemmini_rocc(k_LOOP_CONV_WS_CONFIG_6, DLAC_U64((uintptr_t)(bias)), DLAC_U64((uintptr_t)(input))); \
        gemmini_rocc(k_LOOP_CONV_WS, \
            (DLAC_U64(a_spad_id) << 18) | (DLAC_U64(b_spad_id) << 16) | \
            (DLAC_U64(max_pixels_per_row) << 8) | (DLAC_U64(dw) << 6) | \
            (DLAC_U64(trans_input_3120) << 5) | (DLAC_U64(trans_weight_0132) << 4) | \
            (DLAC_U64(trans_weight_1203) << 3) | (DLAC_U64(trans_output_1203) << 2) | \
            (DLAC_U64(wrot180) << 1) | DLAC_U64(no_bias), \
            (DLAC_U64(activation) << 3) | (DLAC_U64(input_dilated) << 2) | \
            (DLAC_U64(downsample) << 1) | DLAC_U64(no_pool)); \
    } while (0)

#include "gemmini_lib.h"

#endif
