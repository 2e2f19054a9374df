/* Private state of the simulator, shared by the core, the loop FSMs and the timing model. */
#ifndef DLAC_SIM_INTERNAL_H
#define DLAC_SIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dlac_sim.h"

#define GARBAGE_LADDR 0xFFFFFFFFu
#define LADDR_ROW_MASK ((1u << 26) - 1u)
#define DLAC_TLB_MAX 16
#define DLAC_PAGE_SHIFT 12
#define DLAC_LINE_SHIFT 6
/* Computes in the mesh at once: MeshWithDelays' tag queue holds max_simultaneous_matmuls + 1
 * = 5 * ceil(tile_latency + 1) + 1 = 6 entries (tile_latency 0), each held from the request
 * until its last result row leaves the array. */
#define DLAC_MESH_TAGS 6
/* Upper bound of the DMA command trackers' entries (max_in_flight / DIM + 1, DIM >= 2). */
#define DLAC_DMA_CMDS_MAX 64

enum { UNIT_LD = 0, UNIT_EX = 1, UNIT_ST = 2, UNIT_COUNT = 3 };

/* Row events the scoreboard records, and the sets of them a check waits for. */
enum { ROW_LD_WR = 0, ROW_EX_WR = 1, ROW_RD = 2, ROW_EVENTS = 3 };
enum { WAIT_LD_WR = 1 << ROW_LD_WR, WAIT_EX_WR = 1 << ROW_EX_WR, WAIT_RD = 1 << ROW_RD,
       WAIT_RAW = WAIT_LD_WR | WAIT_EX_WR, WAIT_ALL = WAIT_RAW | WAIT_RD };

enum {
    F_CONFIG = 0, F_MVIN2 = 1, F_MVIN = 2, F_MVOUT = 3, F_COMPUTE_PRELOADED = 4,
    F_COMPUTE_ACCUMULATED = 5, F_PRELOAD = 6, F_FLUSH = 7, F_LOOP_WS = 8,
    F_LOOP_WS_BOUNDS = 9, F_LOOP_WS_AB = 10, F_LOOP_WS_DC = 11, F_LOOP_WS_STR_AB = 12,
    F_LOOP_WS_STR_DC = 13, F_MVIN3 = 14, F_LOOP_CONV_WS = 15, F_LOOP_CONV_CFG1 = 16,
    F_LOOP_CONV_CFG6 = 21, F_CLKGATE = 22, F_COUNTER = 126, F_FENCE = 127
};

typedef struct laddr {
    int garbage;
    int is_acc;
    int accumulate;
    int full;
    uint32_t row;
} laddr;

typedef struct ld_config {
    uint64_t stride;
    float scale;
    int shrunk;
    uint32_t block_stride;
    uint32_t pixel_repeats;
} ld_config;

/* Where the instruction being executed came from: the CPU or a loop FSM. */
typedef struct issuer {
    double *clock;
    double cost;
} issuer;

