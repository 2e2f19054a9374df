"""daBO's domain features (dissertation Table 4.2, adapted to Gemmini).

A feature is a transformation of the raw parameters that makes a performance trend
(roughly) linear, so a GP with a linear kernel learns it from few samples. Each feature
below says what it measures and which Table 4.2 row it stands for. Features that span
orders of magnitude are log2-scaled, since the searchers model log EDP.

Gemmini's array is fixed by the hardware (WS/OS both put the reduction dim C on the DIM
rows and the output channels K on the DIM columns; a depthwise conv uses one row and its
channels G on the columns), so "the unrolled dims" of Table 4.2 are those two tiles.

`permutation_importance` is the check the dissertation uses (section 4.1.3.2) to keep
only features that matter: shuffle one feature column and measure how much worse the
surrogate's predictions get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from dlac.ir import hwcost
from dlac.ir.target import Target
from dlac.passes.mapping import capacity
from dlac.passes.mapping.analytical import ModelParams, cycles_per_byte, llc_miss
from dlac.passes.mapping.batch import MappingBatch
from dlac.passes.mapping.layer import CANON, ConvLayer, Layer


@dataclass(frozen=True)
class Feature:
    name: str
    measures: str
    counterpart: str


HW_FEATURES: tuple[Feature, ...] = (
    Feature("pe_count_log2", "log2 of the PEs in the array, DIM^2", "Raw cardinal: total # of PEs"),
    Feature("has_ws", "1 if the array runs weight-stationary (convs need it)",
            "Unroll dimension (categorical, as a flag)"),
    Feature("has_os", "1 if the array runs output-stationary", "Unroll dimension (flag)"),
)
"""Raw buffer sizes (scratchpad, accumulator and total SRAM, also in DIM x DIM blocks) and
DIM itself were features too, and were dropped: under an area budget they are confounded
with the array size (large arrays leave little area for buffers), so a linear surrogate fitted
on the random warm-up learnt "small buffers are good" and sent its first batch to a large
array with an 8 KiB scratchpad. The workload features below carry the buffer sizes through
what they do to traffic and tile counts instead (docs/codesign.md has the measurement).
There is no bus-width or DRAM-floor feature: the search keeps only the widest bus of each
design (`HwGrid.widest_bus`), so within a search both would be constant."""

WORKLOAD_FEATURES: tuple[Feature, ...] = (
    Feature("compute_floor_log2", "log2 of sum(count x MACs / useful PEs): compute cycles "
            "if every PE that holds a weight works every cycle; partial DIM blocks of the "
            "layers' channel dims leave PEs idle", "PE utilization and loop iterations, "
            "lifted to the whole model"),
    Feature("energy_floor_log2", "log2 of MAC + register + buffer + DRAM energy at one access "
            "per element per level, with the target's per-access energies", "Total amount of "
            "on-chip SRAM (its energy per access)"),
    Feature("reuse_traffic_log2", "log2 of DRAM bytes when output tiles are as large as half "
            "the accumulator holds (square, t x t): inputs are refetched per t output "
            "channels and weights per t output pixels; falls as the accumulator grows and "
            "saturates once a layer fits", "Approximate transfers from DRAM, capacity-aware"),
    Feature("tile_calls_log2", "log2 of the tile calls when an output tile is t x t "
            "(t limited by half the accumulator, and by half the scratchpad holding a DIM-deep "
            "slice of its inputs and weights) and the reduction is split into chunks that fit "
            "beside it: per-call CPU and latency overheads grow with it, steeply when a large "
            "array gets a small scratchpad", "Number of loop iterations to completion"),
    Feature("roofline_delay_log2", "log2 of sum over layers of max(compute floor, reuse "
            "traffic / bandwidth) plus CALL_OVERHEAD_CYCLES per tile call: the per-layer "
            "roofline, so buffers only count where a layer is memory-bound or cut into many "
            "small tiles", "Loop iterations to completion vs transfers, combined"),
)

SW_FEATURES: tuple[Feature, ...] = (
    Feature("kernel_parallelism", "R tile x S tile: kernel taps one tile call covers",
            "Parallelism available in kernel, R0 x S0"),
    Feature("spatial_unroll", "array rows used x array columns used by one weight block",
            "Degree of spatial unrolling"),
    Feature("pe_utilization", "mean fraction of PEs holding a useful weight over the "
            "tile's weight blocks (edge blocks are partly empty)", "PE utilization"),
    Feature("loop_iterations_log2", "log2(tile calls x weight blocks per tile): loop "
            "iterations to finish the layer", "Number of loop iterations to completion"),
    Feature("dram_transfers_log2", "log2(output pixel tiles x (DIM + DIM)): array-perimeter "
            "loads per spatial tile", "Approximate transfers from DRAM"),
    Feature("dram_bytes_log2", "log2 of DRAM bytes if weights are refetched per output "
            "pixel tile and inputs per output-channel tile", "Approximate transfers from DRAM "
            "(Gemmini form)"),
    Feature("unrolled_dims_mix", "2 P_t + 3 Q_t + 5 K_array + 7 K_blocks + 11 K_trips: prime "
            "weights spread the few distinct tile values apart", "Size of commonly unrolled "
            "dimensions"),
    Feature("sp_fill", "scratchpad rows of one tile / rows available", "Buffer utilization "
            "(section 4.1.3.2's initial set)"),
    Feature("acc_fill", "accumulator rows of one tile / rows available", "Buffer utilization"),
    Feature("weights_reused", "1 if the innermost moving DRAM loop leaves the weight tile "
            "unchanged (N, P or Q), so consecutive calls skip the weight load",
            "Loop order (categorical, as a reuse flag)"),
    Feature("output_stationary", "1 for the OS dataflow", "Unroll dimension (flag)"),
    Feature("double_buffered", "1 if two tiles are in flight", "(Gemmini knob)"),
)

_I = {d: i for i, d in enumerate(CANON)}
_WEIGHT_DIMS = np.array([d in "GKCRS" for d in CANON])


def _input_bytes(layer: Layer) -> float:
    if isinstance(layer, ConvLayer):
        return float(layer.batch * layer.in_rows * layer.in_cols * layer.in_channels)
    return float(layer.i * layer.k)


def layer_traffic(layer: Layer) -> float:
    """Bytes of the layer's input, weights and output, each moved once (int8)."""
    if isinstance(layer, ConvLayer):
        c = layer.canonical()
        return (_input_bytes(layer) + c["R"] * c["S"] * c["C"] * c["K"] * c["G"]
                + layer.batch * layer.out_rows * layer.out_cols * layer.out_channels)
    return float(layer.i * layer.k + layer.k * layer.j + layer.i * layer.j)


