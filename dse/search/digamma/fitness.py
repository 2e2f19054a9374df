"""Scoring a whole population with a vectorised evaluator: individuals are grouped by
their allocated design, and each (design, layer) is one batch of the analytical model,
so a generation costs (distinct designs x unique layers) model calls rather than one
per mapping. Costs are memoised by (design, layer, mapping): a child shares most of its
layers' genes (and often its design) with a parent, so most of a generation's layer
mappings were scored before (the memo is dropped when it holds MEMO entries)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from dlac.ir.target import Target

from ...evaluators import Evaluator
from ...hwspace import HwGrid
from .genome import Population, Problem

MEMO = 1 << 18


@dataclass(frozen=True)
class Scores:
    """(P, L) cycles, energy and utilisation of every individual's layer mappings."""

    cycles: np.ndarray
    energy_pj: np.ndarray
    utilization: np.ndarray

    def picks(self, problem: Problem, pop: Population, p: int) -> dict[str, tuple[Any, ...]] | str:
        """Individual p as the driver's per-layer picks, or why it cannot run."""
        out: dict[str, tuple[Any, ...]] = {}
        for li, h in enumerate(problem.hashes):
            c, e = self.cycles[p, li], self.energy_pj[p, li]
            if not (np.isfinite(c) and np.isfinite(e)):
                return (f"the evaluator ran no mapping of layer {problem.layers[li].name!r} "
                        "for this genome")
            out[h] = (pop.mapping(problem, p, li), float(c), float(e),
                      float(self.utilization[p, li]), 1)
        return out


class Scorer:
    """Evaluates populations on the grid's designs (targets built once per design)."""

    def __init__(self, problem: Problem, grid: HwGrid, evaluator: Evaluator) -> None:
        self.problem = problem
        self.grid = grid
        self.evaluator = evaluator
        self._targets: dict[int, Target] = {}
        self._memo: dict[tuple[int, int, bytes], tuple[float, float, float]] = {}

    def target(self, design: int) -> Target:
        if design not in self._targets:
            self._targets[design] = self.grid.target(design)
        return self._targets[design]

    def score(self, pop: Population, members: np.ndarray) -> Scores:
        """Costs of `members` (other rows stay inf)."""
        shape = pop.os.shape
        cycles = np.full(shape, np.inf)
        energy = np.full(shape, np.inf)
        util = np.zeros(shape)
        members = np.asarray(members, dtype=np.int64)
        if len(self._memo) > MEMO:
            self._memo.clear()
        for design in np.unique(pop.design[members]):
            group = members[pop.design[members] == design]
            target = self.target(int(design))
            for li, layer in enumerate(self.problem.layers):
                keys = [(int(design), li, pop.tiles[p, li].tobytes() + pop.rank[p, li].tobytes()
                         + pop.os[p, li].tobytes()) for p in group]
                miss = [j for j, k in enumerate(keys) if k not in self._memo]
                if miss:
                    cost = self.evaluator.evaluate(layer, target, pop.batch(li, group[miss]))
                    for m, j in enumerate(miss):
                        self._memo[keys[j]] = (float(cost.cycles[m]), float(cost.energy_pj[m]),
                                               float(cost.utilization[m]))
                for p, k in zip(group, keys, strict=True):
                    cycles[p, li], energy[p, li], util[p, li] = self._memo[k]
        return Scores(cycles, energy, util)
