"""ConfuciuX's environment on dlac's Gemmini grid: levels, observations, one shared design.

Actions. Every step (one unique layer, in model order) picks a level for each of the
array DIM (the space's dims), the scratchpad and accumulator sizes (12 levels each, as the
paper's 12 PE and 12 buffer values: geometric between the smallest and largest feasible
size, snapped to feasible sizes) and the dataflow. The DMA bus is no action: the domain
keeps only the widest feasible bus of each design (`HwGrid.widest_bus`), so a bus choice
could not change the design.

One design for all layers. Gemmini is one accelerator that runs the layers one after
another, ConfuciuX's layer-sequential mode, so the design is the running maximum of the
per-layer levels (DIM, scratchpad, accumulator) and the union of the dataflows asked for
(WS and OS together make BOTH). The area budget is checked on the running design after
every step, as the paper's L_budget; a request within the budget is then moved to the
nearest feasible grid point (same DIM and dataflow when possible, closest buffer sizes in
log scale), since bank rules and the layers' minimum tiles exclude some combinations.

Observations (the paper's three inputs): the layer's seven dimensions (log2 of K, C, P,
Q, R, S, G over 12), the levels of the running design so far (the previous actions,
scaled to [0, 1]) and the action status (step / number of layers).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from dlac.ir import hwcost
from dlac.passes.mapping import Layer

from ...domains import HwDomain
from ...errors import DseError

BUFFER_LEVELS = 12
"""Scratchpad and accumulator levels (the paper's 12 buffer values)."""

LAYER_DIMS = ("K", "C", "P", "Q", "R", "S", "G")


def layer_features(layers: Sequence[Layer]) -> np.ndarray:
    """(layers, 7): log2 of each layer's canonical dimensions, scaled by 1/12."""
    rows = [[np.log2(max(1, layer.canonical()[d])) / 12.0 for d in LAYER_DIMS]
            for layer in layers]
    return np.asarray(rows, dtype=np.float32)


def _levels(values: np.ndarray, n: int) -> np.ndarray:
    """Up to n values of `values` spread geometrically from its minimum to its maximum."""
    values = np.unique(values)
    want = np.geomspace(values[0], values[-1], n)
    pick = np.abs(np.log(values)[None, :] - np.log(want)[:, None]).argmin(axis=1)
    return values[np.unique(pick)]


class GemminiEnv:
    """Levels of the actions, the composition of per-layer actions and the projection onto
    the feasible grid."""

    def __init__(self, domain: HwDomain, layers: Sequence[Layer]) -> None:
        if not isinstance(domain, HwDomain):
            raise DseError("confuciux searches the Gemmini hardware grid only")
        if not layers:
            raise DseError("confuciux needs at least one layer to assign resources for")
        self.domain = domain
        space = domain.grid.space
        rows = domain.grid.rows[domain.feasible]
        self._rows = rows
        self._dims = np.array(space.dims)[rows[:, 0]]
        self.dims = np.unique(self._dims)
        self.sp = _levels(rows[:, 1], BUFFER_LEVELS)
        self.acc = _levels(rows[:, 3], BUFFER_LEVELS)
        self.dataflows = tuple(space.dataflows[i] for i in np.unique(rows[:, 5]))
        self.budget_mm2 = space.area_budget_mm2
        self.layers = layer_features(layers)
        self.sizes = (len(self.dims), len(self.sp), len(self.acc), len(self.dataflows))
        self.space = space

    @property
    def steps(self) -> int:
        return len(self.layers)

    @property
    def obs_dims(self) -> tuple[int, int, int]:
        """Widths of the three inputs: layer dims, previous actions, action status."""
        return len(LAYER_DIMS), len(self.sizes), 1

    def observation(self, step: int, running: np.ndarray) -> tuple[np.ndarray, ...]:
        """The three inputs at `step` for a batch of running designs (levels, (B, 4))."""
        batch = len(running)
        dims = np.repeat(self.layers[step][None, :], batch, axis=0)
        scale = np.maximum(np.array(self.sizes) - 1, 1)
        prev = (running / scale).astype(np.float32)
        status = np.full((batch, 1), step / self.steps, dtype=np.float32)
        return dims, prev, status

    def compose(self, running: np.ndarray, action: np.ndarray) -> np.ndarray:
        """The running design after one more layer's levels: maximum of DIM and buffers,
        union of the dataflows (-1 in `running`: no layer yet)."""
        out = np.maximum(running, action)
        first = running[:, 3] < 0
        out[:, 3] = np.where(first, action[:, 3],
                             [self._union(a, b) for a, b in zip(running[:, 3], action[:, 3],
                                                                strict=True)])
        return out

    def _union(self, a: int, b: int) -> int:
        if a < 0 or a == b:
            return int(b)
        ws = {"WS", "BOTH"}
        os_ = {"OS", "BOTH"}
        names = {self.dataflows[a], self.dataflows[b]}
        both = bool(names & ws) and bool(names & os_)
        if both and "BOTH" in self.dataflows:
            return self.dataflows.index("BOTH")
        return max(int(a), int(b))

    def area(self, levels: np.ndarray) -> np.ndarray:
        """Area (mm^2, dlac.ir.hwcost's model) of designs given as levels (B, 4)."""
        d = self.dims[levels[:, 0]].astype(np.float64)
        return (hwcost.FIXED_AREA_MM2 + hwcost.PE_AREA_MM2 * d * d
                + hwcost.SPAD_AREA_MM2_PER_KIB * self.sp[levels[:, 1]]
                + hwcost.ACC_AREA_MM2_PER_KIB * self.acc[levels[:, 2]])

    def within_budget(self, levels: np.ndarray) -> np.ndarray:
        return self.area(levels) <= self.budget_mm2 * (1 + 1e-12)

    def design(self, levels: np.ndarray) -> tuple[int, int, int, str]:
        """(DIM, scratchpad KiB, accumulator KiB, dataflow) of one design's levels."""
        return (int(self.dims[levels[0]]), int(self.sp[levels[1]]), int(self.acc[levels[2]]),
                self.dataflows[int(levels[3])])

    def nearest(self, dim: int, sp_kib: float, acc_kib: float, dataflow: str) -> np.ndarray:
        """The feasible point closest to a requested design: DIM and dataflow kept when
        some feasible point has them, then the closest buffers in log2 KiB."""
        df_index = self.space.dataflows.index(dataflow)
        cost = (1e3 * (self._dims != dim) + 1e3 * (self._rows[:, 5] != df_index)
                + np.abs(np.log2(self._rows[:, 1] / sp_kib))
                + np.abs(np.log2(self._rows[:, 3] / acc_kib)))
        i = int(np.argmin(cost))
        return self.domain.grid.encode(self.domain.feasible[i:i + 1])[0]

    def point(self, levels: np.ndarray) -> np.ndarray:
        """The feasible point (domain encoding) a within-budget design's levels stand for."""
        return self.nearest(*self.design(levels))

    def genome(self, x: np.ndarray) -> tuple[int, int, int, str]:
        """(DIM, scratchpad KiB, accumulator KiB, dataflow) of a domain point."""
        t = self.domain.target(x)
        return t.dim, t.sp_kib, t.acc_kib, t.dataflow