struct dlac_sim {
    dlac_sim_config cfg;
    int dim, sp_rows, acc_rows, mbl, mbl_acc;
    int8_t *spad;
    int32_t *acc;
    /* execute configuration */
    int dataflow;
    int sys_act;
    uint32_t sys_shift;
    int a_transpose, b_transpose;
    uint32_t a_stride, c_stride;
    ld_config ld[3];
    uint64_t st_stride;
    int st_act;
    float st_scale;
    int st_pool_stride;
    /* pooling during mvout (config_st): window, padding and the tile's geometry */
    uint32_t pool_size, pool_upad, pool_lpad, pool_out_dim, pool_porows, pool_pocols,
        pool_orows, pool_ocols;
    /* preload / array state */
    int have_preload;
    uint64_t pre_bd, pre_c;
    double pre_ready;
    int16_t *weights;   /* WS weights / OS B operand as int16 pairs (array.c layout) */
    int32_t *os_acc;    /* OS: DIM x DIM accumulators in the PEs */
    int16_t *abuf;      /* DIM x DIM scratch for the A operand */
    int32_t *outbuf;    /* DIM x DIM results on their way out of the array */
    /* loop FSM configuration registers */
    uint64_t ws_rs1[6], ws_rs2[6];
    uint64_t conv_rs1[7], conv_rs2[7];
    int loop_slot, ws_acc_half, conv_acc_half;
    /* timing */
    double host_t;
    double fsm_u[UNIT_COUNT];  /* loop FSM issue clocks, one per sub-unit */
    double loop_end[2];
    double loop_done;      /* latest completion of the loop being expanded */
    double unit_free[UNIT_COUNT];
    double done_max;
    double *rs_ring[UNIT_COUNT];
    int rs_pos[UNIT_COUNT], rs_size[UNIT_COUNT];
    /* Row scoreboard, [0 scratchpad / 1 accumulator][ROW_*]: when each row was last
     * written by the load unit, by the execute unit, and last read. */
    double *row_t[2][ROW_EVENTS];
    double ex_preload_t;
    double mesh_out[DLAC_MESH_TAGS];  /* when each of the last computes leaves the mesh */
    int mesh_pos;
    /* DMA command trackers (load, store): when each of the last dma_cmds mvins / mvouts
     * completes; a new one waits for the oldest (LoadController / StoreController). */
    double dma_cmd_done[2][DLAC_DMA_CMDS_MAX];
    int dma_cmd_pos[2], dma_cmds;
    double mem_latency;     /* effective DMA latency of the current call */
    double miss_frac;       /* share of the current call's DMA traffic that misses the LLC */
    /* L2 tags of the DMA's lines: l2_sets x l2_ways (0 = empty); victims by a xorshift
     * generator, as the InclusiveCache directory picks them with an LFSR (random replacement) */
    uint64_t *l2_tag;
    uint32_t l2_sets, l2_ways;
    uint64_t l2_lfsr;
    /* every line the DMA has touched (open addressing, line + 1; 0 = empty), and the share
     * of a never-touched line's misses that count: the run before this one left the most
     * recent l2 bytes of the call's working set in the L2 */
    uint64_t *l2_seen;
    size_t l2_seen_cap, l2_seen_n;
    double l2_cold_share;
    uint64_t tlb_page[2][DLAC_TLB_MAX];  /* DMA TLBs (reader, writer): page numbers, LRU order */
    int tlb_fill[2];
    dlac_sim_stats st;
    /* performance counters (counters.c): event per counter, its value at the last reset,
     * and the frozen values while a snapshot is held */
    uint32_t ctr_event[8];
    int ctr_external[8];
    double ctr_base[8], ctr_snap[8];
    int ctr_snap_on;
    /* errors */
    int failed;
    char err[320];
};

/* core.c */
int sim_exec(dlac_sim *s, uint32_t funct, uint64_t rs1, uint64_t rs2, issuer *who);
int sim_assert_fail(dlac_sim *s, const char *fmt, ...);
laddr sim_decode(uint32_t a);

/* loops.c */
int sim_loop_ws(dlac_sim *s, double clocks[3]);
int sim_loop_conv_ws(dlac_sim *s, double clocks[3]);

/* array.c */
void array_load_pairs(const dlac_sim *s, laddr a, uint32_t rows, uint32_t cols, uint32_t step,
                      int transpose, int16_t *wp);
uint32_t array_load_rows(const dlac_sim *s, laddr a, uint32_t rows, uint32_t cols, uint32_t step,
                         int transpose, int16_t *out);
void array_matmul(const int16_t *A, uint32_t rows, const int16_t *wp, int32_t *C, int dim);

/* timing.c */
void timing_init(dlac_sim *s);
/* Empties the L2 model, its victim generator and the DMA TLBs: each library call starts
 * from the same memory state whatever ran before it and wherever its buffers live. */
void timing_mem_reset(dlac_sim *s);
double timing_drained(const dlac_sim *s);

#endif
