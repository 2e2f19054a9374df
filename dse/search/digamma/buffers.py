"""DiGamma's buffer allocation: the scratchpad and accumulator are not searched, they
are sized to the minimum the mapping needs (paper section IV-C), then rounded up to the
legal Gemmini sizes of the hardware space.

A genome's requirement is, over its layers, the largest tile's scratchpad rows and
accumulator rows (capacity.tile_rows, doubled for a double-buffered WS tile, since
loop_ws keeps two tiles in flight). The design is the smallest-area point of the
space's feasible grid with that DIM and dataflow whose buffers hold it: a size the
generator accepts (bank split, the accumulator's tiles fitting the scratchpad's - 2),
within the area budget, with the widest bus. When no point holds it, the repair shrinks
the binding layer's largest tile (halving it, in DIM blocks) until one does; a genome
of smallest tiles always fits, because only (DIM, dataflow) pairs on which it fits are
allowed at all (`BufferTable.combos`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from dlac.passes.mapping import capacity
from dlac.passes.mapping.layer import CANON

from ...domains import HwDomain
from .genome import Population, Problem, legal_dataflow, legal_order, legal_tiles, min_tiles


class BufferTable:
    """Per (DIM index, dataflow index): the feasible grid rows, cheapest first, with the
    scratchpad and accumulator rows each offers."""

    def __init__(self, domain: HwDomain, problem: Problem) -> None:
        grid = domain.grid
        base = grid.space.base
        rows = grid.rows[domain.feasible]
        dims = grid.dims[domain.feasible]
        area = grid.area()[domain.feasible]
        sp_rows = rows[:, 1] * 1024 // (dims * base.input_bits // 8)
        acc_rows = rows[:, 3] * 1024 // (dims * base.acc_bits // 8)
        self.problem = problem
        self.grid = grid
        self._table: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for di in range(len(problem.dims)):
            for fi in range(len(problem.dataflows)):
                at = np.flatnonzero((rows[:, 0] == di) & (rows[:, 5] == fi))
                if not len(at):
                    continue
                at = at[np.lexsort((domain.feasible[at], area[at]))]
                self._table[(di, fi)] = (domain.feasible[at], sp_rows[at], acc_rows[at])
        self.combos = self._fitting_combos()

    def _fitting_combos(self) -> np.ndarray:
        """(DIM, dataflow) pairs on which a genome of smallest tiles has a design."""
        keys = sorted(self._table)
        n, lay = len(keys), len(self.problem)
        probe = Population(np.array([k[0] for k in keys], dtype=np.int64),
                           np.array([k[1] for k in keys], dtype=np.int64),
                           np.ones((n, lay, len(CANON)), dtype=np.int64),
                           np.zeros((n, lay, len(CANON)), dtype=np.int64),
                           np.zeros((n, lay), dtype=bool), np.full(n, -1, dtype=np.int64))
        probe = legal_dataflow(self.problem, replace(probe, tiles=min_tiles(self.problem,
                                                                          probe.dim)))
        sp, acc = self.need(probe)
        ok = [self.allocate(k[0], k[1], int(sp[i].max()), int(acc[i].max())) is not None
              for i, k in enumerate(keys)]
        return np.array([k for k, good in zip(keys, ok, strict=True) if good],
                        dtype=np.int64).reshape(-1, 2)

    def need(self, pop: Population) -> tuple[np.ndarray, np.ndarray]:
        """(P, L) scratchpad and accumulator rows each layer's tile needs (doubled when
        double-buffered)."""
        dim = self.problem.dims[pop.dim]
        sp = np.empty(pop.os.shape, dtype=np.int64)
        acc = np.empty(pop.os.shape, dtype=np.int64)
        for li, layer in enumerate(self.problem.layers):
            cols = {s: pop.tiles[:, li, i] for i, s in enumerate(CANON)}
            s_rows, a_rows = capacity.tile_rows(layer, cols, dim)
            factor = np.where(pop.os[:, li], 1, 2)
            sp[:, li] = s_rows * factor
            acc[:, li] = a_rows * factor
        return sp, acc

    def allocate(self, dim: int, df: int, sp_need: int, acc_need: int) -> int | None:
        """Grid row of the cheapest design holding the requirement, or None."""
        entry = self._table.get((dim, df))
        if entry is None:
            return None
        rows, sp, acc = entry
        hit = np.flatnonzero((sp >= sp_need) & (acc >= acc_need))
        return int(rows[hit[0]]) if len(hit) else None

    def largest(self, dim: int, df: int) -> int:
        """Grid row of the pair's largest-area design within the budget."""
        return int(self._table[(dim, df)][0][-1])

    def caps(self, dim: int, df: int) -> tuple[int, int]:
        _, sp, acc = self._table[(dim, df)]
        return int(sp.max()), int(acc.max())


