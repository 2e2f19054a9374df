/* dlac bundled Gemmini simulator: the one implementation of the instruction semantics.
 *
 * Compiled Gemmini programs (through gemmini.h) and Python (through ctypes) both drive a
 * `dlac_sim` by issuing RoCC-encoded instructions (funct, rs1, rs2).  DRAM addresses are
 * host pointers.  The machine shape and every timing/energy constant arrive at run time
 * in `dlac_sim_config`; the Python side (dlac.sim.timing, dlac.ir.hwcost) owns the
 * default values, so the field order here must match dlac/sim/native.py.
 */
#ifndef DLAC_SIM_H
#define DLAC_SIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dlac_sim_config {
    /* machine shape (dlac.ir.target.Target) */
    int32_t dim;
    int32_t sp_banks;
    int32_t sp_bank_rows;
    int32_t acc_banks;
    int32_t acc_bank_rows;
    int32_t max_bytes;
    int32_t dma_bus_bytes;
    int32_t dma_max_bytes;
    int32_t max_in_flight;
    int32_t rs_ld;
    int32_t rs_ex;
    int32_t rs_st;
    int32_t spad_read_delay;
    int32_t acc_latency;
    int32_t has_mvin_scale;
    int32_t acc_read_full_width;
    int32_t acc_read_small_width;
    int32_t timing_only;
    int32_t die_on_error;
    int32_t pad0;
    double dram_latency;          /* cycles from request to first data */
    double dram_bytes_per_cycle;  /* sustained DRAM bandwidth */
    /* timing knobs (dlac.sim.timing) */
    double host_issue_cycles;     /* CPU cycles to issue one RoCC instruction */
    double host_tile_cycles;      /* CPU cycles of library bookkeeping per tile call */
    double host_call_cycles;      /* CPU cycles of one tiled_* library call (setup) */
    double loop_fsm_cycles;       /* cycles for a loop FSM to emit one instruction */
    double dma_req_cycles;        /* DMA occupancy per TileLink request */
    double mvin_fixed_cycles;     /* fixed load-unit cost per mvin */
    double mvout_fixed_cycles;    /* fixed store-unit cost per mvout */
    double compute_fixed_cycles;  /* fixed execute cost per preload/compute pair */
    double fill_cycles;           /* extra systolic fill/drain latency beyond 2*DIM */
    double os_drain_cycles;       /* extra cycles for an OS flush of results */
    double bank_conflict_cycles;  /* extra cycles per conflicting row (same-bank A/B) */
    double fence_cycles;          /* CPU cycles of a fence after the machine drains */
    double min_compute_rows;      /* floor of one compute (acc write spacing) */
    double loops_on_cpu;          /* 1: LOOP_WS tiles are unrolled by the CPU (older C library) */
    double host_conv_tile_cycles; /* CPU cycles of tiled_conv bookkeeping per tile */
    double host_conv_call_cycles; /* CPU cycles of one tiled_conv call (setup) */
    double tlb_entries;           /* entries of each DMA TLB (0: no translation cost) */
    double tlb_miss_cycles;       /* DMA stall per TLB miss (page-table walk) */
    double l2_kib;                /* the SoC's shared L2 the DMA reads and writes through (0: none) */
    double l2_ways;               /* its associativity (64-byte lines, LRU) */
    double l2_miss_cycles;        /* extra latency of a DMA request whose line misses the L2 */
    double llc_latency;          /* DMA latency when the call's data fits the LLC */
    /* energy per access, pJ (dlac.ir.hwcost) */
    double e_mac;
    double e_reg;
    double e_acc;
    double e_spad;
    double e_dram;
    double llc_bytes;            /* last-level cache size shared with the CPU */
} dlac_sim_config;

enum dlac_sim_class {
    DLAC_CLS_CONFIG_EX, DLAC_CLS_CONFIG_LD, DLAC_CLS_CONFIG_ST, DLAC_CLS_CONFIG_OTHER,
    DLAC_CLS_MVIN, DLAC_CLS_MVOUT, DLAC_CLS_PRELOAD, DLAC_CLS_COMPUTE_PRELOADED,
    DLAC_CLS_COMPUTE_ACCUMULATED, DLAC_CLS_LOOP_WS, DLAC_CLS_LOOP_CONV_WS, DLAC_CLS_LOOP_CONFIG,
    DLAC_CLS_FLUSH, DLAC_CLS_FENCE, DLAC_CLS_OTHER, DLAC_CLS_COUNT
};

typedef struct dlac_sim_stats {
    double cycles;            /* time when every unit has drained */
    double host_cycles;       /* the CPU's clock (what read_cycles() returns) */
    double energy_pj;
    double busy_ld, busy_ex, busy_st;
    uint64_t instructions;    /* host-issued RoCC instructions */
    uint64_t macs;            /* useful MACs (rows x cols x depth actually fed) */
    uint64_t array_macs;      /* DIM*DIM per array row fed (what the array burns) */
    uint64_t reg_writes;
    uint64_t spad_reads, spad_writes;     /* elements */
    uint64_t acc_reads, acc_writes;       /* elements */
    uint64_t dram_reads, dram_writes;     /* elements moved (int8 or int32) */
    uint64_t counts[DLAC_CLS_COUNT];      /* per instruction class, incl. loop-expanded */
} dlac_sim_stats;

typedef struct dlac_sim dlac_sim;

uint32_t dlac_sim_config_size(void);
uint32_t dlac_sim_stats_size(void);
dlac_sim *dlac_sim_new(const dlac_sim_config *cfg);
void dlac_sim_free(dlac_sim *sim);
/* Returns 0, or -1 after a hardware assertion (see dlac_sim_error). */
int dlac_sim_issue(dlac_sim *sim, uint32_t funct, uint64_t rs1, uint64_t rs2);
/* One performance-counter instruction (Gemmini's k_COUNTER): reset / snapshot / configure
 * as `config` asks, then the value of the counter it names. */
uint32_t dlac_sim_counter(dlac_sim *sim, uint32_t config);
/* The RISC-V fence: the CPU waits until the accelerator has drained. */
int dlac_sim_fence(dlac_sim *sim);
/* CPU-side work of the C library (cycles), charged to the host clock. */
void dlac_sim_host_work(dlac_sim *sim, double cycles);
/* Bytes the current library call touches (sets the LLC miss fraction; 0 = unknown). */
void dlac_sim_set_working_set(dlac_sim *sim, double bytes);
/* Report a software-side failure (library check) as an assertion. */
int dlac_sim_fail(dlac_sim *sim, const char *reason);
const char *dlac_sim_error(const dlac_sim *sim);
int dlac_sim_failed(const dlac_sim *sim);
void dlac_sim_get_stats(const dlac_sim *sim, dlac_sim_stats *out);
const dlac_sim_config *dlac_sim_get_config(const dlac_sim *sim);
/* Local-memory access for tests/debugging: one row of DIM elements. */
int dlac_sim_read_spad_row(const dlac_sim *sim, uint32_t row, int8_t *out);
int dlac_sim_read_acc_row(const dlac_sim *sim, uint32_t row, int32_t *out);

/* The simulator that gemmini.h's macros talk to. */
void dlac_sim_set_current(dlac_sim *sim);
dlac_sim *dlac_sim_current(void);

#ifdef __cplusplus
}
#endif
#endif
