"""Many mappings of one layer as a struct of arrays, the form searchers and the model use.

Scoring a million mappings one Python object at a time would spend all the time in the
interpreter, so the space samples straight into these arrays and the analytical model reads
them; `Mapping` objects are built only for the few mappings a caller keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .layer import CANON, Layer
from .mapping import Mapping

_SLOT = {d: i for i, d in enumerate(CANON)}


def _from_canon(layer: Layer) -> dict[str, str]:
    return {layer.to_canon(d): d for d in layer.dim_names}


@dataclass(frozen=True)
class MappingBatch:
    """B mappings of one layer.

    tiles[s, b]: tile of canonical slot s (CANON order), in elements.
    rank[s, b]: DRAM loop position of slot s, 0 = outermost. Slots the layer lacks sit
    outermost; they have trip count 1, so their position is immaterial.
    One contiguous row per slot keeps every per-slot operation a flat vector operation.
    os[b]: output-stationary (else weight-stationary). double_buffer[b]: tile sized for
    two tiles in flight.
    """

    tiles: np.ndarray
    rank: np.ndarray
    os: np.ndarray
    double_buffer: np.ndarray

    def __len__(self) -> int:
        return int(self.tiles.shape[1])

    @classmethod
    def from_mappings(cls, layer: Layer, mappings: Sequence[Mapping]) -> MappingBatch:
        b = len(mappings)
        tiles = np.ones((len(CANON), b), dtype=np.int64)
        rank = np.zeros((len(CANON), b), dtype=np.int64)
        absent = [s for s, d in enumerate(CANON) if d not in _from_canon(layer)]
        for i, m in enumerate(mappings):
            for d, t in m.tile.items():
                tiles[_SLOT[layer.to_canon(d)], i] = t
            order = absent + [_SLOT[layer.to_canon(d)] for d in m.perm]
            rank[order, i] = np.arange(len(CANON))
        os = np.array([m.dataflow == "OS" for m in mappings], dtype=bool)
        db = np.array([m.double_buffer for m in mappings], dtype=bool)
        return cls(tiles, rank, os, db)

    def mapping(self, layer: Layer, i: int) -> Mapping:
        names = _from_canon(layer)
        order = np.argsort(self.rank[:, i], kind="stable")
        perm = "".join(names[CANON[s]] for s in order if CANON[s] in names)
        tiles = {d: int(self.tiles[_SLOT[layer.to_canon(d)], i]) for d in layer.dim_names}
        return Mapping.create(tiles, perm, "OS" if self.os[i] else "WS",
                              bool(self.double_buffer[i]))

    def mappings(self, layer: Layer) -> list[Mapping]:
        return [self.mapping(layer, i) for i in range(len(self))]

    def take(self, index: np.ndarray) -> MappingBatch:
        return MappingBatch(self.tiles[:, index], self.rank[:, index], self.os[index],
                            self.double_buffer[index])

    @classmethod
    def concat(cls, parts: Sequence[MappingBatch]) -> MappingBatch:
        return cls(np.concatenate([p.tiles for p in parts], axis=1),
                   np.concatenate([p.rank for p in parts], axis=1),
                   np.concatenate([p.os for p in parts]),
                   np.concatenate([p.double_buffer for p in parts]))
