"""A model's CPU steps are part of every design's totals (they are the same on each design)
and report.md shows their share."""

from __future__ import annotations

from pathlib import Path

import pytest
from dlac.dse.accel_steps import AccelStep
from dlac.dse.driver import Budget, Options, autotune, run_key
from dlac.dse.evaluators import make_evaluator
from dlac.dse.nested import SwConfig
from dlac.dse.report import build_report, render_markdown
from dlac.passes.host_cost import HostCost

HOST = HostCost(steps=3, instructions=1e5, cycles=1.3e5, energy_pj=4e6)


def _opts(space, tmp_path: Path) -> Options:
    return Options(space=space, searcher="random", budget=Budget(evaluations=3), seed=0,
                   sw=SwConfig("batch", samples=50), db_path=tmp_path / "db.sqlite",
                   progress=False, validate="none")


def test_host_cost_adds_to_every_design(models, small_space, tmp_path: Path) -> None:
    bare = autotune(models, _opts(small_space, tmp_path / "a"))
    with_host = autotune(models, _opts(small_space, tmp_path / "b"), host={"tiny": HOST})
    for a, b in zip(bare.trials, with_host.trials, strict=True):
        if a.result.feasible:
            assert b.result.models["tiny"].cycles == pytest.approx(
                a.result.models["tiny"].cycles + HOST.cycles)
            assert b.result.models["tiny"].energy_pj == pytest.approx(
                a.result.models["tiny"].energy_pj + HOST.energy_pj)
    report = build_report(with_host)
    assert report["models"]["tiny"]["host"]["cycles"] == HOST.cycles
    share = HOST.cycles / report["models"]["tiny"]["cycles"]
    assert f"{100 * share:.1f}%" in render_markdown(report)


def test_host_cost_is_part_of_the_run_key(models, small_space, tmp_path: Path) -> None:
    opts = _opts(small_space, tmp_path)
    assert run_key(models, opts, "k") != run_key(models, opts, "k", {"tiny": HOST})


RESADD = AccelStep("resadd", (196, 256), relu=True)


def test_unmapped_calls_add_their_per_design_cost(models, small_space, tmp_path: Path) -> None:
    """Residual adds (accel_steps.py) are in every design's totals, costed on that design
    by the run's evaluator (here the analytical one), and part of the run key."""
    steps = {"tiny": [(RESADD, 3)]}
    bare = autotune(models, _opts(small_space, tmp_path / "a"))
    with_steps = autotune(models, _opts(small_space, tmp_path / "b"), steps=steps)
    for a, b in zip(bare.trials, with_steps.trials, strict=True):
        if a.result.feasible:
            cycles, energy = make_evaluator("analytical").step_cost(RESADD, a.result.target)
            assert cycles > 0 and energy > 0
            assert b.result.models["tiny"].cycles == pytest.approx(
                a.result.models["tiny"].cycles + 3 * cycles)
            assert b.result.models["tiny"].energy_pj == pytest.approx(
                a.result.models["tiny"].energy_pj + 3 * energy)
    opts = _opts(small_space, tmp_path)
    assert run_key(models, opts, "k") != run_key(models, opts, "k", steps=steps)
