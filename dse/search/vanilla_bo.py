"""Vanilla BO: the textbook baseline on raw normalised parameters (botorch).

A `SingleTaskGP` (Matern-5/2 with ARD, botorch's default) on the domain's raw encoding in
[0, 1]^d, outcomes standardised, hyperparameters fitted by `fit_gpytorch_mll`, and
log expected improvement scored over the same sampled candidates daBO sees. It differs
from daBO only in the surrogate's input space and kernel, which is the comparison.
"""

from __future__ import annotations

import numpy as np

from ..models.threads import single_thread
from ..registry import SEARCHERS
from .base import BatchSearcher


@SEARCHERS.register("vanilla-bo")
class VanillaBO(BatchSearcher):
    name = "vanilla-bo"

    def score(self, cands: np.ndarray) -> np.ndarray:
        with single_thread():
            return self._score(cands)

    def _score(self, cands: np.ndarray) -> np.ndarray:
        import torch
        from botorch.acquisition import LogExpectedImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Standardize
        from gpytorch.mlls import ExactMarginalLogLikelihood

        x, y = self.training_data()
        tx = torch.as_tensor(x, dtype=torch.float64)
        ty = torch.as_tensor(-y, dtype=torch.float64).unsqueeze(-1)
        model = SingleTaskGP(tx, ty, outcome_transform=Standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        acq = LogExpectedImprovement(model, best_f=ty.max())
        with torch.no_grad():
            values = acq(torch.as_tensor(cands, dtype=torch.float64).unsqueeze(1))
        return -values.numpy()
