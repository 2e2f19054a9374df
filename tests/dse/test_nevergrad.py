"""nevergrad baselines (cma, de, pso, tbpsa, one-plus-one, portfolio): every one runs in
the driver on feasible designs only, is deterministic for a seed and resumes exactly."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.errors import DseError
from dlac.dse.nested import SwConfig
from dlac.dse.search import make_searcher, parse_options
from dlac.dse.search.nevergrad_search import OPTIMIZERS
from dlac.ir.hwcost import area_mm2

from .conftest import interrupted_then_resumed
from .test_searchers import CONFIG, Grid2D, objective

pytest.importorskip("nevergrad")

SW = SwConfig("batch", samples=100)


def _run(name: str, seed: int, n: int) -> list[tuple[float, ...]]:
    s = make_searcher(name, Grid2D(), seed, CONFIG)
    asked = []
    for _ in range(n):
        x = s.ask()
        assert x is not None
        asked.append(tuple(x))
        s.tell(x, objective(x))
    return asked


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_deterministic_no_repeats(name: str) -> None:
    a = _run(name, 5, 25)
    assert a == _run(name, 5, 25)
    assert len(set(a)) == len(a)
    assert a != _run(name, 6, 25)


def test_cma_finds_the_toy_optimum() -> None:
    asked = _run("cma", 0, 40)
    assert min(objective(np.array(x)) for x in asked) <= 2.0


def _opts(space, tmp_path, name: str, n: int) -> Options:
    return Options(space=space, searcher=name, budget=Budget(evaluations=n), seed=2, sw=SW,
                   db_path=tmp_path / "db.sqlite", progress=False, validate="none")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_driver_resume_matches_uninterrupted(models, small_space, tmp_path, name: str) -> None:
    full = autotune(models, _opts(small_space, tmp_path / "a", name, 9))
    assert all(area_mm2(t.result.target) <= small_space.area_budget_mm2 for t in full.trials)

    resumed = interrupted_then_resumed(models, _opts(small_space, tmp_path / "b", name, 9), at=5)
    assert resumed.resumed_trials == 6
    assert [t.result.target for t in resumed.trials] == [t.result.target for t in full.trials]
    assert resumed.best.objective == full.best.objective


def test_unknown_option_is_one_line() -> None:
    with pytest.raises(DseError, match="searcher 'cma' has no option 'popsize'"):
        parse_options("cma", ["popsize=4"])
    with pytest.raises(DseError, match="not KEY=VALUE"):
        parse_options("cma", ["max_repeats"])
    with pytest.raises(DseError, match="expected a int"):
        parse_options("cma", ["max_repeats=many"])
    assert parse_options("cma", ["max_repeats=3"]) == {"max_repeats": 3}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_budget_covers_the_asks_that_land_on_evaluated_designs(name: str) -> None:
    """Portfolio's samplers stop at their budget; candidates rounded onto an evaluated
    design are asks too, so a budget of n evaluations must still give n designs."""
    s = make_searcher(name, Grid2D(), 0, CONFIG)
    s.prepare(None, Budget(evaluations=30))
    for _ in range(30):
        x = s.ask()
        assert x is not None
        s.tell(x, objective(x))
