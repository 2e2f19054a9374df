"""The Gemmini calls of a model that no mapping controls, costed per design.

Besides its mapped convs and matmuls, an emitted model runs library calls the search
does not map: residual adds (tiled_resadd_auto), average pools run as matmuls with a ones
row and the matrices of batched matmuls (tiled_matmul_auto). Their cost does not depend
on any mapping but does depend on the design (array, bus, memories), so, like the host
steps, every design's totals include them, costed by the run's evaluator
(`Evaluator.step_cost`): the simulator evaluator times them once per design on the
timing-only simulator (`timed_step_cost`; it compiles each design's library anyway); the
analytical evaluator costs them without one (a matmul through tiled_matmul_auto's tiling
and the analytical model, a resadd through resadd.py), so an analytical search compiles
no simulator library however many new designs it scores.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from dlac.ir.target import Target
from dlac.sim import SimError, Simulator

from .errors import DseError


@dataclass(frozen=True)
class AccelStep:
    """One unmapped library call: `kind` resadd (dims I, J) or matmul (dims I, J, K,
    `bias` a repeated row); `relu` for a resadd that applies ReLU."""

    kind: str
    dims: tuple[int, ...]
    bias: bool = False
    relu: bool = False

    def key(self) -> str:
        flags = ("+bias" if self.bias else "") + ("+relu" if self.relu else "")
        return f"{self.kind}{'x'.join(str(d) for d in self.dims)}{flags}"

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "dims": list(self.dims), "bias": self.bias,
                "relu": self.relu}


AccelSteps = list[tuple[AccelStep, int]]
"""A model's unmapped calls with how often each occurs."""


@lru_cache(maxsize=4096)
def _timed(step: AccelStep, target_json: str) -> tuple[float, float]:
    target = Target.from_dict(json.loads(target_json))
    sim = Simulator(target, timing_only=True)
    try:
        if step.kind == "resadd":
            sim.resadd_shape(*step.dims, relu=step.relu)
        elif step.kind == "matmul":
            sim.matmul_shape(*step.dims, bias=step.bias, repeating_bias=True)
        else:
            raise DseError(f"unknown accelerator step kind {step.kind!r}")
        stats = sim.stats
        return float(stats.host_cycles), float(stats.energy_pj)
    except SimError as err:
        raise DseError(f"the simulator cannot run {step.key()} on {target.name}: "
                       f"{err}") from None
    finally:
        sim.close()


StepCost = Callable[[AccelStep, Target], tuple[float, float]]
"""(cycles, energy_pj) of one call of a step on a target (an evaluator's step_cost)."""


def timed_step_cost(step: AccelStep, target: Target) -> tuple[float, float]:
    """(cycles, energy_pj) of one call of `step` on `target`, timed on the simulator."""
    return _timed(step, target.to_json())


def steps_cost(steps: AccelSteps, target: Target,
               step_cost: StepCost = timed_step_cost) -> tuple[float, float]:
    """(cycles, energy_pj) of all of a model's unmapped calls on `target`, each costed by
    `step_cost` (the run's evaluator's)."""
    cycles = energy = 0.0
    for step, count in steps:
        c, e = step_cost(step, target)
        cycles += count * c
        energy += count * e
    return cycles, energy
