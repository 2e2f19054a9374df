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
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from .errors import DseError
from .features import permutation_importance
from .searcher import HW_CONFIG, BatchSearcher, Domain, SearchConfig

KERNELS = ("linear", "matern")


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread: the GPs are tiny, so threads only add contention (and
    one thread keeps floating-point reductions in a fixed order)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class GPSurrogate:
    """Exact GP regression on standardised inputs and outputs (float64, CPU)."""

    def __init__(self, kernel: str = "linear", iterations: int = 60) -> None:
        if kernel not in KERNELS:
            raise DseError(f"unknown GP kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
        self.kernel = kernel
        self.iterations = iterations
        self._model = None

    def fit(self, x: np.ndarray, y: np.ndarray,
            population: np.ndarray | None = None) -> GPSurrogate:
        """`population`: points whose spread sets the input scaling (default: `x`). With
        the whole domain there, a feature the few training points barely vary does not
        blow up on candidates outside their range."""
        import gpytorch
        import torch

        pop = x if population is None else population
        self.x_mean = pop.mean(axis=0)
        std = pop.std(axis=0)
        self.x_std = np.where(std > 1e-12, std, 1.0)
        self.y_mean = float(y.mean())
        self.y_std = float(y.std()) or 1.0
        tx = torch.as_tensor((x - self.x_mean) / self.x_std, dtype=torch.float64)
        ty = torch.as_tensor((y - self.y_mean) / self.y_std, dtype=torch.float64)
        kernel_kind = self.kernel

        class _GP(gpytorch.models.ExactGP):
            def __init__(self, lik: gpytorch.likelihoods.Likelihood) -> None:
                super().__init__(tx, ty, lik)
                self.mean_module = gpytorch.means.ConstantMean()
                if kernel_kind == "linear":
                    self.covar_module = gpytorch.kernels.LinearKernel()
                else:
                    self.covar_module = gpytorch.kernels.ScaleKernel(
                        gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=tx.shape[1]))

            def forward(self, a: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
                return gpytorch.distributions.MultivariateNormal(self.mean_module(a),
                                                                 self.covar_module(a))

        lik = gpytorch.likelihoods.GaussianLikelihood(
            noise_constraint=gpytorch.constraints.GreaterThan(1e-4)).double()
        model = _GP(lik).double()
        model.train()
        lik.train()
        opt = torch.optim.Adam(model.parameters(), lr=0.1)
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(lik, model)
        with gpytorch.settings.cholesky_jitter(1e-6):
            for _ in range(self.iterations):
                opt.zero_grad()
                loss = -mll(model(tx), ty)
                loss.backward()
                opt.step()
        model.eval()
        lik.eval()
        self._model, self._lik = model, lik
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation in the original y units."""
        import gpytorch
        import torch

        if self._model is None:
            raise DseError("GP surrogate used before it was fitted")
        tx = torch.as_tensor((x - self.x_mean) / self.x_std, dtype=torch.float64)
        with torch.no_grad(), gpytorch.settings.fast_pred_var(False), \
                gpytorch.settings.cholesky_jitter(1e-6):
            post = self._model(tx)
            mu = post.mean.numpy()
            sd = post.variance.clamp_min(0.0).sqrt().numpy()
        return mu * self.y_std + self.y_mean, sd * self.y_std


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
