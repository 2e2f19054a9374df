"""Vanilla BO: the textbook baseline on raw normalised parameters (botorch).

A `SingleTaskGP` (Matern-5/2 with ARD, botorch's default) on the domain's raw encoding in
[0, 1]^d, outcomes standardised, hyperparameters fitted by `fit_gpytorch_mll`. A batch is
chosen jointly by q-batch log expected improvement (`qLogExpectedImprovement`, greedy
sequential over the same sampled candidates daBO sees via `optimize_acqf_discrete`): each
point is picked given the ones already in the batch, so the batch spreads out instead of
being ten neighbours of one optimum, and all of it can be evaluated in parallel. The
quasi-Monte-Carlo sampler is seeded from the searcher's seed and the number of tells, so
a seed gives one sequence of batches. It differs from daBO in the surrogate's input space
and kernel, and in choosing the batch jointly.
"""

from __future__ import annotations

import numpy as np

from ..models.threads import single_thread
from ..registry import SEARCHERS
from .base import BatchSearcher

MC_SAMPLES = 128


@SEARCHERS.register("vanilla-bo")
class VanillaBO(BatchSearcher):
    name = "vanilla-bo"

    def select(self, cands: np.ndarray, n: int) -> np.ndarray:
        with single_thread():
            return self._select(cands, n)

    def _select(self, cands: np.ndarray, n: int) -> np.ndarray:
        import torch
        from botorch.acquisition.logei import qLogExpectedImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Standardize
        from botorch.optim import optimize_acqf_discrete
        from botorch.sampling import SobolQMCNormalSampler
        from gpytorch.mlls import ExactMarginalLogLikelihood

        x, y = self.training_data()
        tx = torch.as_tensor(x, dtype=torch.float64)
        ty = torch.as_tensor(-y, dtype=torch.float64).unsqueeze(-1)
        model = SingleTaskGP(tx, ty, outcome_transform=Standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        sampler = SobolQMCNormalSampler(torch.Size([MC_SAMPLES]),
                                        seed=self.seed * 100_003 + len(self.ys))
        acq = qLogExpectedImprovement(model, best_f=ty.max(), sampler=sampler)
        choices = torch.as_tensor(cands, dtype=torch.float64)
        picked, _ = optimize_acqf_discrete(acq, q=min(n, len(cands)), choices=choices)
        index = {row.tobytes(): i for i, row in enumerate(cands.astype(np.float64))}
        return np.array([index[row.tobytes()] for row in picked.numpy()], dtype=np.int64)