CALL_OVERHEAD_CYCLES = 450.0
"""Rough cost of one tile call beyond its compute and transfers: the CPU's per-tile
library work (~200 cycles) plus one DRAM latency (~240) not hidden behind the previous
tile, the order of the simulator's fitted constants (sim/timing.py)."""


@dataclass(frozen=True)
class WorkloadProfile:
    """What WORKLOAD_FEATURES need of the models: per unique layer, its count-weighted
    MACs, traffic and input/weight bytes, its output pixels, and the sizes of the dims on
    the array rows and columns."""

    macs: np.ndarray
    traffic: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    inputs: np.ndarray
    weights: np.ndarray
    pixels: np.ndarray
    reduction: np.ndarray
    counts: np.ndarray
    llc_miss: np.ndarray

    @classmethod
    def from_layers(cls, layers: list[tuple[Layer, int]]) -> WorkloadProfile:
        out: dict[str, list[float]] = {f: [] for f in cls.__dataclass_fields__}
        for layer, count in layers:
            c = layer.canonical()
            row_slot, col_slot = _array_slots(layer)
            out["macs"].append(count * float(layer.macs))
            out["traffic"].append(count * layer_traffic(layer))
            out["rows"].append(float(c[row_slot]) if row_slot else 1.0)
            out["cols"].append(float(c[col_slot]))
            out["inputs"].append(count * _input_bytes(layer))
            out["weights"].append(count * float(c["R"] * c["S"] * c["C"] * c["K"] * c["G"]))
            out["pixels"].append(float(c["N"] * c["P"] * c["Q"]))
            out["reduction"].append(float(c["C"] * c["R"] * c["S"]))
            out["counts"].append(float(count))
            # a layer whose tensors fit the LLC streams at the bus rate, as the analytical
            # model and the simulator time it; only the rest is capped by DRAM bandwidth
            out["llc_miss"].append(llc_miss(layer_traffic(layer), ModelParams().llc_kib))
        return cls(**{k: np.array(v) for k, v in out.items()})

    def features(self, dim: np.ndarray, sp_kib: np.ndarray, acc_kib: np.ndarray,
                 bus_bits: np.ndarray, dram_bytes_per_cycle: float) -> np.ndarray:
        """WORKLOAD_FEATURES for n designs (1-D arrays of length n): (n, 5)."""
        d = np.asarray(dim, dtype=np.float64)[:, None]
        rows, cols = self.rows[None, :], self.cols[None, :]
        useful = rows / np.ceil(rows / d) * cols / np.ceil(cols / d)
        compute = (self.macs[None, :] / useful).sum(axis=1)
        bus = np.asarray(bus_bits, dtype=np.float64)[:, None] / 8.0
        per_byte = cycles_per_byte(self.llc_miss[None, :], bus, dram_bytes_per_cycle)
        # the simulator's per-access energy formulas, evaluated on arrays
        arrays = SimpleNamespace(sp_kib=np.asarray(sp_kib, dtype=np.float64),
                                 acc_kib=np.asarray(acc_kib, dtype=np.float64), dim=d[:, 0])
        buffers = hwcost.scratchpad_pj(arrays) + hwcost.accumulator_pj(arrays)  # type: ignore[arg-type]
        macs = self.macs.sum()
        energy = (macs * (hwcost.MAC_PJ + hwcost.REGISTER_PJ) + macs / d[:, 0] * buffers
                  + self.traffic.sum() * hwcost.DRAM_PJ)
        # output tile side t: half the accumulator (double buffering) as t x t int32
        t = np.sqrt(np.asarray(acc_kib, dtype=np.float64) * 1024 / 8)[:, None]
        reuse = (self.traffic[None, :] + self.inputs[None, :] * (np.ceil(self.cols / t) - 1)
                 + self.weights[None, :] * (np.ceil(self.pixels / t) - 1))
        sp_half = np.asarray(sp_kib, dtype=np.float64)[:, None] * 1024 / 2
        side = np.maximum(np.minimum(t, sp_half / (2 * d)), 1.0)
        chunk = np.maximum(np.minimum(self.reduction[None, :], sp_half / (2 * side)), 1.0)
        layer_calls = (np.ceil(self.pixels / side) * np.ceil(self.cols / side)
                       * np.ceil(self.reduction / chunk) * self.counts)
        calls = layer_calls.sum(axis=1)
        per_layer = self.macs[None, :] / useful
        delay = (np.maximum(per_layer, reuse * per_byte)
                 + CALL_OVERHEAD_CYCLES * layer_calls).sum(axis=1)
        return np.stack([np.log2(compute), np.log2(energy),
                         np.log2(reuse.sum(axis=1)), np.log2(calls), np.log2(delay)], axis=1)


