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
    """fit(x_enc, ln_edp) on high-fidelity samples, then predict(x_enc) -> (mean, var).

    The fit has two phases: `iterations` steps of the GP's hyperparameters alone on the
    transferred features (cheap: the features are computed once), then
    `finetune_iterations` steps of encoder, predictor and GP together at the network
    learning rate `lr`. The second phase is short and gentle on purpose: on layers the
    samples never covered, long fine-tuning fits the network to the sampled layers and
    lowers rho (docs/starlight.md)."""

    def __init__(self, low: StarlightLow, iterations: int = 150, lr: float = 1e-3,
                 gp_lr: float = 0.05, seed: int = 0, finetune_iterations: int = 30) -> None:
        self.low = low
        self.iterations = iterations
        self.finetune_iterations = finetune_iterations
        self.lr = lr
        self.gp_lr = gp_lr
        self.seed = seed
        self._model = None

    def fit(self, x_enc: np.ndarray, log_edp: np.ndarray) -> Starlight:
        """Fit the GP, then fine-tune end to end (deterministic for the seed)."""
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
            self._net = copy.deepcopy(self.low.net).double()
            with torch.no_grad():
                z0 = self._net.encode(tx)
                self._shift = z0.mean(0)
                self._scale = (z0.std(0).clamp_min(1e-6) if len(z0) > 1
                               else torch.ones_like(self._shift))
                h0 = self._features(tx)
            gp = _head(h0, ty, float((ty - h0[:, -1]).mean()))
            self._model = gp
            gp.train()
            mll = gpytorch.mlls.ExactMarginalLogLikelihood(gp.likelihood, gp)
            with gpytorch.settings.cholesky_jitter(1e-6):
                opt = torch.optim.Adam(gp.parameters(), lr=self.gp_lr)
                for _ in range(self.iterations):
                    opt.zero_grad()
                    (-mll(gp(h0), ty)).backward()
                    opt.step()
                if self.finetune_iterations and self.lr > 0:
                    opt = torch.optim.Adam([{"params": self._net.parameters(), "lr": self.lr},
                                            {"params": gp.parameters(), "lr": self.gp_lr}])
                    for _ in range(self.finetune_iterations):
                        opt.zero_grad()
                        h = self._features(tx)
                        gp.set_train_data(h, ty, strict=False)
                        (-mll(gp(h), ty)).backward()
                        opt.step()
            gp.eval()
            with torch.no_grad():
                self._cache_posterior(self._features(tx), ty)
        return self

    def _features(self, tx):
        """GP input: the scaled latent plus the transferred predictor's output."""
        import torch

        z = self._net.encode(tx)
        return torch.cat([(z - self._shift) / self._scale, self._net.predictor(z)], dim=-1)

    def predict(self, x_enc: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of ln EDP (latent function, no observation noise).

        The exact posterior of the fitted GP, evaluated in float32 from what the fit kept
        (a float32 copy of the network, the inverse Cholesky factor, the Matern-5/2 kernel
        written out): per chunk the network and three matrix products, which is what makes
        10^5 predictions/s on one core."""
        import torch

        if self._model is None:
            raise DseError("Starlight used before it was fitted")
        x_enc = np.asarray(x_enc, dtype=np.float64)
        means, variances = [], []
        with single_thread(), torch.no_grad():
            for i in range(0, len(x_enc), chunk):
                h = self._features32(self.low.standardise(x_enc[i:i + chunk]))
                d = torch.cdist(h / self._lengthscale, self._h_scaled) * 5.0 ** 0.5
                k = self._prior_var * (1.0 + d + d * d / 3.0) * torch.exp(-d)
                v = k @ self._chol_inv_t
                means.append((self._a * h[:, -1] + self._b + k @ self._alpha).numpy())
                variances.append((self._prior_var - v.pow(2).sum(1)).clamp_min(0.0).numpy())
        if not means:
            return np.zeros(0), np.zeros(0)
        mean = np.concatenate(means).astype(np.float64) * self.y_std + self.y_mean
        return mean, np.concatenate(variances).astype(np.float64) * self.y_std ** 2

    def _features32(self, tx):
        import torch

        z = self._net32.encode(tx)
        return torch.cat([(z - self._shift32) / self._scale32, self._net32.predictor(z)], dim=-1)

    def _cache_posterior(self, h, ty) -> None:
        """Cholesky factor of K + noise, the weights alpha of the training residuals and
        float32 copies of everything `predict` needs."""
        import torch

        model = self._model
        k = model.covar_module(h).to_dense()
        noise = model.likelihood.noise.reshape(())
        chol = torch.linalg.cholesky(k + (noise + 1e-6) * torch.eye(len(h), dtype=k.dtype))
        alpha = torch.cholesky_solve((ty - model.mean_module(h)).unsqueeze(-1), chol)
        self._lengthscale = model.covar_module.base_kernel.lengthscale.detach().float()
        self._h_scaled = h.float() / self._lengthscale
        eye = torch.eye(len(h), dtype=chol.dtype)
        self._chol_inv_t = torch.linalg.solve_triangular(chol, eye, upper=False).T.float()
        self._alpha = alpha.squeeze(-1).float()
        self._prior_var = float(model.covar_module.outputscale.detach())
        self._a = float(model.mean_module.a.detach())
        self._b = float(model.mean_module.b.detach())
        self._net32 = copy.deepcopy(self._net).float()
        self._shift32, self._scale32 = self._shift.float(), self._scale.float()


def _head(h, ty, offset: float):
    """The GP on Starlight's features: mean a * (transferred prediction) + b, starting as
    Starlight-Low's own prediction; Matern-5/2 kernel with gamma priors."""
    import gpytorch
    import torch
    from gpytorch.priors import GammaPrior

    class PredictorMean(gpytorch.means.Mean):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Parameter(torch.ones((), dtype=torch.float64))
            self.b = torch.nn.Parameter(torch.tensor(offset, dtype=torch.float64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.a * x[..., -1] + self.b

    class Head(gpytorch.models.ExactGP):
        def __init__(self) -> None:
            lik = gpytorch.likelihoods.GaussianLikelihood(
                noise_prior=GammaPrior(1.1, 0.05),
                noise_constraint=gpytorch.constraints.GreaterThan(1e-5))
            super().__init__(h, ty, lik)
            self.mean_module = PredictorMean()
            self.covar_module = gpytorch.kernels.ScaleKernel(
                gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=h.shape[1],
                                              lengthscale_prior=GammaPrior(3.0, 6.0)),
                outputscale_prior=GammaPrior(2.0, 0.15))

        def forward(self, x: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
            return gpytorch.distributions.MultivariateNormal(self.mean_module(x),
                                                             self.covar_module(x))

    return Head().double()
