"""What both nevergrad footings share: the optimisers dlac registers, loading the optional
package, and silencing CMA's warning about the one-at-a-time ask/tell they use."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import DseError

OPTIMIZERS = {"cma": "CMA", "de": "DE", "pso": "PSO", "tbpsa": "TBPSA",
              "one-plus-one": "OnePlusOne", "portfolio": "Portfolio"}
"""Searcher name -> nevergrad registry name."""

FOOTINGS = ("hw", "joint")
"""`hw`: the optimiser proposes hardware, the driver's nested search maps it; `joint`:
it proposes DiGamma's whole genome (hardware and every layer's mapping)."""


def nevergrad() -> Any:
    try:
        import nevergrad as ng
    except ImportError:
        raise DseError("the nevergrad searchers need the nevergrad package: "
                       "pip install 'dlac[search]'") from None
    return ng


@contextmanager
def quiet() -> Iterator[None]:
    """nevergrad's CMA warns about its own sequential ask(1) use (cma's InjectionWarning)
    and, on the joint genome's hundreds of dimensions, about its step-size adaptation's
    mirrored-sample check (cma's TPA); the adapters ask and tell one candidate at a time by
    design."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="orphanated injected solution")
        warnings.filterwarnings("ignore", message="TPA: apparent inconsistency")
        yield


def make_optimizer(optimizer: str, dims: int, seed: int, budget: int | None) -> Any:
    """nevergrad's `optimizer` over the box [0, 1]^dims, seeded, one worker."""
    ng = nevergrad()
    param = ng.p.Array(shape=(dims,), lower=0.0, upper=1.0)
    param.random_state = np.random.RandomState(seed)
    return ng.optimizers.registry[optimizer](parametrization=param, budget=budget,
                                             num_workers=1)


def penalised(y: float, finite: list[float]) -> float:
    """A finite stand-in for an infeasible objective (one above the worst finite value so
    far): the evolution strategies need finite values to rank."""
    if np.isfinite(y):
        return float(y)
    return (max(finite) if finite else 0.0) + 1.0
