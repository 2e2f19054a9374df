"""The analytical cost of a residual add (tiled_resadd_auto), without the simulator.

The library's call (sim/include/gemmini_lib_conv.h) tiles I x J in DIM blocks so a tile
fits half the accumulator (tiled_resadd_stride_auto's rule), and per tile runs one loop_ws
in resadd mode: per DIM-row block and MAX_BLOCK_LEN-block column chunk, an mvin of A and
an accumulating mvin of B into the accumulator, then a scaled mvout of C. There is no
compute, so its time is the DMA traffic (the analytical model's MemoryPath: bus bytes,
64-byte requests, per-instruction costs, in-flight window) overlapped with the CPU's
per-tile work, plus the call, the pipeline's fill and the fence; its energy is the
accumulator and DRAM accesses the simulator counts (2 IJ accumulator writes, IJ reads,
2 IJ DRAM reads, IJ writes), with the layers' ModelParams and per-access energies.
"""

from __future__ import annotations

import math

import numpy as np
from dlac.ir.hwcost import access_energies
from dlac.ir.target import Target
from dlac.passes.mapping.analytical import MemoryPath, ModelParams

LOOP_INSTRS = 7.0
"""Instructions the CPU issues per loop_ws (its six configs and the loop)."""
CONFIG_INSTRS = 4.0
"""Per call: the store, execute and two load configs."""


def resadd_tiles(i: int, j: int, target: Target) -> tuple[int, int]:
    """tiled_resadd_stride_auto's (tile_I, tile_J) in DIM blocks."""
    dim = target.dim
    ti, tj = -(-i // dim), -(-j // dim)
    while ti * tj * dim > target.acc_rows // 2:
        if ti >= tj or tj <= 1:
            ti = -(-ti // 2)
        else:
            tj -= 1
    return ti, tj


def resadd_cost(i: int, j: int, target: Target,
                params: ModelParams | None = None) -> tuple[float, float]:
    """(cycles, energy_pj) of one tiled_resadd_auto of two I x J int8 matrices."""
    p = params or ModelParams()
    dim, mbl = target.dim, target.max_block_len
    ti, tj = resadd_tiles(i, j, target)
    jb = -(-j // dim)
    row_tiles = math.ceil(-(-i // dim) / ti)
    # column chunks of one DIM-row block, as the loop issues them across the J tiles
    chunk_cols = [min(nb * dim, j - (j0 + c) * dim)
                  for j0 in range(0, jb, tj)
                  for c in range(0, min(tj, jb - j0), mbl)
                  for nb in [min(mbl, min(tj, jb - j0) - c)]]
    row_blocks = -(-i // dim)
    moves = float(row_blocks * len(chunk_cols))
    reqs = float(i * sum(-(-cols // target.dma_max_bytes) for cols in chunk_cols))
    nbytes = float(i * j)
    memory = MemoryPath.of(3.0 * nbytes, target, p)

    def dma(count: float, fixed: float) -> float:
        return float(memory.transfer(np.array(count * nbytes), np.array(count * reqs),
                                     np.array(count * moves), fixed))

    loads = dma(2.0, p.mvin_fixed_cycles)
    stores = dma(1.0, p.mvout_fixed_cycles)
    n_tiles = row_tiles * math.ceil(jb / tj)
    host = n_tiles * (p.host_tile_cycles + LOOP_INSTRS * p.host_issue_cycles)
    # the first block's loads and the last block's store do not overlap anything
    ramp = (loads + stores) / max(moves, 1.0) + 2.0 * memory.latency + (
        target.spad_read_delay + target.acc_latency)
    cycles = (p.host_call_cycles + CONFIG_INSTRS * p.host_issue_cycles
              + max(host, loads, stores) + ramp + p.fence_cycles)
    e = access_energies(target)
    energy = 3.0 * nbytes * (e.accumulator + e.dram)
    return cycles, energy
