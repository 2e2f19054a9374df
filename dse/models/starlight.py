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
VARIANCE_TOL = 1e-3
"""Largest variance error `predict` accepts, as a fraction of the GP's prior variance."""


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

    def predict(self, x_enc: np.ndarray, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of ln EDP (latent function, no observation noise).

        The fitted GP's posterior evaluated in float32 from what the fit kept (the network
        as weight matrices, the Matern-5/2 kernel written out, the variance's low-rank
        factor): per chunk of 1024 points (its kernel rows stay in cache) the network,
        the squared distances by one matrix product, mean and variance by another, with
        every elementwise step in place. That makes > 10^5 predictions/s on one core."""
        import torch

        if self._model is None:
            raise DseError("Starlight used before it was fitted")
        n = len(x_enc)
        if n == 0:
            return np.zeros(0), np.zeros(0)
        mean, var = torch.empty(n), torch.empty(n)
        c = self._cache
        with single_thread(), torch.no_grad():
            tx = self.low.standardise(np.asarray(x_enc, dtype=np.float64))
            for i in range(0, n, chunk):
                z = _mlp_apply(c["encoder"], tx[i:i + chunk])
                p = _mlp_apply(c["predictor"], z)
                h = torch.cat([z.sub_(c["shift"]).div_(c["scale"]), p], dim=-1)
                h.div_(c["lengthscale"])
                # Matern-5/2 of d = sqrt(5) |h - h_i| / lengthscale: (1 + d + d^2 / 3) e^-d
                d2 = torch.addmm(c["h_sq"], h, c["h_t"], alpha=-2.0)
                d2.add_(h.square().sum(1, keepdim=True)).clamp_min_(0.0)
                d = d2.sqrt()
                k = d2.mul_(1.0 / 3.0).add_(d).add_(1.0).mul_(d.neg_().exp_())
                kr = k @ c["root"]
                mean[i:i + chunk] = p[:, 0].mul_(self._a).add_(self._b).add_(kr[:, 0])
                var[i:i + chunk] = kr[:, 1:].square_().sum(1).neg_().add_(
                    self._prior_var).clamp_min_(0.0)
        return (mean.numpy().astype(np.float64) * self.y_std + self.y_mean,
                var.numpy().astype(np.float64) * self.y_std ** 2)

    def _cache_posterior(self, h, ty) -> None:
        """What `predict` needs, in float32: the network's weights, the training features
        over the lengthscales / sqrt(5), and one matrix for both products: alpha = (K + noise)^-1
        (y - mean), then a low-rank root R of the variance, k^T (K + noise)^-1 k ~ |k^T R|^2
        (both times the outputscale, which the kernel rows leave out).

        R keeps the eigenvectors u_i of the noise-free K whose lambda_i / (lambda_i + noise)
        exceeds VARIANCE_TOL, scaled by 1 / sqrt(lambda_i + noise). Dropping the others
        changes the variance by at most VARIANCE_TOL x the prior variance: direction i
        contributes (u_i^T k)^2 / (lambda_i + noise), and sum_i (u_i^T k)^2 / lambda_i <=
        k(x, x) for any x (RKHS). On 500 simulator samples this keeps ~260 of 500
        directions and the variance moves by ~1e-5 of the prior variance (docs/starlight.md)."""
        import torch

        model = self._model
        k = model.covar_module(h).to_dense().detach()
        noise = float(model.likelihood.noise.detach()) + 1e-6
        chol = torch.linalg.cholesky(k + noise * torch.eye(len(h), dtype=k.dtype))
        alpha = torch.cholesky_solve((ty - model.mean_module(h)).detach().unsqueeze(-1), chol)
        lam, u = torch.linalg.eigh(k)
        keep = lam / (lam + noise) > VARIANCE_TOL
        self._prior_var = float(model.covar_module.outputscale.detach())
        lengthscale = model.covar_module.base_kernel.lengthscale.detach().reshape(-1) / 5 ** 0.5
        h_scaled = h / lengthscale
        self._a = float(model.mean_module.a.detach())
        self._b = float(model.mean_module.b.detach())
        self.variance_rank = int(keep.sum())
        self._cache = {
            "encoder": _linear_layers([*self._net.encoder, self._net.mu]),
            "predictor": _linear_layers(list(self._net.predictor)),
            "shift": self._shift.float(), "scale": self._scale.float(),
            "lengthscale": lengthscale.float(),
            "h_t": h_scaled.T.contiguous().float(), "h_sq": h_scaled.square().sum(1).float(),
            "root": torch.cat([alpha * self._prior_var,
                               u[:, keep] * (self._prior_var / (lam[keep] + noise).sqrt())],
                              dim=1).float(),
        }


def _linear_layers(modules) -> list:
    """(W^T, b, relu after) per Linear of a Sequential, float32, for `_mlp_apply`."""
    import torch

    out = []
    for i, m in enumerate(modules):
        if isinstance(m, torch.nn.Linear):
            relu = i + 1 < len(modules) and isinstance(modules[i + 1], torch.nn.ReLU)
            out.append((m.weight.detach().T.contiguous().float(), m.bias.detach().float(), relu))
    return out


def _mlp_apply(layers: list, a):
    """The network without module dispatch: addmm, then ReLU in place."""
    import torch

    for w, b, relu in layers:
        a = torch.addmm(b, a, w)
        if relu:
            a.relu_()
    return a


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
