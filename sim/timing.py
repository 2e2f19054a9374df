"""Every timing constant of the simulator, in one place.

The machine shape (array, memories, DMA, queue depths, DRAM latency/bandwidth) comes from
`Target`; the knobs below describe what the Target does not: the CPU's cost of issuing
work and fixed per-instruction overheads. Defaults are the fit of the cross-validated
procedure (`dlac.sim.fit.fit` from `dlac.sim.cv.PRIOR_KNOBS`, 2 rows per layer, one round,
MAPE) on every row of the FireSim calibration data; the CV in docs/calibration.md measures
that procedure's error on layers it did not see.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class TimingParams:
    """Sim-only timing knobs (cycles). Never emitted into gemmini_params.h."""

    host_issue_cycles: float = 4.0
    """CPU cycles to form and issue one RoCC instruction."""
    host_tile_cycles: float = 106.75
    """CPU cycles of tiled_matmul (and resadd) bookkeeping per tile, beyond issuing."""
    host_call_cycles: float = 1902.0
    """CPU cycles of one tiled_matmul/resadd library call (argument setup, configs)."""
    host_conv_tile_cycles: float = 213.5
    """CPU cycles of tiled_conv bookkeeping per tile: its 7-deep tile loop computes
    padding and four operand addresses per tile, far more than tiled_matmul's 3-deep loop."""
    host_conv_call_cycles: float = 7608.0
    """CPU cycles of one tiled_conv call (argument setup, output-size arithmetic). The fit
    also parks unmodelled per-call conv time here (docs/calibration.md, residuals)."""
    loop_fsm_cycles: float = 1.0
    """Cycles for a loop FSM sub-unit to emit one primitive instruction."""
    dma_req_cycles: float = 1.0
    """DMA occupancy per TileLink request (at most dma_max_bytes each)."""
    mvin_fixed_cycles: float = 0.3
    mvout_fixed_cycles: float = 2.0
    compute_fixed_cycles: float = 0.0
    fill_cycles: float = 3.0
    """Extra systolic fill/drain latency on top of 2*DIM + spad_read_delay + acc_latency."""
    os_drain_cycles: float = 4.0
    bank_conflict_cycles: float = 1.0
    """Extra cycles per row when A and B come from the same scratchpad bank."""
    fence_cycles: float = 20.0
    llc_kib: float = 4096.0
    """Last-level cache the DMA reads through (FireSim: 4 MB)."""
    llc_latency: float = 17.7
    """DMA latency for data that stays in the LLC; misses see Target.dram_latency."""
    min_compute_rows: float = 4.0
    """A compute never takes fewer cycles (two accumulator writes must be 4 apart)."""
    loops_on_cpu: float = 0.0
    """1 = the CPU issues every instruction of a matmul tile (the software-unrolled WS
    matmul of older Gemmini C libraries) instead of LoopMatmul."""
    tlb_entries: float = 4.0
    """Entries of each DMA TLB (Gemmini: a private 4-entry TLB per DMA direction)."""
    tlb_miss_cycles: float = 1.0
    """DMA stall per TLB miss: the page-table walk (through the shared PTW and the LLC)."""
    l2_kib: float = 512.0
    """The SoC's inclusive L2 that Gemmini's DMA reads and writes through (chipyard's default
    InclusiveCache: 512 KiB, 8 ways, 64-byte lines, random replacement); 0 = no L2 model."""
    l2_ways: float = 8.0
    l2_miss_cycles: float = 200.0
    """Extra latency of a DMA request whose 64-byte line misses the L2 (served by the
    memory model's LLC or DRAM behind it)."""

    def replace(self, **changes: float) -> TimingParams:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


DEFAULT_TIMING = TimingParams()
