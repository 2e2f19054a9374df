"""The flat depthwise lowering: its tiles, which of them fit, and what they cost.

`dlac_conv_dw_flat` (backends/runtime/dlac_gemmini_ext.h) lays each group's padded input rows
back to back in the scratchpad, `pitch` positions apart and split into `stride` row
phases, so one compute covers DIM consecutive outputs across output rows. loop_conv_ws
covers at most one output row per compute, and on a block-diagonal group every compute
costs DIM cycles, so a 7x7 map on a 32x32 array keeps the array 7/32 busy; flat keeps it
~7/8 busy. The price: the CPU issues every instruction, and the layout wastes
pitch - out_cols outputs per row.

A flat tile is `porows` output rows by `pgroups` groups of w = min(DIM, channels) channels.
The geometry below mirrors the C library's exactly (a test keeps them in step), and
`FlatDepthwiseModel` counts what the library issues: per tile and group, taps x
ceil(outs / DIM) computes of DIM cycles, the input rows as block mvins across groups,
each tap's w x w diagonal weight block once per group block, one stride-0 bias mvin per
DIM outputs, one mvout per output row chunk. Tiles are double buffered and the next tile's
loads are interleaved with this tile's computes, so a tile costs the busiest of its
compute, load, store and CPU issue time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.hwcost import access_energies
from dlac.ir.target import Target

from .analytical import MemoryPath, ModelParams
from .layer import ConvLayer
from .mapping import Mapping

LOWERING = "flat"
"""The pass pipeline's name for this lowering (a mapping's `lowering` attribute)."""


def flat_ok(layer: ConvLayer) -> bool:
    """Depthwise, undilated, square kernel: what dlac_conv_dw_flat runs."""
    return (layer.depthwise and layer.dilation == 1
            and layer.kernel_rows == layer.kernel_cols)


def pitch(layer: ConvLayer) -> int:
    """Scratchpad positions per padded input row (dlac_dw_flat_pitch)."""
    st, pad, k = layer.stride, layer.padding, layer.kernel_rows
    need = max(pad + layer.in_cols, st * (layer.out_cols - 1) + k - pad, st * layer.out_cols)
    return -(-need // st) * st


def tile_rows(layer: ConvLayer, porows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(padded input rows per phase, flat outputs) of one group of a tile of `porows`
    output rows (dlac_dw_flat_rows)."""
    L, st, k = pitch(layer), layer.stride, layer.kernel_rows  # noqa: N806
    outs = (np.asarray(porows) - 1) * (L // st) + layer.out_cols
    reach = st * (outs - 1) + ((k - 1) // st) * L + k
    return -(-reach // L), outs


@dataclass(frozen=True)
class FlatFootprint:
    """Rows one group of a full tile occupies, and the rows the call reserves."""

    plane: np.ndarray
    outs: np.ndarray
    weight_slot: np.ndarray


def footprint(layer: ConvLayer, dim: int, porows: np.ndarray,
              pgroups: np.ndarray) -> FlatFootprint:
    rows, outs = tile_rows(layer, porows)
    plane = layer.stride * (rows * pitch(layer) + layer.padding)
    return FlatFootprint(plane, outs, np.asarray(pgroups) * layer.kernel_rows ** 2 * dim)


def fits(layer: ConvLayer, target: Target, porows: np.ndarray,
         pgroups: np.ndarray) -> np.ndarray:
    """Whether dlac_conv_dw_flat accepts the tiles (two of each in flight)."""
    f = footprint(layer, target.dim, porows, pgroups)
    sp = target.sp_rows
    ok = (2 * f.weight_slot < sp) & (pgroups * f.plane <= (sp - 2 * f.weight_slot) // 2)
    return ok & (pgroups * f.outs <= target.acc_rows // 2) & (f.plane <= 0xFFFF) & (
        f.outs <= 0xFFFF)


def groups_of(layer: ConvLayer, dim: int) -> tuple[int, int]:
    """(group width, number of groups)."""
    width = min(dim, layer.groups)
    return width, -(-layer.groups // width)


def to_mapping(layer: ConvLayer, dim: int, porows: int, pgroups: int) -> Mapping:
    """The flat tiles as a depthwise Mapping: Q = output rows, G = channels per tile."""
    width, _ = groups_of(layer, dim)
    c = layer.canonical()
    return Mapping.create({"N": 1, "G": min(pgroups * width, layer.groups), "P": c["P"],
                           "Q": porows, "R": c["R"], "S": c["S"]}, layer.default_perm)


def from_mapping(layer: ConvLayer, dim: int, mapping: Mapping) -> tuple[int, int]:
    """(porows, pgroups) of a flat mapping (inverse of `to_mapping`)."""
    width, _ = groups_of(layer, dim)
    t = mapping.tile
    return int(t["Q"]), -(-int(t["G"]) // width)


def candidates(layer: ConvLayer, target: Target) -> np.ndarray:
    """Every (porows, pgroups) tile pair that fits, shape (n, 2)."""
    _, ngroups = groups_of(layer, target.dim)
    r, g = np.meshgrid(np.arange(1, layer.out_rows + 1), np.arange(1, ngroups + 1),
                       indexing="ij")
    r, g = r.ravel(), g.ravel()
    ok = fits(layer, target, r, g)
    return np.stack([r[ok], g[ok]], axis=1)


class FlatDepthwiseModel:
    """Cycles and energy of dlac_conv_dw_flat for batches of (porows, pgroups)."""

    def __init__(self, layer: ConvLayer, target: Target,
                 params: ModelParams | None = None) -> None:
        if not flat_ok(layer):
            raise ValueError(f"layer {layer.name!r} cannot run flat")
        self.layer = layer
        self.target = target
        self.params = params or ModelParams()
        self.energy = access_energies(target)
        ws = layer.batch * (layer.in_rows * layer.in_cols + layer.out_rows * layer.out_cols) \
            * layer.groups + layer.kernel_rows ** 2 * min(target.dim, layer.groups) \
            * layer.groups + 4.0 * layer.groups * layer.has_bias
        self.memory = MemoryPath.of(ws, target, self.params)

    def _pages(self, span_bytes: np.ndarray) -> np.ndarray:
        """TLB stall of walking `span_bytes` of DRAM once (every page misses)."""
        return (span_bytes / 4096.0 + 1.0) * self.params.tlb_miss_cycles

    def evaluate(self, porows: np.ndarray, pgroups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cycles, energy_pj) per tile pair; NaN cycles where the tiles do not fit."""
        lay, tg, p = self.layer, self.target, self.params
        dma = self.memory.transfer
        dim, mbl, mbl_acc, req = tg.dim, tg.max_block_len, tg.max_block_len_acc, tg.dma_max_bytes
        porows = np.asarray(porows, dtype=np.int64)
        pgroups = np.asarray(pgroups, dtype=np.int64)
        width, ngroups = groups_of(lay, dim)
        taps, st, L = lay.kernel_rows ** 2, lay.stride, pitch(lay)  # noqa: N806
        in_mv, zero_mv = -(-lay.in_cols // dim), -(-(L - lay.in_cols) // dim)
        n_blocks = -(-ngroups // pgroups)
        # (group blocks of this size, their channels): full blocks, then the rest
        blocks = ((n_blocks - 1, pgroups * width),
                  (np.ones_like(pgroups), lay.groups - (n_blocks - 1) * pgroups * width))
        row_tiles = -(-lay.out_rows // porows)
        cycles = np.zeros(len(porows))
        per_tile: tuple[list, list] = ([], [])
        macs = reg = spad = acc = dram = np.zeros(len(porows))
        for rt in range(int(row_tiles.max())):
            live = rt < row_tiles
            n_rows = np.clip(lay.out_rows - rt * porows, 1, porows)
            rows, outs = tile_rows(lay, n_rows)
            chunks = -(-outs // dim)
            first = rt * porows * st - lay.padding
            real = np.clip(np.minimum(first + st * rows, lay.in_rows) - np.maximum(first, 0),
                           0, None)
            zeros = st * rows - real
            for bi, (count, chans) in enumerate(blocks):
                tiles = count * lay.batch * live
                groups = -(-chans // width)
                cols, acc_cols = np.minimum(chans, mbl * dim), np.minimum(chans, mbl_acc * dim)
                mv_blocks, acc_blocks = -(-groups // mbl), -(-groups // mbl_acc)
                pixels = real * lay.in_cols
                ld = mv_blocks * (dma(pixels * cols, pixels * -(-cols // req), real * in_mv,
                                      p.mvin_fixed_cycles)
                                  + (real * zero_mv + zeros * -(-L // dim)) * p.mvin_fixed_cycles
                                  + real * (L - lay.in_cols) + zeros * L)
                # the DMA's few-entry TLB misses on every page a tile's rows span
                ld = ld + mv_blocks * self._pages(real * lay.in_cols * lay.groups)
                if rt == 0:
                    # this block's diagonal weight blocks, loaded alongside the tile before
                    ld = ld + dma(taps * width * chans, taps * chans, taps * groups,
                                  p.mvin_fixed_cycles) + self._pages(taps * width * chans)
                bias_mv = lay.has_bias * chunks * acc_blocks
                ld = ld + dma(bias_mv * 4 * acc_cols, bias_mv * -(-4 * acc_cols // req),
                              bias_mv, p.mvin_fixed_cycles)
                ex = groups * taps * chunks * (dim + p.compute_fixed_cycles)
                mvouts = groups * n_rows * -(-lay.out_cols // dim)
                out_bytes = n_rows * lay.out_cols * chans
                store = dma(out_bytes, n_rows * lay.out_cols * groups, mvouts,
                            p.mvout_fixed_cycles) + groups * self._pages(
                                n_rows * lay.out_cols * lay.groups)
                instrs = (mv_blocks * (real * (in_mv + zero_mv) + zeros * -(-L // dim))
                          + bias_mv + 2 * groups * taps * chunks + mvouts
                          + (rt == 0) * taps * groups)
                host = instrs * p.host_issue_cycles + p.host_tile_cycles
                per_tile[bi].append((tiles, ex, ld, np.maximum(store, host)))
                weight_fill = taps * width * chans
                macs = macs + tiles * taps * outs * chans * dim
                reg = reg + tiles * weight_fill
                spad = spad + tiles * (taps * outs * chans + weight_fill + st * rows * L * chans)
                acc = acc + tiles * (outs * chans * (2 * taps + lay.has_bias) + out_bytes)
                dram = dram + tiles * (pixels * chans + bias_mv * acc_cols + out_bytes)
        # a tile's computes overlap the next tile's loads (the next row tile, or the
        # next group block's first, which brings that block's weights)
        for block in per_tile:
            first_ld = block[0][2]
            for rt, (tiles, ex, _, other) in enumerate(block):
                nxt = block[rt + 1][2] if rt + 1 < len(block) else first_ld
                nxt = np.where(rt + 1 < row_tiles, nxt, first_ld)
                cycles = cycles + tiles * np.maximum(np.maximum(ex, nxt), other)
        prologue = per_tile[0][0][2]
        w_bytes = taps * width * width * ngroups
        fill = 2.0 * dim + tg.spad_read_delay + tg.acc_latency + p.fill_cycles
        cycles = (p.host_call_cycles + cycles + prologue + self.memory.latency + fill
                  + p.fence_cycles)
        e = self.energy
        energy = (macs * e.mac + (macs + reg) * e.register + acc * e.accumulator
                  + (spad + w_bytes) * e.scratchpad + (dram + w_bytes) * e.dram)
        ok = fits(lay, tg, porows, pgroups)
        return np.where(ok, cycles, np.nan), energy
