"""The unmapped Gemmini calls (accel_steps.py) cost the same, within a stated factor, on
the analytical evaluator (no simulator library) as timed on the simulator, and an
analytical search compiles no simulator library for the designs it scores."""

from __future__ import annotations

from pathlib import Path

import pytest
from dlac.dse.accel_steps import AccelStep, timed_step_cost
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.evaluators import make_evaluator
from dlac.dse.nested import SwConfig
from dlac.ir.target import Target

DESIGNS = [{"dim": 8, "sp_kib": 64, "acc_kib": 16}, {"dim": 16},
           {"dim": 32, "sp_kib": 512, "acc_kib": 128},
           {"dim": 64, "sp_kib": 1024, "acc_kib": 256}]
"""Edge and cloud array sizes with small to large buffers."""
STEPS = [AccelStep("resadd", (196, 256), relu=True), AccelStep("resadd", (3136, 64)),
         AccelStep("resadd", (49, 2048), relu=True),
         AccelStep("matmul", (1, 1000, 2048), bias=True), AccelStep("matmul", (128, 128, 64)),
         AccelStep("matmul", (1, 2048, 49))]
"""ResNet-style residual adds, a classifier, an attention-sized matmul, an average pool."""
CYCLES_FACTOR = 2.0
"""Measured 0.56-1.63 (analytical / simulator cycles) over this grid."""
ENERGY_FACTOR = 1.1


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: f"dim{d['dim']}")
def test_analytical_step_cost_within_a_factor_of_the_simulator(design: dict) -> None:
    target = Target().replace(**design)
    analytical = make_evaluator("analytical")
    for step in STEPS:
        cycles, energy = analytical.step_cost(step, target)
        sim_cycles, sim_energy = timed_step_cost(step, target)
        assert 1 / CYCLES_FACTOR <= cycles / sim_cycles <= CYCLES_FACTOR, step.key()
        assert 1 / ENERGY_FACTOR <= energy / sim_energy <= ENERGY_FACTOR, step.key()


def test_sim_evaluator_times_steps_on_the_simulator() -> None:
    step, target = STEPS[0], Target()
    assert make_evaluator("sim").step_cost(step, target) == timed_step_cost(step, target)


def test_analytical_search_builds_no_simulator_library(models, small_space, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    steps = {"tiny": [(STEPS[0], 2), (STEPS[5], 1)]}
    opts = Options(space=small_space, searcher="random", budget=Budget(evaluations=4), seed=3,
                   sw=SwConfig("batch", samples=20), db_path=tmp_path / "db.sqlite",
                   progress=False, validate="none")
    result = autotune(models, opts, steps=steps)
    assert any(t.result.feasible for t in result.trials)
    assert not list(cache.rglob("*.so"))
