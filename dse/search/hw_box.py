"""The hardware grid relaxed to a continuous box, and the rounding back to a design.

Points of the box are rows of `HwGrid.encode`'s normalised space ([0, 1] per parameter:
array-dim index, scratchpad KiB, accumulator KiB, dataflow index, bus index), so the
feasible designs are points of the box too. `raw(u)` reads a box point as (possibly
unrealisable) parameters, e.g. a 6.8x6.8 array (log-linear between the grid's dims), which
a surrogate can score; `nearest(u)` rounds it to the closest realisable, area-feasible
design by L1 distance (Polaris, dissertation section 6.1.4).
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
from dlac.ir.target import Target

from ..hwspace import DATAFLOWS
from .base import Domain

RAW_NAMES = ("dim", "sp_kib", "acc_kib", "dataflow", "bus_bits")
"""Columns of `raw`: dataflow is the index into hwspace.DATAFLOWS (WS, OS, BOTH)."""


class HwBox:
    """The box around a domain's feasible designs (an HwDomain: it knows its grid)."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.space = domain.grid.space  # type: ignore[attr-defined]
        self.pool = domain.candidates(1 << 62, np.random.default_rng(0))
        self.pool = self.pool[np.lexsort(self.pool.T[::-1])]
        s = self.space
        self._dims = np.log2(np.array(s.dims, dtype=np.float64))
        self._flows = np.array([DATAFLOWS.index(d) for d in s.dataflows], dtype=np.float64)
        self._bus = np.log2(np.array(s.bus_bits, dtype=np.float64))

    @property
    def width(self) -> int:
        return int(self.pool.shape[1])

    def raw(self, u: np.ndarray) -> np.ndarray:
        """Parameters (RAW_NAMES) of box points (rows), interpolated between grid values."""
        u = np.clip(np.atleast_2d(u), 0.0, 1.0)
        s = self.space

        def along(values: np.ndarray, col: np.ndarray) -> np.ndarray:
            return np.interp(col * (len(values) - 1), np.arange(len(values)), values)

        return np.stack([2.0 ** along(self._dims, u[:, 0]),
                         s.sp_kib[0] + u[:, 1] * (s.sp_kib[1] - s.sp_kib[0]),
                         s.acc_kib[0] + u[:, 2] * (s.acc_kib[1] - s.acc_kib[0]),
                         along(self._flows, u[:, 3]),
                         2.0 ** along(self._bus, u[:, 4])], axis=1)

    def nearest(self, u: np.ndarray, seen: Collection[bytes] = ()) -> np.ndarray | None:
        """The feasible design closest to `u` by L1 distance that is not in `seen` (domain
        keys); None when every design is seen. Ties go to the first design in grid order."""
        i = self.nearest_index(u, seen)
        return None if i is None else self.pool[i].copy()

    def nearest_index(self, u: np.ndarray, seen: Collection[bytes] = ()) -> int | None:
        """Row of `pool` that `nearest` returns."""
        dist = np.abs(self.pool - np.asarray(u, dtype=np.float64)).sum(axis=1)
        if not seen:
            return int(np.argmin(dist))
        for i in np.argsort(dist, kind="stable"):
            if self.domain.keys(self.pool[i][None, :])[0] not in seen:
                return int(i)
        return None

    def unit(self, raw: np.ndarray) -> np.ndarray:
        """The box point of parameters `raw` (RAW_NAMES, one row): `raw`'s inverse, clipped
        to the box, so a design outside the space lands on its nearest face."""
        s = self.space

        def pos(values: np.ndarray, v: float) -> float:
            if len(values) < 2:
                return 0.0
            return float(np.interp(v, values, np.arange(len(values)))) / (len(values) - 1)

        def lin(v: float, lo: float, hi: float) -> float:
            return (v - lo) / (hi - lo) if hi > lo else 0.0

        u = np.array([pos(self._dims, np.log2(raw[0])), lin(raw[1], *s.sp_kib[:2]),
                      lin(raw[2], *s.acc_kib[:2]), pos(self._flows, raw[3]),
                      pos(self._bus, np.log2(raw[4]))])
        return np.clip(u, 0.0, 1.0)

    def closest(self, target: Target) -> np.ndarray:
        """The feasible design nearest to `target` by L1 distance over everything but the
        DMA bus, the widest bus among equals: the pool keeps each design's widest feasible
        bus only, so default Gemmini's 128-bit bus is not a point of it, and with the bus
        column counted a design of another size but the same bus could win."""
        u = self.unit(raw_of(target))
        dist = np.abs(self.pool[:, :4] - u[:4]).sum(axis=1)
        return self.pool[np.lexsort((-self.pool[:, 4], np.round(dist, 12)))[0]].copy()


def raw_of(target: Target) -> np.ndarray:
    """RAW_NAMES of a realised design."""
    return np.array([target.dim, target.sp_kib, target.acc_kib,
                     DATAFLOWS.index(target.dataflow), target.dma_bus_bits], dtype=np.float64)
