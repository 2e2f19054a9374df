"""What issue 22 asks of every registered HW searcher, checked over the registry (so a
searcher registered later is covered too): each design it proposes in the driver is a
legal Gemmini of the space (runs every layer, within the area budget, on the grid), and
an unknown option is a one-line error naming the searcher and the option."""

from __future__ import annotations

import pytest
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.errors import DseError
from dlac.dse.nested import SwConfig
from dlac.dse.search import parse_options, searcher_names
from dlac.ir.hwcost import area_mm2
from dlac.tools.bench_searchers import default_searchers, searcher_settings

BUDGET = 8


@pytest.mark.parametrize("name", default_searchers())
def test_every_proposed_design_is_legal(models, small_space, tmp_path, name: str) -> None:
    opts = Options(space=small_space, searcher=name, budget=Budget(evaluations=BUDGET), seed=3,
                   sw=SwConfig("batch", samples=20), db_path=tmp_path / "db.sqlite",
                   progress=False, validate="none",
                   searcher_options=searcher_settings(name, BUDGET))
    result = autotune(models, opts)
    grid = small_space.grid()
    legal = {grid.target(i) for i in range(len(grid))}
    assert result.trials
    for trial in result.trials:
        target = trial.result.target
        assert target in legal, f"{name} trial {trial.idx}: {target} is not on the grid"
        assert trial.result.feasible, f"{name} trial {trial.idx}: {target} cannot run"
        assert area_mm2(target) <= small_space.area_budget_mm2


@pytest.mark.parametrize("name", searcher_names())
def test_an_unknown_option_is_one_line(name: str) -> None:
    with pytest.raises(DseError, match=rf"^searcher '{name}' has no option 'bogus'") as err:
        parse_options(name, ["bogus=1"])
    assert "\n" not in str(err.value)
