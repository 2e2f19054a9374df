"""The co-design headline: the chosen design's EDP against default Gemmini with its
heuristic mapping, on one footing. Every co-design number is a simulator number where
the simulator ran, so the ratio is the simulator's, printed beside the analytical model's
and with the simulator's cycle error on layers its constants never saw."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlac.sim.heldout import HeldOutError, held_out_error

from .evaluators import AnalyticalEvaluator
from .nested import HwResult, NestedEvaluator
from .validate import measure


def edp_ratio(default: Mapping[str, float], chosen: Mapping[str, float]) -> float | None:
    """Product of default Gemmini's per-model EDPs over the chosen design's (the minimised
    quantity's ratio); None unless both were measured on every model."""
    if not chosen or set(default) != set(chosen):
        return None
    return math.prod(default.values()) / math.prod(chosen.values())


def _edps(models: Mapping[str, Any]) -> dict[str, float]:
    return {k: v["edp"] if isinstance(v, Mapping) else v.edp for k, v in models.items()}


@dataclass(frozen=True)
class Headline:
    """EDP ratios (default / chosen; > 1 is better) and the simulator's held-out error."""

    simulated: float | None
    analytical: float | None
    error: HeldOutError

    @property
    def ratio(self) -> float | None:
        """The headline ratio: the simulator's when it ran, else the analytical model's."""
        return self.simulated if self.simulated is not None else self.analytical

    def to_dict(self) -> dict[str, Any]:
        return {"simulated_edp_ratio": self.simulated, "analytical_edp_ratio": self.analytical,
                "simulator_error": self.error.to_dict()}

    def sentence(self) -> str:
        """One line for the terminal and report.md."""
        if self.ratio is None:
            return "default Gemmini cannot run these models: no EDP ratio"
        if self.simulated is None:
            return (f"EDP {_times(self.ratio)} than default Gemmini on the analytical model "
                    "(not checked on the simulator)")
        analytical = "-" if self.analytical is None else _times(self.analytical)
        return (f"EDP {_times(self.simulated)} than default Gemmini on the simulator "
                f"(analytical model: {analytical}); simulator cycle error on held-out layers "
                f"+/-{100 * self.error.mape:.1f}% MAPE (worst fold "
                f"{100 * self.error.worst_fold_mape:.1f}%)")


def _times(ratio: float) -> str:
    return f"{ratio:.3g}x lower" if ratio >= 1 else f"{1 / ratio:.3g}x higher"


def headline(nested: NestedEvaluator, evaluator: str, best: HwResult, default: HwResult,
             validation: Mapping[str, Any]) -> Headline:
    """Both footings of the chosen design against default Gemmini's heuristic mapping: a
    search on the simulator is re-costed on the analytical model, a search on the model
    takes the simulator's numbers from the finalists' check (`validation`), if it ran."""
    if not default.feasible:
        return Headline(None, None, held_out_error())
    if evaluator == "sim":
        model = AnalyticalEvaluator()
        analytical = edp_ratio(_edps(measure(nested, default, model)["models"]),
                               _edps(measure(nested, best, model)["models"]))
        return Headline(edp_ratio(_edps(default.models), _edps(best.models)), analytical,
                        held_out_error())
    simulated = None
    if "chosen" in validation and "default_heuristic" in validation:
        simulated = edp_ratio(_edps(validation["default_heuristic"].get("models", {})),
                              _edps(validation["chosen"].get("models", {})))
    return Headline(simulated, edp_ratio(_edps(default.models), _edps(best.models)),
                    held_out_error())
