"""daBO: Bayesian optimisation over domain features (dissertation section 4.2).

The surrogate is an exact GP (gpytorch) on *features* of the points, not on their raw
parameters; by default its kernel is linear (Spotlight's DotProduct + White: here
`LinearKernel` plus a constant mean, with the white noise in the Gaussian likelihood),
optionally Matern-5/2. Features and log-objectives are standardised before fitting.
Acquisition is the lower confidence bound mu - kappa * sigma over feasible candidates
(kappa = 1), inside the batch loop of `BatchSearcher`. Inputs are scaled by the spread of
the whole domain when it is known, so a feature the warm-up points barely vary cannot
extrapolate wildly.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from ..models.features import permutation_importance
from ..models.gp import GPSurrogate
from ..models.threads import single_thread
from ..registry import SEARCHERS
from .base import HW_CONFIG, BatchSearcher, Domain, SearchConfig


@SEARCHERS.register("dabo")
class DaBO(BatchSearcher):
    """Domain-aware BO: GP on `domain.features`, LCB over candidates.

    On a finite domain that tabulates its features (the HW grid, at most a few ten
    thousand points), LCB is scored over every point instead of a 1000-point sample: the
    table makes that cheap, and the candidate sample rather than the surrogate was what
    kept daBO off the sharp optima (docs/codesign.md). Vanilla BO keeps the sample, which
    measured better for it."""

    name = "dabo"

    def __init__(self, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG) -> None:
        table = getattr(domain, "feature_table", None)
        self._population: np.ndarray | None = table() if table is not None else None
        if self._population is not None:
            config = dataclasses.replace(
                config, n_candidates=max(config.n_candidates, len(self._population)))
        super().__init__(domain, seed, config)
        self.surrogate: GPSurrogate | None = None

    def _fit(self) -> GPSurrogate:
        x, y = self.training_data()
        return GPSurrogate(self.config.kernel).fit(self.domain.features(x), y,
                                                   self._population)

    def score(self, cands: np.ndarray) -> np.ndarray:
        with single_thread():
            self.surrogate = self._fit()
            mu, sd = self.surrogate.predict(self.domain.features(cands))
        return mu - self.config.kappa * sd

    def feature_importance(self, rng: np.random.Generator) -> np.ndarray | None:
        """Permutation importance of each feature for the surrogate on its data."""
        x, y = self.training_data()
        if len(y) < 3:
            return None
        with single_thread(), warnings.catch_warnings():
            gp = self._fit()
            warnings.simplefilter("ignore")  # gpytorch warns when predicting on train data
            return permutation_importance(lambda f: gp.predict(f)[0], self.domain.features(x),
                                          y, rng)
