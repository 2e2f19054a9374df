"""Mapping search on a fixed target: pick one mapping per layer.

The `dlac --mapper {heuristic,random,exhaustive,analytical-best}` choices. `exhaustive`
scores every legal mapping with the analytical model (small spaces only); `analytical-best`
scores the heuristic's mapping plus `samples` uniform draws and keeps the best, so it is
never worse than the heuristic under the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from dlac.ir.target import Target

from .analytical import AnalyticalModel, ModelParams
from .batch import MappingBatch
from .errors import MappingError
from .heuristic import heuristic_mapping
from .layer import Layer
from .mapping import Mapping
from .space import MappingSpace

MAPPERS = ("heuristic", "random", "exhaustive", "analytical-best")
Objective = Literal["cycles", "energy_pj", "edp"]


@dataclass(frozen=True)
class Choice:
    """The chosen mapping and what the model predicts for it."""

    layer: Layer
    mapping: Mapping
    cycles: float
    energy_pj: float
    candidates: int


def choose(layer: Layer, target: Target, mapper: str = "heuristic", *, seed: int = 0,
           samples: int = 20_000, objective: Objective = "cycles",
           exhaustive_limit: int = 200_000, params: ModelParams | None = None) -> Choice:
    if mapper not in MAPPERS:
        raise MappingError(f"unknown mapper {mapper!r}; choose one of {', '.join(MAPPERS)}")
    model = AnalyticalModel(layer, target, params)
    space = MappingSpace(layer, target)
    if mapper == "heuristic":
        batch = MappingBatch.from_mappings(layer, [heuristic_mapping(layer, target)])
    elif mapper == "random":
        batch = space.sample(1, seed=seed)
    elif mapper == "exhaustive":
        batch = MappingBatch.from_mappings(layer, list(space.enumerate(exhaustive_limit)))
    else:
        heur = MappingBatch.from_mappings(layer, [heuristic_mapping(layer, target)])
        batch = MappingBatch.concat([heur, space.sample(samples, seed=seed)])
    cost = model.evaluate(batch)
    best = int(np.argmin(getattr(cost, objective)))
    return Choice(layer, batch.mapping(layer, best), float(cost.cycles[best]),
                  float(cost.energy_pj[best]), len(batch))
