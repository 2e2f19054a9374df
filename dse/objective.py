"""What the co-design minimises: a model's EDP (default), latency or energy.

Every searcher minimises the sum over models of log(metric), so several models weigh
equally whatever their scale; the per-layer mapping search picks each layer's mapping by
the same metric of the layer alone (for latency and energy exactly what the model total
needs, since both add over layers; for EDP the usual per-layer proxy). The area budget
is a constraint under every objective, never part of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DseError

OBJECTIVES = ("edp", "latency", "energy")


def check(goal: str) -> str:
    if goal not in OBJECTIVES:
        raise DseError(f"unknown objective {goal!r}; choose one of {', '.join(OBJECTIVES)}")
    return goal


def metric(cycles: Any, energy_pj: Any, goal: str) -> Any:
    """The minimised quantity of costs (floats or arrays): cycles x energy, cycles or
    energy."""
    if goal == "latency":
        return cycles
    if goal == "energy":
        return energy_pj
    return np.multiply(cycles, energy_pj)


def label(goal: str) -> str:
    """Axis and table label of a goal's metric."""
    return {"edp": "EDP (pJ x cycles)", "latency": "latency (cycles)",
            "energy": "energy (pJ)"}[goal]