def hw_features(dim: np.ndarray, dataflow: np.ndarray) -> np.ndarray:
    """HW_FEATURES of n designs (1-D arrays of length n): (n, 3)."""
    dataflow = np.asarray(dataflow)
    return np.stack([2 * np.log2(np.asarray(dim, dtype=np.float64)),
                     (dataflow != "OS").astype(np.float64),
                     (dataflow != "WS").astype(np.float64)], axis=1)


def _array_slots(layer: Layer) -> tuple[str | None, str]:
    """(slot on the array rows or None for one row, slot on the columns)."""
    if isinstance(layer, ConvLayer) and layer.depthwise:
        return None, "G"
    return "C", "K"


def sw_features(layer: Layer, target: Target, batch: MappingBatch) -> np.ndarray:
    """SW_FEATURES of every mapping of `batch`, one row per mapping."""
    dim = float(target.dim)
    sizes = np.array([layer.canonical()[d] for d in CANON], dtype=np.float64)[:, None]
    tiles = batch.tiles.astype(np.float64)
    trips = np.ceil(sizes / tiles)
    row_slot, col_slot = _array_slots(layer)
    cols = tiles[_I[col_slot]]
    rows = tiles[_I[row_slot]] if row_slot else np.ones(len(batch))
    rows_on, cols_on = np.minimum(rows, dim), np.minimum(cols, dim)
    row_blocks, col_blocks = np.ceil(rows / dim), np.ceil(cols / dim)
    util = (rows / (row_blocks * dim)) * (cols / (col_blocks * dim))
    n_tiles = np.prod(trips, axis=0)
    iterations = n_tiles * row_blocks * col_blocks
    pix_tiles = trips[_I["P"]] * trips[_I["Q"]] * trips[_I["N"]]
    transfers = pix_tiles * 2.0 * dim
    w_bytes = np.prod(np.where(_WEIGHT_DIMS[:, None], sizes, 1.0))
    dram_bytes = w_bytes * pix_tiles + _input_bytes(layer) * trips[_I["K"]] * trips[_I["G"]]
    k_t = tiles[_I[col_slot]]
    mix = (2 * tiles[_I["P"]] + 3 * tiles[_I["Q"]] + 5 * np.minimum(k_t, dim)
           + 7 * np.ceil(k_t / dim) + 11 * trips[_I[col_slot]])
    canon = {d: batch.tiles[_I[d]] for d in CANON}
    sp, acc = capacity.tile_rows(layer, canon, target.dim)
    sp_lim = np.where(batch.double_buffer, target.sp_rows // 2, target.sp_rows)
    acc_lim = np.where(batch.double_buffer, target.acc_rows // 2, target.acc_rows)
    rank = np.where(trips > 1, batch.rank, -1)
    inner = np.argmax(rank, axis=0)
    moving = rank.max(axis=0) >= 0
    reused = moving & ~_WEIGHT_DIMS[inner]
    return np.stack([
        tiles[_I["R"]] * tiles[_I["S"]], rows_on * cols_on, util, np.log2(iterations),
        np.log2(transfers), np.log2(np.maximum(dram_bytes, 1.0)), mix,
        np.asarray(sp, dtype=np.float64) / sp_lim, np.asarray(acc, dtype=np.float64) / acc_lim,
        reused.astype(np.float64), batch.os.astype(np.float64),
        batch.double_buffer.astype(np.float64)], axis=1)


def permutation_importance(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                           y: np.ndarray, rng: np.random.Generator,
                           repeats: int = 5) -> np.ndarray:
    """Mean increase of the prediction's mean squared error when one column of `x` is
    shuffled (Breiman's permutation importance), per column; 0 means unused."""
    base = float(np.mean((predict(x) - y) ** 2))
    out = np.zeros(x.shape[1])
    for j in range(x.shape[1]):
        worse = []
        for _ in range(repeats):
            xp = x.copy()
            xp[:, j] = xp[rng.permutation(len(xp)), j]
            worse.append(float(np.mean((predict(xp) - y) ** 2)) - base)
        out[j] = float(np.mean(worse))
    return out
