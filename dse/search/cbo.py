"""Constrained Bayesian optimisation after paper 002 (`--searcher cbo`).

002 casts co-design as a bilevel problem, hardware outer and software (mapping) inner,
each a constrained black-box search over a semi-discrete space in which many points are
infeasible, some only found so after evaluation. Here:

* **Outer level (this searcher)**: BO over the HW grid. A GP of log(objective) on the
  feasible points told so far (`cbo_acquisition.fit_objective`), a GP classifier of
  feasibility on every point told (`feasibility.FeasibilityModel`; an infeasible design
  is told y = inf by the driver), and a constrained acquisition, P(feasible) x EI over the
  best feasible value, chosen as a q-batch (`cbo_acquisition.select_batch`) so parallel
  executors get `batch` designs at once. The constraints known before evaluation (area
  budget, smallest tile fits the buffers, convolutions need WS) are already applied by
  the driver's grid; the classifier learns the rest (a design on which the evaluator maps
  no candidate of some layer, e.g. the simulator running none of the sampled mappings).
  On the edge and cloud grids with the analytical evaluator every design that passes the
  pre-filter has maps, so the classifier sees only feasible labels and P(feasible) stays
  the constant (n + 1) / (n + 2): the search is then plain EI over the grid.
* **Semi-discrete variables natively**: the acquisition scores the enumerated grid (the
  domain is finite; `HwDomain` has at most a few ten thousand points), so discrete and
  ordinal values are never relaxed and rounded; the categorical dataflow gets a
  categorical kernel (`domain.categorical_columns()`).
* **Inner level**: the nested evaluator's per-layer mapping search (`--sw-strategy`),
  not a BO per layer. 002's inner BO exists because each of its mapping evaluations is an
  expensive simulation; dlac's mapping space decodes only to legal mappings, and the
  analytical evaluator scores the default 2000 of them per layer in one vectorised call,
  which at equal time sees far more mappings than a sequential GP loop could. A per-layer
  BO is still one flag away (`--sw-strategy vanilla-bo` or `dabo`), and keeping the
  driver's nested search means the layer tasks fan out over the executors and share the
  tuning database's layer cache with every other searcher.

The objective GP sees feasible points only, so it is most uncertain, and EI most drawn,
exactly where the designs are infeasible; once the feasible optimum is found, P(feasible)
x EI would keep proposing long shots there. So the acquisition only considers points
whose P(feasible) is at least `min_feasibility` (0.5: more likely feasible than not; the
probabilistic constraint of Gelbart et al.), or the `batch` likeliest points when fewer
pass.

Warm-up: the first `warmup` tells come from random feasible points; until two of them
are feasible, batches are ranked by P(feasible) alone. Deterministic: the random state
derives from the seed, the GP fits and the quasi-MC sampler are seeded from the seed and
the number of tells, so replaying stored tells reproduces the asks (resume).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import DseError
from ..registry import SEARCHERS
from .base import HW_CONFIG, BatchSearcher, Domain, SearchConfig
from .cbo_acquisition import fit_objective, select_batch
from .feasibility import FeasibilityModel


@SEARCHERS.register("cbo")
class ConstrainedBO(BatchSearcher):
    """P(feasible) x EI over the enumerated grid, q-batches, random warm-up."""

    name = "cbo"

    def __init__(self, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG, *,
                 batch: int = 10, warmup: int = 10, shortlist: int = 256,
                 mc_samples: int = 128, min_feasibility: float = 0.5) -> None:
        for key, value, low in (("batch", batch, 1), ("warmup", warmup, 1),
                                ("shortlist", shortlist, 1), ("mc_samples", mc_samples, 1)):
            if value < low:
                raise DseError(f"cbo: {key} must be >= {low}, got {value}")
        if not 0.0 <= min_feasibility < 1.0:
            raise DseError(f"cbo: min_feasibility must be in [0, 1), got {min_feasibility}")
        size = len(domain) if hasattr(domain, "__len__") else config.n_candidates
        super().__init__(domain, seed, dataclasses.replace(
            config, n_candidates=size, batch_size=batch, warmup=warmup, exploration=0.0))
        self.shortlist = shortlist
        self.mc_samples = mc_samples
        self.min_feasibility = min_feasibility
        self.feasibility = FeasibilityModel()
        self._categorical = list(getattr(domain, "categorical_columns", lambda: [])())

    def _refill(self) -> bool:
        pool = self._unseen(self.domain.candidates(self.config.n_candidates, self.rng))
        if len(pool) == 0:
            return False
        if len(self.ys) < self.config.warmup:
            order = self.rng.permutation(len(pool))
        else:
            order = self._acquire(pool)
        self._queue = [pool[i] for i in order[: self.config.batch_size]]
        return True

    def _acquire(self, pool: np.ndarray) -> np.ndarray:
        """Batch indices into `pool` by the constrained acquisition."""
        xs = np.stack(self.xs)
        ys = np.array(self.ys)
        ok = np.isfinite(ys)
        step_seed = self.seed * 100_003 + len(ys)
        pof = self.feasibility.fit(xs, ok, step_seed).probability(pool)
        log_pof = np.log(np.clip(pof, 1e-12, 1.0))
        if ok.sum() < 2:
            tie = self.rng.random(len(pool))
            return np.lexsort((tie, -log_pof))
        keep = np.flatnonzero(pof >= self.min_feasibility)
        if len(keep) < self.config.batch_size:
            keep = np.argsort(-pof, kind="stable")[: self.config.batch_size]
        model = fit_objective(xs[ok], ys[ok], self._categorical, step_seed)
        picked = select_batch(model, float(ys[ok].min()), pool[keep], log_pof[keep],
                              self.feasibility.model, self.config.batch_size, self.shortlist,
                              self.mc_samples, step_seed)
        return keep[picked]
