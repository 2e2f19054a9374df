"""Starlight-Low (section 5.2.3): a VAE with a predictor head, pre-trained on analytical EDP.

Encoder 40-24-12-2 (fully connected, ReLU; the 2-D latent's mean and log-variance), a
mirrored decoder that reproduces the standardised input, and a predictor 2-64-256-256-64-1
on the latent. Loss: MSE of the standardised ln EDP + reconstruction MSE + KL to a unit
Gaussian; the predictor is what gives the latent its EDP structure (Figure 5.3), and the
encoder is what Starlight transfers.

Training data is 2^16 joint Sobol points scored by the analytical model, trained once per
(analytical model, hardware space, layers, settings) and cached at
`$DLAC_CACHE/starlight/<key>.pt` (default ~/.cache/dlac), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from dlac.flow.spike_cache import cache_root
from dlac.passes.mapping import Layer

from ..errors import DseError
from ..evaluators import AnalyticalEvaluator
from ..hwspace import HwSpace, load_space
from . import starlight_data, starlight_encoding
from .starlight_data import analytical_dataset, joint_sobol, zoo_layers
from .starlight_encoding import Standardizer
from .threads import single_thread

ENCODER = (40, 24, 12)
LATENT = 2
PREDICTOR = (64, 256, 256, 64)


@dataclass(frozen=True)
class LowConfig:
    """How Starlight-Low is trained (all of it enters the cache key)."""

    points: int = 1 << 16
    per_pair: int = 32
    epochs: int = 40
    batch_size: int = 256
    lr: float = 3e-3
    recon_weight: float = 0.1
    kl_weight: float = 1e-3
    analytical: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.points < self.per_pair or self.epochs < 1 or self.batch_size < 1:
            raise DseError(f"Starlight-Low needs at least {self.per_pair} training points "
                           f"and 1 epoch, got {self.points} points, {self.epochs} epochs")


def _mlp(sizes: Sequence[int], last_relu: bool):
    from torch import nn

    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False)):
        layers.append(nn.Linear(a, b))
        if last_relu or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def build_net(in_width: int):
    """The three networks; `LowNet.encode` is the part Starlight transfers."""
    import torch
    from torch import nn

    class LowNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = _mlp((in_width, *ENCODER), last_relu=True)
            self.mu = nn.Linear(ENCODER[-1], LATENT)
            self.logvar = nn.Linear(ENCODER[-1], LATENT)
            self.decoder = _mlp((LATENT, *reversed(ENCODER), in_width), last_relu=False)
            self.predictor = _mlp((LATENT, *PREDICTOR, 1), last_relu=False)

        def encode(self, x: torch.Tensor) -> torch.Tensor:
            return self.mu(self.encoder(x))

        def forward(self, x: torch.Tensor, sample: bool = False):
            h = self.encoder(x)
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu
            return self.predictor(z).squeeze(-1), self.decoder(z), mu, logvar

    return LowNet()


@dataclass
class StarlightLow:
    """A trained Starlight-Low: the network plus its input and output scaling."""

    net: object
    x_scale: Standardizer
    y_mean: float
    y_std: float
    analytical: bool
    train_seconds: float
    key: str

    @property
    def width(self) -> int:
        return len(self.x_scale.mean)

    def standardise(self, x_enc: np.ndarray):
        import torch

        return torch.as_tensor(self.x_scale.apply(np.asarray(x_enc, dtype=np.float64)),
                               dtype=torch.float32)

    def predict(self, x_enc: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
        """ln EDP of raw encodings (`starlight_encoding.encode` rows)."""
        import torch

        out = []
        with single_thread(), torch.no_grad():
            for i in range(0, len(x_enc), chunk):
                pred, _, _, _ = self.net(self.standardise(x_enc[i:i + chunk]))
                out.append(pred.numpy().astype(np.float64))
        return np.concatenate(out) * self.y_std + self.y_mean if out else np.zeros(0)

    def state(self) -> dict[str, object]:
        return {"net": self.net.state_dict(), "x_mean": self.x_scale.mean.tolist(),
                "x_std": self.x_scale.std.tolist(), "y_mean": self.y_mean,
                "y_std": self.y_std, "analytical": self.analytical,
                "train_seconds": self.train_seconds, "key": self.key}

    @classmethod
    def from_state(cls, state: dict) -> StarlightLow:
        scale = Standardizer(np.array(state["x_mean"]), np.array(state["x_std"]))
        net = build_net(len(scale.mean))
        net.load_state_dict(state["net"])
        net.eval()
        return cls(net, scale, float(state["y_mean"]), float(state["y_std"]),
                   bool(state["analytical"]), float(state["train_seconds"]), str(state["key"]))


def _source_digest() -> str:
    h = hashlib.sha256()
    for mod in (starlight_encoding, starlight_data):
        h.update(Path(mod.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:12]


def cache_key(space: HwSpace, layers: Sequence[Layer], config: LowConfig) -> str:
    """Digest of the analytical model's version, the space, the layers and the settings."""
    text = json.dumps({"model": AnalyticalEvaluator().cache_key, "code": _source_digest(),
                       "space": space.to_dict(), "config": asdict(config),
                       "layers": [layer.workload_hash() for layer in layers]}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(key: str) -> Path:
    return cache_root() / "starlight" / f"{key}.pt"


def train(space: HwSpace, layers: Sequence[Layer], config: LowConfig = LowConfig(),
          progress: bool = True, key: str = "") -> StarlightLow:
    """Sample, score and fit Starlight-Low (deterministic for `config.seed`)."""
    import torch

    start = time.perf_counter()
    groups = joint_sobol(space, layers, config.points, config.per_pair, config.seed)
    x, y = analytical_dataset(groups, config.analytical)
    scale = Standardizer.fit(x)
    y_mean, y_std = float(y.mean()), float(y.std()) or 1.0
    with single_thread():
        torch.manual_seed(config.seed)
        tx = torch.as_tensor(scale.apply(x), dtype=torch.float32)
        ty = torch.as_tensor((y - y_mean) / y_std, dtype=torch.float32)
        net = build_net(x.shape[1])
        opt = torch.optim.Adam(net.parameters(), lr=config.lr)
        steps = config.epochs * -(-len(tx) // config.batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=steps)
        gen = torch.Generator().manual_seed(config.seed)
        with _bar(progress, config.epochs) as advance:
            for _ in range(config.epochs):
                order = torch.randperm(len(tx), generator=gen)
                for i in range(0, len(tx), config.batch_size):
                    idx = order[i:i + config.batch_size]
                    pred, recon, mu, logvar = net(tx[idx], sample=True)
                    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1).mean()
                    loss = (torch.nn.functional.mse_loss(pred, ty[idx])
                            + config.recon_weight * torch.nn.functional.mse_loss(recon, tx[idx])
                            + config.kl_weight * kl)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    sched.step()
                advance()
    net.eval()
    return StarlightLow(net, scale, y_mean, y_std, config.analytical,
                        time.perf_counter() - start, key)


class _bar:
    """A rich progress bar over epochs (silent when `show` is false)."""

    def __init__(self, show: bool, total: int) -> None:
        self.show, self.total = show, total

    def __enter__(self):
        if not self.show:
            return lambda: None
        from rich.progress import Progress

        self._progress = Progress(transient=True)
        self._progress.start()
        task = self._progress.add_task("training Starlight-Low", total=self.total)
        return lambda: self._progress.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.show:
            self._progress.stop()


def load(path: Path) -> StarlightLow:
    """A cached model; a file that does not load is one DseError naming it."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        return StarlightLow.from_state(state)
    except Exception as err:  # noqa: BLE001 - any failure to read means a corrupt file
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DseError(f"{path}: corrupt Starlight-Low cache ({reason[:120]}); delete it "
                       "or retrain (dlac-starlight train --retrain)") from None


def load_or_train(hw_space: str | HwSpace = "edge", layers: Sequence[Layer] | None = None,
                  config: LowConfig = LowConfig(), retrain: bool = False,
                  progress: bool = True) -> StarlightLow:
    """The cached Starlight-Low of this space, trained (and cached) when missing."""
    space = load_space(hw_space) if isinstance(hw_space, str) else hw_space
    layers = zoo_layers() if layers is None else list(layers)
    key = cache_key(space, layers, config)
    path = cache_path(key)
    if path.exists() and not retrain:
        return load(path)
    model = train(space, layers, config, progress, key)
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(model.state(), tmp)
    os.replace(tmp, path)
    return model
