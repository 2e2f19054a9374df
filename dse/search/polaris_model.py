"""What Polaris needs of its surrogate, and the stand-in it uses until Starlight is there.

Polaris scores (hardware, layer, mapping) points. The hardware is given by its raw
parameters (`hw_box.RAW_NAMES`), so a point of the relaxed box (a 6.8x6.8 array) is as
scorable as a realised design. A `PointModel` encodes such points and predicts the mean
and variance of log layer cost from the high-fidelity samples it was fitted on; Polaris
makes a fresh one for every refit, so a refit depends only on the data (resume replays
the data, not the model).

`gp`: an exact Matern-5/2 GP (dse/models/gp.py) on log-scaled parameters: HW, the layer's
canonical dims, the mapping's canonical tiles, DRAM loop positions and dataflow.
"""

from __future__ import annotations

import warnings
from typing import Protocol

import numpy as np
from dlac.passes.mapping import Layer, MappingBatch
from dlac.passes.mapping.layer import CANON

from ..errors import DseError
from ..models.gp import GPSurrogate

MODELS = ("gp",)


class PointModel(Protocol):
    """Encoding of points plus a regression of log cost on them."""

    def encode(self, hw: np.ndarray, layer: Layer, batch: MappingBatch) -> np.ndarray:
        """Rows for `batch`'s mappings of `layer` on the hardware `hw`: one RAW row for all
        of them, or one per mapping."""
        ...

    def fit(self, x: np.ndarray, y: np.ndarray) -> object:
        ...

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of y at rows `x`."""
        ...


class GpPointModel:
    """The stand-in: a Matern GP on the log-scaled raw point."""

    def __init__(self) -> None:
        self._gp = GPSurrogate("matern", iterations=30)

    def encode(self, hw: np.ndarray, layer: Layer, batch: MappingBatch) -> np.ndarray:
        n = len(batch)
        hw = np.broadcast_to(np.atleast_2d(hw), (n, 5))
        logs = np.log2(np.maximum(hw[:, [0, 1, 2, 4]], 1.0))
        hw_cols = np.concatenate([logs[:, :3], hw[:, [3]], logs[:, 3:]], axis=1)
        sizes = np.log2(np.array([layer.canonical()[s] for s in CANON], dtype=np.float64))
        return np.concatenate([hw_cols,
                               np.broadcast_to(sizes, (n, len(sizes))),
                               np.log2(batch.tiles.T.astype(np.float64)),
                               batch.rank.T / (len(CANON) - 1),
                               batch.os[:, None].astype(np.float64)], axis=1)

    def fit(self, x: np.ndarray, y: np.ndarray) -> GpPointModel:
        self._gp.fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gpytorch warns when x repeats its training data
            mu, sd = self._gp.predict(x)
        return mu, sd * sd


def make_model(name: str) -> PointModel:
    if name not in MODELS:
        raise DseError(f"polaris: unknown surrogate {name!r}; choose one of "
                       f"{', '.join(MODELS)}")
    return GpPointModel()
