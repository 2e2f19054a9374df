"""What Polaris needs of its surrogate: Starlight, or a plain GP for quick runs.

Polaris scores (hardware, layer, mapping) points. A `PointModel` encodes the points of a
realised design (`encode`), re-reads encoded rows on a relaxed design of the continuous
box (`relax`: the rows' HW size columns replaced by the box point's, e.g. a 6.8x6.8
array, everything else kept) and predicts the mean and variance of ln layer cost from
the high-fidelity samples it was fitted on. Polaris makes a fresh one for every refit, so
a refit depends only on the data (resume replays the data, not the model).

`starlight` (the default): Starlight (dse/models/starlight.py) on its own encoding, the
encoder transferred from Starlight-Low, which is trained once per hardware space and
cached on disk (a progress bar while it trains). `gp`: an exact Matern-5/2 GP
(dse/models/gp.py) on log-scaled raw parameters, no pre-training (the quick stand-in the
tests use).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from dlac.ir.target import Target
from dlac.passes.mapping import Layer, MappingBatch
from dlac.passes.mapping.layer import CANON

from ..errors import DseError
from ..hwspace import HwSpace
from ..models import starlight_encoding
from ..models.gp import GPSurrogate
from ..models.starlight import MIN_SAMPLES, Starlight
from ..models.starlight_low import LowConfig, StarlightLow, load_or_train
from .hw_box import raw_of

MODELS = ("starlight", "gp")


class PointModel(Protocol):
    """Encoding of points plus a regression of ln cost on them."""

    def encode(self, target: Target, layer: Layer, batch: MappingBatch) -> np.ndarray:
        """One row per mapping of `batch` of `layer` on `target`."""
        ...

    def relax(self, x: np.ndarray, hw: np.ndarray) -> np.ndarray:
        """Rows `x` on the hardware of raw parameters `hw` (hw_box.RAW_NAMES, one row)."""
        ...

    def fit(self, x: np.ndarray, y: np.ndarray) -> object:
        ...

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of y at rows `x`."""
        ...


class GpPointModel:
    """The stand-in: a Matern GP on the log-scaled raw point (HW columns first)."""

    min_samples = 2

    def __init__(self, seed: int = 0) -> None:
        self._gp = GPSurrogate("matern", iterations=30)

    def encode(self, target: Target, layer: Layer, batch: MappingBatch) -> np.ndarray:
        n = len(batch)
        sizes = np.log2(np.array([layer.canonical()[s] for s in CANON], dtype=np.float64))
        return np.concatenate([np.broadcast_to(self._hw_cols(raw_of(target)), (n, 5)),
                               np.broadcast_to(sizes, (n, len(sizes))),
                               np.log2(batch.tiles.T.astype(np.float64)),
                               batch.rank.T / (len(CANON) - 1),
                               batch.os[:, None].astype(np.float64)], axis=1)

    @staticmethod
    def _hw_cols(hw: np.ndarray) -> np.ndarray:
        logs = np.log2(np.maximum(hw[[0, 1, 2, 4]], 1.0))
        return np.array([logs[0], logs[1], logs[2], hw[3], logs[3]])

    def relax(self, x: np.ndarray, hw: np.ndarray) -> np.ndarray:
        out = x.copy()
        out[:, :5] = self._hw_cols(hw)
        return out

    def fit(self, x: np.ndarray, y: np.ndarray) -> GpPointModel:
        self._gp.fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gpytorch warns when x repeats its training data
            mu, sd = self._gp.predict(x)
        return mu, sd * sd


_SIZES = [starlight_encoding.HW_FEATURES.index(n)
          for n in ("log2_dim", "log2_sp_kib", "log2_acc_kib", "log2_bus_bits")]


class StarlightPointModel:
    """Starlight on `starlight_encoding` rows; relaxing replaces the HW size columns."""

    min_samples = MIN_SAMPLES

    def __init__(self, low: StarlightLow, seed: int = 0) -> None:
        self._model = Starlight(low, seed=seed)

    def encode(self, target: Target, layer: Layer, batch: MappingBatch) -> np.ndarray:
        return starlight_encoding.encode(target, layer, batch)

    def relax(self, x: np.ndarray, hw: np.ndarray) -> np.ndarray:
        out = x.copy()
        out[:, _SIZES] = np.log2(np.maximum(hw[[0, 1, 2, 4]], 1.0))
        return out

    def fit(self, x: np.ndarray, y: np.ndarray) -> StarlightPointModel:
        self._model.fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._model.predict(x)


@dataclass
class ModelFactory:
    """Makes fresh point models of one kind (Starlight-Low loaded once, in `prepare`)."""

    name: str
    low_points: int = LowConfig.points
    low_epochs: int = LowConfig.epochs
    retrain: bool = False
    progress: bool = True
    low: StarlightLow | None = None

    def __post_init__(self) -> None:
        if self.name not in MODELS:
            raise DseError(f"polaris: unknown surrogate {self.name!r}; choose one of "
                           f"{', '.join(MODELS)}")

    def prepare(self, space: HwSpace) -> None:
        """Load (or train and cache) Starlight-Low for `space`."""
        if self.name == "starlight" and self.low is None:
            config = LowConfig(points=self.low_points, epochs=self.low_epochs)
            self.low = load_or_train(space, config=config, retrain=self.retrain,
                                     progress=self.progress)

    @property
    def min_samples(self) -> int:
        return MIN_SAMPLES if self.name == "starlight" else GpPointModel.min_samples

    def make(self, seed: int) -> PointModel:
        if self.name == "gp":
            return GpPointModel(seed)
        if self.low is None:
            raise DseError("polaris: Starlight used before Starlight-Low was loaded")
        return StarlightPointModel(self.low, seed)
