"""Starlight (section 5.2.4): Starlight-Low's encoder under a GP head (deep kernel learning).

The encoder's weights are transferred from Starlight-Low, the decoder and predictor are
dropped, and a GP with a Matern-5/2 kernel (gamma priors on its lengthscale, outputscale
and noise) models ln EDP on the 2-D latent. Encoder and GP are fine-tuned together by
maximising the exact marginal log likelihood of the high-fidelity samples, so the latent
bends to what the expensive model measures while starting from what the cheap one taught.
The GP's variance is what a Bayesian search needs from its surrogate.

Inputs are raw `starlight_encoding.encode` rows, scaled with Starlight-Low's statistics.
"""

from __future__ import annotations

import copy

import numpy as np

from ..errors import DseError
from .starlight_low import StarlightLow
from .threads import single_thread

MIN_SAMPLES = 3


class Starlight:
    """fit(x_enc, ln_edp) on high-fidelity samples, then predict(x_enc) -> (mean, var)."""

    def __init__(self, low: StarlightLow, iterations: int = 150, lr: float = 0.01,
                 gp_lr: float = 0.05, seed: int = 0) -> None:
        self.low = low
        self.iterations = iterations
        self.lr = lr
        self.gp_lr = gp_lr
        self.seed = seed
        self._model = None

    def fit(self, x_enc: np.ndarray, log_edp: np.ndarray) -> Starlight:
        """Fine-tune the transferred encoder and fit the GP (deterministic for the seed)."""
        import gpytorch
        import torch

        x_enc = np.asarray(x_enc, dtype=np.float64)
        y = np.asarray(log_edp, dtype=np.float64).reshape(-1)
        if len(y) < MIN_SAMPLES or len(x_enc) != len(y):
            raise DseError(f"Starlight needs at least {MIN_SAMPLES} high-fidelity samples "
                           f"to fit, got {len(y)}")
        if not np.all(np.isfinite(y)):
            raise DseError("Starlight got a non-finite high-fidelity ln EDP")
        # Starlight-Low's output scaling, so the transferred predictor is the prior mean as is.
        self.y_mean, self.y_std = self.low.y_mean, self.low.y_std
        with single_thread():
            torch.manual_seed(self.seed)
            tx = self.low.standardise(x_enc).double()
            ty = torch.as_tensor((y - self.y_mean) / self.y_std, dtype=torch.float64)
            net = copy.deepcopy(self.low.net).double()
            with torch.no_grad():
                z0 = net.encode(tx)
                offset = float((ty - net.predictor(z0).squeeze(-1)).mean())
            model = _dkl(net, z0, tx, ty, offset)
            lik = model.likelihood
            model.train()
            lik.train()
            opt = torch.optim.Adam([
                {"params": [*net.encoder.parameters(), *net.mu.parameters(),
                            *net.predictor.parameters()], "lr": self.lr},
                {"params": [p for n, p in model.named_parameters() if not n.startswith("net.")],
                 "lr": self.gp_lr}])
            mll = gpytorch.mlls.ExactMarginalLogLikelihood(lik, model)
            with gpytorch.settings.cholesky_jitter(1e-6):
                for _ in range(self.iterations):
                    opt.zero_grad()
                    loss = -mll(model(tx), ty)
                    loss.backward()
                    opt.step()
            model.eval()
            lik.eval()
            self._model = model
            self._cache_posterior(tx, ty)
        return self

    def predict(self, x_enc: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of ln EDP (latent function, no observation noise).

        Exact GP posterior from a Cholesky factor kept after the fit, evaluated in float32
        chunks: a triangular solve per chunk is what makes 10^5 predictions/s on one core."""
        import torch

        if self._model is None:
            raise DseError("Starlight used before it was fitted")
        x_enc = np.asarray(x_enc, dtype=np.float64)
        means, variances = [], []
        with single_thread(), torch.no_grad():
            for i in range(0, len(x_enc), chunk):
                h = self._model.features(self.low.standardise(x_enc[i:i + chunk]).double())
                k = self._model.covar_module(h, self._h).to_dense().float()
                v = torch.linalg.solve_triangular(self._chol, k.T, upper=False)
                means.append((self._model.mean_module(h).float() + k @ self._alpha).numpy())
                variances.append((self._prior_var - v.pow(2).sum(0)).clamp_min(0.0).numpy())
        if not means:
            return np.zeros(0), np.zeros(0)
        mean = np.concatenate(means).astype(np.float64) * self.y_std + self.y_mean
        return mean, np.concatenate(variances).astype(np.float64) * self.y_std ** 2

    def _cache_posterior(self, tx, ty) -> None:
        """Cholesky factor of K + noise and the weights alpha of the training residuals."""
        import torch

        model = self._model
        with torch.no_grad():
            h = model.features(tx)
            k = model.covar_module(h).to_dense()
            noise = model.likelihood.noise.reshape(())
            chol = torch.linalg.cholesky(k + (noise + 1e-6) * torch.eye(len(h), dtype=k.dtype))
            alpha = torch.cholesky_solve((ty - model.mean_module(h)).unsqueeze(-1), chol)
        self._h = h
        self._chol = chol.float()
        self._alpha = alpha.squeeze(-1).float()
        self._prior_var = float(model.covar_module.outputscale.detach())


def _dkl(net, z0, tx, ty, offset: float):
    """The exact GP over the transferred encoder's latent (scaled by its initial spread on
    the training points, so the lengthscale prior means the same on every data set)."""
    import gpytorch
    import torch
    from gpytorch.priors import GammaPrior

    shift = z0.mean(0)
    scale = z0.std(0).clamp_min(1e-6) if len(z0) > 1 else torch.ones_like(shift)

    class PredictorMean(gpytorch.means.Mean):
        """a * transferred predictor + b, starting as Starlight-Low's own prediction."""

        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Parameter(torch.ones((), dtype=torch.float64))
            self.b = torch.nn.Parameter(torch.tensor(offset, dtype=torch.float64))

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            return self.a * h[..., -1] + self.b

    class DKL(gpytorch.models.ExactGP):
        def __init__(self) -> None:
            lik = gpytorch.likelihoods.GaussianLikelihood(
                noise_prior=GammaPrior(1.1, 0.05),
                noise_constraint=gpytorch.constraints.GreaterThan(1e-5))
            super().__init__(tx, ty, lik)
            self.net = net
            self.register_buffer("shift", shift)
            self.register_buffer("scale", scale)
            self.mean_module = PredictorMean()
            self.covar_module = gpytorch.kernels.ScaleKernel(
                gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=z0.shape[1] + 1,
                                              lengthscale_prior=GammaPrior(3.0, 6.0)),
                outputscale_prior=GammaPrior(2.0, 0.15))

        def features(self, x: torch.Tensor) -> torch.Tensor:
            """GP input: the scaled latent plus the transferred predictor's output."""
            z = self.net.encode(x)
            return torch.cat([(z - self.shift) / self.scale, self.net.predictor(z)], dim=-1)

        def forward(self, x: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
            h = self.features(x)
            return gpytorch.distributions.MultivariateNormal(self.mean_module(h),
                                                             self.covar_module(h))

    return DKL().double()