def legalize(table: BufferTable, pop: Population) -> Population:
    """The repair every operator ends with: HW genes on allowed pairs, legal tiles,
    orders and dataflow options, then buffers allocated (shrinking tiles until a design
    holds them)."""
    problem = table.problem
    combos = table.combos
    allowed = {(int(a), int(b)) for a, b in combos}
    dim, df = pop.dim.copy(), pop.df.copy()
    for p in range(len(pop)):
        if (int(dim[p]), int(df[p])) not in allowed:
            near = np.argmin(np.abs(combos[:, 0] - dim[p]) * 16 + (combos[:, 1] != df[p]))
            dim[p], df[p] = combos[near]
    pop = replace(pop, dim=dim, df=df)
    pop = legal_dataflow(problem, legal_order(legal_tiles(problem, pop)))
    sp, acc = table.need(pop)
    tiles = pop.tiles.copy()
    design = np.empty(len(pop), dtype=np.int64)
    for p in range(len(pop)):
        design[p] = _fit(table, pop, p, tiles, sp[p], acc[p])
    return replace(pop, tiles=tiles, design=design)


def _fit(table: BufferTable, pop: Population, p: int, tiles: np.ndarray, sp: np.ndarray,
         acc: np.ndarray) -> int:
    """Individual p's design row, halving its binding layer's largest tile (in `tiles`,
    updating the requirements `sp`/`acc`) until one exists."""
    problem = table.problem
    di, fi = int(pop.dim[p]), int(pop.df[p])
    sp_cap, acc_cap = table.caps(di, fi)
    dim = int(problem.dims[di])
    sizes, block = problem.sizes, problem.block
    smallest = np.where(block, np.minimum(dim, sizes), 1)
    while True:
        row = table.allocate(di, fi, int(sp.max()), int(acc.max()))
        if row is not None:
            return row
        by_sp = sp.max() / sp_cap >= acc.max() / acc_cap
        ratio = tiles[p] / smallest
        reducible = (ratio > 1).any(axis=1)
        if not reducible.any():
            raise AssertionError("a genome of smallest tiles has no design")
        li = -1
        for need in ((sp, acc) if by_sp else (acc, sp)):
            top = int(np.argmax(need))
            if reducible[top]:
                li = top
                break
        if li < 0:
            li = int(np.argmax(np.where(reducible, sp / sp_cap + acc / acc_cap, -1.0)))
        si = int(np.argmax(ratio[li]))
        half = -(-tiles[p, li, si] // 2)
        if block[li, si]:
            half = min(int(sizes[li, si]), max(1, -(-half // dim)) * dim)
            if half >= tiles[p, li, si]:
                half = tiles[p, li, si] - dim
        tiles[p, li, si] = max(int(smallest[li, si]), int(half))
        layer = problem.layers[li]
        cols = {s: tiles[p, li, i] for i, s in enumerate(CANON)}
        s_rows, a_rows = capacity.tile_rows(layer, cols, dim)
        factor = 1 if pop.os[p, li] else 2
        sp[li], acc[li] = int(s_rows) * factor, int(a_rows) * factor
