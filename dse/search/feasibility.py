"""Probability that a point is feasible, learnt from the points already evaluated.

Constrained BO (paper 002) models the constraints that are only known after a point has
been evaluated (here: a design on which some layer got no legal mapping, told with
y = inf) with a classifier and multiplies its probability of feasibility into the
acquisition. The classifier is botorch's `SingleTaskVariationalGP` with a Bernoulli
(probit) likelihood: a latent GP f (scaled Matern-5/2 ARD kernel: the learnt
output scale lets the probabilities approach 0 and 1 where the labels agree; inducing
points at the training inputs) with P(feasible | f) = Phi(f), fitted by maximising the
variational ELBO (`fit_gpytorch_mll`, L-BFGS). `probability` is the predictive P(feasible | x) =
Phi(mu / sqrt(1 + var)); `model` is the latent GP, which the q-batch acquisition uses as
a constraint outcome (feasible where f > 0) so that every point of a batch is weighted by
its own feasibility in each Monte-Carlo sample. While every label seen is one class there
is nothing to separate: no model, and the Laplace estimate (feasible + 1) / (seen + 2)
everywhere.

Deterministic: torch's random state (the variational initialisation) is seeded from the
caller's seed inside a forked RNG, and the fit runs full batch on one thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..models.threads import single_thread

MAX_ITER = 100
"""L-BFGS iterations of the ELBO fit: the variational covariance has n(n + 1)/2
parameters, and past ~100 iterations the probabilities barely move while the time grows."""


class FeasibilityModel:
    """A GP classifier of feasible (True) vs infeasible (False) points."""

    def __init__(self) -> None:
        self.model: Any = None
        self._constant = 1.0

    def fit(self, x: np.ndarray, feasible: np.ndarray, seed: int) -> FeasibilityModel:
        feasible = np.asarray(feasible, dtype=bool)
        self._constant = (feasible.sum() + 1.0) / (len(feasible) + 2.0)
        self.model = None
        if feasible.all() or not feasible.any():
            return self
        with single_thread():
            self.model = self._fit(np.asarray(x, dtype=np.float64), feasible, seed)
        return self

    @staticmethod
    def _fit(x: np.ndarray, feasible: np.ndarray, seed: int) -> Any:
        import torch
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskVariationalGP
        from gpytorch.kernels import MaternKernel, ScaleKernel
        from gpytorch.likelihoods import BernoulliLikelihood
        from gpytorch.mlls import VariationalELBO

        tx = torch.as_tensor(x, dtype=torch.float64)
        ty = torch.as_tensor(feasible, dtype=torch.float64).unsqueeze(-1)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            kernel = ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=tx.shape[-1]))
            model = SingleTaskVariationalGP(tx, ty, likelihood=BernoulliLikelihood(),
                                            covar_module=kernel, inducing_points=tx,
                                            learn_inducing_points=False)
            fit_gpytorch_mll(VariationalELBO(model.likelihood, model.model, num_data=len(ty)),
                             optimizer_kwargs={"options": {"maxiter": MAX_ITER}})
        model.eval()
        return model

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(feasible) of each row of `x`."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if self.model is None:
            return np.full(len(x), self._constant)
        import torch

        with single_thread(), torch.no_grad():
            latent = self.model.model(torch.as_tensor(x, dtype=torch.float64))
            return self.model.likelihood(latent).probs.numpy().astype(np.float64)
