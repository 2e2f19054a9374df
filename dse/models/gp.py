"""daBO's surrogate: an exact GP on standardised features (gpytorch)."""

from __future__ import annotations

import numpy as np

from ..errors import DseError

KERNELS = ("linear", "matern")


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
