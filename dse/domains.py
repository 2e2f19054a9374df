"""Adapters that present the hardware grid and one layer's mapping space as `Domain`s.

HW points are rows of `HwGrid.encode` (normalised raw parameters, unique per design);
SW points are rows of MappingSpace's [0, 1)^17 encoding, keyed by the mapping they decode
to (many vectors decode to one mapping).
"""

from __future__ import annotations

import numpy as np
from dlac.ir.target import Target
from dlac.passes.mapping import MappingBatch, MappingSpace
from dlac.passes.mapping.space import VECTOR_LEN

from .hwspace import HwGrid
from .models.features import (
    HW_FEATURES,
    WORKLOAD_FEATURES,
    WorkloadProfile,
    hw_features,
    sw_features,
)


class HwDomain:
    """The feasible points of a hardware grid."""

    def __init__(self, grid: HwGrid, feasible: np.ndarray, profile: WorkloadProfile) -> None:
        self.grid = grid
        self.profile = profile
        self.feasible = np.asarray(feasible, dtype=np.int64)
        self._enc = grid.encode(self.feasible)
        self._position = {k: i for i, k in enumerate(self.keys(self._enc))}
        self._features: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.feasible)

    def candidates(self, n: int, rng: np.random.Generator) -> np.ndarray:
        pick = rng.choice(len(self.feasible), size=min(n, len(self.feasible)), replace=False)
        return self._enc[np.sort(pick)]

    def keys(self, x: np.ndarray) -> list[bytes]:
        return [np.round(np.asarray(r, dtype=np.float64), 9).tobytes() for r in np.atleast_2d(x)]

    def core_keys(self, x: np.ndarray) -> list[bytes]:
        """(DIM, scratchpad, accumulator) of each point: designs that differ only in bus
        width or dataflow share a core, and a batch is more informative without repeats."""
        rows = self.grid.rows[[self.index(r) for r in np.atleast_2d(x)]]
        return [r[[0, 1, 3]].tobytes() for r in rows]

    def categorical_columns(self) -> list[int]:
        """Columns of the encoding that are categories, not quantities: the dataflow (WS,
        OS, BOTH have no order), which `cbo`'s surrogate gives a categorical kernel."""
        return [3]

    def index(self, x: np.ndarray) -> int:
        """Grid row of a point this domain produced."""
        return int(self.feasible[self._position[self.keys(x)[0]]])

    def encode_target(self, target: Target) -> np.ndarray | None:
        """The point of `target` if it is a feasible design of this domain."""
        s = self.grid.space
        if (target.dim not in s.dims or target.dataflow not in s.dataflows
                or target.dma_bus_bits not in s.bus_bits):
            return None
        want = np.array([s.dims.index(target.dim), target.sp_kib, target.sp_banks,
                         target.acc_kib, target.acc_banks, s.dataflows.index(target.dataflow),
                         s.bus_bits.index(target.dma_bus_bits)])
        hit = np.flatnonzero((self.grid.rows[self.feasible] == want).all(axis=1))
        return self._enc[hit[0]] if len(hit) else None

    def target(self, x: np.ndarray) -> Target:
        return self.grid.target(self.index(x))

    def feature_names(self) -> list[str]:
        return [f.name for f in HW_FEATURES + WORKLOAD_FEATURES]

    def features(self, x: np.ndarray) -> np.ndarray:
        """HW_FEATURES, then the models' WORKLOAD_FEATURES."""
        return self.feature_table()[[self._position[k] for k in self.keys(x)]]

    def feature_table(self) -> np.ndarray:
        """Features of every feasible point, computed once (the grid is fixed)."""
        if self._features is None:
            self._features = self._compute_features()
        return self._features

    def _compute_features(self) -> np.ndarray:
        s = self.grid.space
        rows = self.grid.rows[self.feasible]
        dims = self.grid.dims[self.feasible]
        bus = self.grid.bus_bits[self.feasible]
        hw = hw_features(dims, np.array(s.dataflows)[rows[:, 5]])
        wl = self.profile.features(dims, rows[:, 1], rows[:, 3], bus,
                                   s.base.dram_bytes_per_cycle)
        return np.concatenate([hw, wl], axis=1)


class SwDomain:
    """Legal mappings of one layer on one target."""

    def __init__(self, space: MappingSpace) -> None:
        self.space = space

    def decode(self, x: np.ndarray) -> MappingBatch:
        return self.space.decode_batch(np.atleast_2d(x))

    def candidates(self, n: int, rng: np.random.Generator) -> np.ndarray:
        got: list[np.ndarray] = []
        total = 0
        for _ in range(8):
            vecs = rng.random((4 * n, VECTOR_LEN))
            batch = self.space.decode_batch(vecs)
            ok = self.space.legal_mask(batch.tiles, batch.double_buffer)
            got.append(vecs[ok])
            total += int(ok.sum())
            if total >= n:
                break
        if total < n:
            sampled = self.space.sample(n - total, seed=int(rng.integers(2**31)))
            got.append(np.stack([self.space.encode(m) for m in sampled.mappings(
                self.space.layer)]))
        return np.concatenate(got)[:n]

    def keys(self, x: np.ndarray) -> list[bytes]:
        b = self.decode(x)
        return [b.tiles[:, i].tobytes() + b.rank[:, i].tobytes() + bytes([int(b.os[i])])
                for i in range(len(b))]

    def features(self, x: np.ndarray) -> np.ndarray:
        return sw_features(self.space.layer, self.space.target, self.decode(x))
