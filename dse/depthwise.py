"""Depthwise convs costed as the backends run them: dense convs over channel groups.

lower-to-gemmini runs a depthwise conv as block-diagonal dense convs over groups of
gw = min(G tile, DIM) channels (dlac.passes.depthwise_groups), all in one library call.
The analytical evaluator costs a depthwise mapping as those group convs (the simulator
runs the call itself), so the search ranks what will run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
from dlac.ir.target import Target
from dlac.passes.depthwise_groups import groups
from dlac.passes.mapping import ConvLayer, MappingBatch
from dlac.passes.mapping.layer import CANON

_G, _K, _C = CANON.index("G"), CANON.index("K"), CANON.index("C")


@dataclass(frozen=True)
class GroupCall:
    """`count` identical dense calls of `layer` with `batch`, standing for the mappings
    `index` of the depthwise batch."""

    layer: ConvLayer
    batch: MappingBatch
    index: np.ndarray
    count: int


def group_layer(layer: ConvLayer, width: int) -> ConvLayer:
    """The dense conv one group of `width` channels runs."""
    return replace(layer, name=f"{layer.name}_g{width}", in_channels=width,
                   out_channels=width, groups=1)


def _dense(batch: MappingBatch, width: int) -> MappingBatch:
    """The depthwise mappings with the channel tile moved to K and C (one group each):
    K takes G's loop position; G and C have one trip, so where they sit does not matter."""
    tiles = batch.tiles.copy()
    tiles[_G] = 1
    tiles[_K] = tiles[_C] = width
    rank = batch.rank.copy()
    rank[[_G, _K]] = batch.rank[[_K, _G]]
    return MappingBatch(tiles, rank, batch.os, batch.double_buffer)


def group_calls(layer: ConvLayer, target: Target, batch: MappingBatch) -> Iterator[GroupCall]:
    """The dense calls of every mapping, grouped by call shape."""
    widths = np.minimum(batch.tiles[_G], target.dim)
    for width in np.unique(widths):
        index = np.flatnonzero(widths == width)
        sub = batch.take(index)
        for w, count in Counter(w for _, w in groups(layer.groups, int(width))).items():
            yield GroupCall(group_layer(layer, w), _dense(sub, w), index, count)
