"""nevergrad's optimisers as HW searchers: CMA, DE, PSO, TBPSA, (1+1)-ES and Portfolio,
the baselines of DiGamma's Figure 5 (`cma`, `de`, `pso`, `tbpsa`, `one-plus-one`,
`portfolio`).

One adapter serves all of them. The optimiser sees the domain's raw encoding as a box
[0, 1]^d (nevergrad's bounded `Array`); a candidate becomes the feasible point nearest to
it by L1 distance in that box, so every design the driver evaluates is within the area
budget and mappable. A candidate that lands on an already evaluated design is told that
design's value without spending an evaluation and the optimiser asks again (at most
`max_repeats` times in a row; then the nearest unseen point is taken, so a converged
optimiser still makes progress). An infeasible design (objective inf) is told a finite
penalty, one above the worst finite value so far, since the evolution strategies need
finite values to rank.

`footing=joint` (a searcher option) puts the same optimiser on DiGamma's footing instead:
it searches DiGamma's joint HW + mapping genome, one genome per evaluation
(`nevergrad_joint`; `max_repeats` does not apply there). The constructor returns that
searcher, so `--searcher cma --searcher-option footing=joint` is all a user writes.

Deterministic: the parametrization's random state is seeded, one worker, and every
internal ask/tell follows from the driver's tells, so replaying stored tells (resume)
reproduces the asks. nevergrad is an optional dependency (`pip install dlac[search]`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DseError
from ..registry import SEARCHERS
from .base import HW_CONFIG, Domain, SearchConfig, Searcher
from .nevergrad_joint import JointNevergrad
from .nevergrad_lib import FOOTINGS, OPTIMIZERS, make_optimizer, penalised, quiet

__all__ = ["OPTIMIZERS", "NevergradSearcher"]


class NevergradSearcher(Searcher):
    """A nevergrad optimiser over the domain's encoding, rounded to feasible points."""

    optimizer = "CMA"

    def __new__(cls, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG, *,
                max_repeats: int = 50, footing: str = "hw") -> Any:
        """This searcher, or with `footing=joint` the same optimiser over DiGamma's
        genome (a different class, so Python does not run `__init__` on it again)."""
        if footing not in FOOTINGS:
            raise DseError(f"{cls.name}: footing must be one of {', '.join(FOOTINGS)}, "
                           f"got {footing!r}")
        if footing == "joint":
            return JointNevergrad(domain, seed, config, name=cls.name,
                                  optimizer=cls.optimizer)
        return super().__new__(cls)

    def __init__(self, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG, *,
                 max_repeats: int = 50, footing: str = "hw") -> None:
        super().__init__(domain, seed, config)
        if max_repeats < 0:
            raise DseError(f"{self.name}: max_repeats must be >= 0, got {max_repeats}")
        self.max_repeats = max_repeats
        self._pool = domain.candidates(1 << 62, np.random.default_rng(0))
        self._pool = self._pool[np.lexsort(self._pool.T[::-1])]
        self._budget: int | None = None
        self._opt: Any = None
        self._pending: Any = None
        self._values: dict[bytes, float] = {}

    def prepare(self, nested: object, budget: Any) -> None:
        """Optimisers that plan with the budget (Portfolio) get the most asks the
        evaluation count can take: every evaluation may follow `max_repeats` asks that
        landed on evaluated designs (Portfolio's samplers fail past their budget)."""
        self._budget = (None if budget.evaluations is None
                        else budget.evaluations * (self.max_repeats + 1))

    def _optimizer(self) -> Any:
        if self._opt is None:
            self._opt = make_optimizer(self.optimizer, self._pool.shape[1], self.seed,
                                       self._budget)
        return self._opt

    def _nearest(self, v: np.ndarray, unseen: bool) -> int | None:
        dist = np.abs(self._pool - v).sum(axis=1)
        order = np.argsort(dist, kind="stable")
        if not unseen:
            return int(order[0])
        for i in order:
            if self.domain.keys(self._pool[i][None, :])[0] not in self._seen:
                return int(i)
        return None

    def ask(self) -> np.ndarray | None:
        with quiet():
            return self._ask(self._optimizer())

    def _ask(self, opt: Any) -> np.ndarray | None:
        for repeat in range(self.max_repeats + 1):
            cand = opt.ask()
            i = self._nearest(np.asarray(cand.value, dtype=np.float64),
                              unseen=repeat == self.max_repeats)
            if i is None:
                return None
            key = self.domain.keys(self._pool[i][None, :])[0]
            if key in self._values:
                opt.tell(cand, self._penalised(self._values[key]))
                continue
            self._pending = cand
            return self._pool[i].copy()
        return None

    def _penalised(self, y: float) -> float:
        return penalised(y, [v for v in self._values.values() if np.isfinite(v)])

    def tell(self, x: np.ndarray, y: float) -> None:
        super().tell(x, y)
        self._values[self.domain.keys(np.atleast_2d(x))[0]] = float(y)
        if self._pending is not None:
            with quiet():
                self._optimizer().tell(self._pending, self._penalised(float(y)))
            self._pending = None


def _register(name: str, optimizer: str) -> None:
    cls = type(f"NG_{optimizer}", (NevergradSearcher,),
               {"name": name, "optimizer": optimizer,
                "__doc__": f"nevergrad's {optimizer} over the HW encoding (`{name}`)."})
    SEARCHERS.register(name)(cls)


for _name, _optimizer in OPTIMIZERS.items():
    _register(_name, _optimizer)
