"""Convs with a fused max pool, costed as the backends run them.

fuse-max-pool folds a max pool into the tiled_conv that produces it (the store pools the
accumulator rows). The search maps such a conv as the plain conv, but the emitted call
differs: its tiles count pooled outputs (the pooled outputs whose windows the mapping's
conv tile covers, grown to one window when smaller: `pooled_tiles`; Gemmini's pooled
heuristic when even that does not fit), each pooled tile computes stride x p + size - 1
conv rows (windows overlap), and it runs in the library's own DRAM loop order. Costing
the plain conv instead priced ResNet-50's stem 8x too cheap on a small scratchpad
(docs/codesign.md).

`emitted_tiles` is that call's tile arguments per mapping (what the simulator evaluator
runs); `analytical_pooled` costs it with the analytical model as the plain conv with
those per-tile sizes, scaled by the ratio of pooled tiles to modelled tiles.
"""

from __future__ import annotations

import numpy as np
from dlac.ir.target import Target
from dlac.passes.fuse_max_pool import pooled_tiles
from dlac.passes.mapping import AnalyticalModel, ConvLayer, Mapping, MappingBatch
from dlac.passes.mapping.heuristic import conv_tiles
from dlac.passes.mapping.layer import CANON

ARGS = ("batches", "porows", "pocols", "pochs", "krows", "kcols", "kchs")
_SLOTS = [CANON.index(d) for d in "NQPKSRC"]
"""The canonical slot of each tiled_conv argument (ARGS order)."""


def emitted_tiles(layer: ConvLayer, target: Target, mapping: Mapping) -> list[int]:
    """The fused call's tile arguments for a plain conv mapping of `layer`."""
    args = mapping.gemmini_args(layer, target)
    fused = pooled_tiles([int(args[k]) for k in ARGS], layer.pool, layer.pooled_rows,
                         layer.pooled_cols, layer.stride, layer.dilation, target)
    return fused if fused is not None else list(conv_tiles(layer, target, pooled=True))


def analytical_pooled(layer: ConvLayer, target: Target, batch: MappingBatch
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(cycles, energy_pj) of every mapping of `batch` run as the fused call."""
    plain = layer.plain()
    size, stride, _ = layer.pool
    fused = np.array([emitted_tiles(layer, target, m) for m in batch.mappings(plain)],
                     dtype=np.int64).T
    tiles = batch.tiles.copy()
    for arg, slot in enumerate(_SLOTS):
        tiles[slot] = fused[arg]
    # conv rows (cols) one pooled tile computes, and how many pooled tiles there are
    tiles[_SLOTS[1]] = np.minimum(fused[1] * stride + size - 1, plain.out_rows)
    tiles[_SLOTS[2]] = np.minimum(fused[2] * stride + size - 1, plain.out_cols)
    trips = (np.ceil(layer.pooled_rows / fused[1]) * np.ceil(layer.pooled_cols / fused[2])
             / (np.ceil(plain.out_rows / tiles[_SLOTS[1]])
                * np.ceil(plain.out_cols / tiles[_SLOTS[2]])))
    rank = np.repeat(_default_rank(plain)[:, None], len(batch), axis=1)
    model = AnalyticalModel(plain, target)
    cost = model.evaluate(MappingBatch(tiles, rank, batch.os, batch.double_buffer))
    cycles = model.call_cycles + (cost.cycles - model.call_cycles) * trips
    return cycles, cost.energy_pj * trips


def _default_rank(layer: ConvLayer) -> np.ndarray:
    """The DRAM loop position of every canonical slot under tiled_conv's own order."""
    order = [s for s, d in enumerate(CANON) if d not in layer.dim_names] + [
        CANON.index(d) for d in layer.default_perm]
    rank = np.zeros(len(CANON), dtype=np.int64)
    rank[order] = np.arange(len(CANON))
    return rank
