"""The nested co-design loop on tiny models with the analytical evaluator."""

from __future__ import annotations

import sqlite3

import pytest
from dlac.dse.driver import Budget, Options, autotune, parse_budget
from dlac.dse.errors import DseError
from dlac.dse.evaluators import AnalyticalEvaluator
from dlac.dse.nested import NestedEvaluator, SwConfig
from dlac.ir.hwcost import area_mm2
from dlac.ir.target import Target

from .conftest import interrupted_then_resumed, tiny_models

SW = SwConfig("batch", samples=200)


def _opts(space, tmp_path, **kw) -> Options:
    base = dict(space=space, searcher="random", budget=Budget(evaluations=6), seed=1, sw=SW,
                db_path=tmp_path / "db.sqlite", progress=False)
    base.update(kw)
    return Options(**base)


def _targets(result) -> list[str]:
    return [t.result.target.to_json() for t in result.trials]


@pytest.mark.parametrize("searcher, n", [("random", 6), ("dabo", 13), ("vanilla-bo", 13)])
def test_searcher_deterministic_within_budget(models, small_space, tmp_path, searcher: str,
                                              n: int) -> None:
    opts = _opts(small_space, tmp_path, searcher=searcher, budget=Budget(evaluations=n))
    a = autotune(models, opts)
    b = autotune(models, _opts(small_space, tmp_path / "other", searcher=searcher,
                               budget=Budget(evaluations=n)))
    assert len(a.trials) == n
    assert _targets(a) == _targets(b)
    assert a.best.objective == b.best.objective
    for t in a.trials:  # infeasible designs are never proposed
        assert area_mm2(t.result.target) <= small_space.area_budget_mm2
        assert t.result.feasible


def test_edp_sums_layers_with_counts(models, small_space, tmp_path) -> None:
    r = autotune(models, _opts(small_space, tmp_path))
    best = r.best
    (conv, n_conv), (mm, n_mm) = models["tiny"]
    lc, lm = best.layers[conv.workload_hash()], best.layers[mm.workload_hash()]
    cyc = n_conv * lc.cycles + n_mm * lm.cycles
    en = n_conv * lc.energy_pj + n_mm * lm.energy_pj
    assert best.models["tiny"].cycles == pytest.approx(cyc)
    assert best.models["tiny"].edp == pytest.approx(cyc * en)


def test_best_mapping_never_worse_than_heuristic(models) -> None:
    nested = NestedEvaluator(models, AnalyticalEvaluator(), SW)
    heur = nested.heuristic(Target())
    best, _ = nested.evaluate(Target())
    for h, b in best.layers.items():
        assert b.cycles * b.energy_pj <= heur.layers[h].cycles * heur.layers[h].energy_pj


def test_several_models_share_one_design(small_space, tmp_path) -> None:
    models = tiny_models()
    r = autotune(models, _opts(small_space, tmp_path))
    assert set(r.best.models) == {"tiny", "tiny2"}
    assert len(r.best.layers) == 3  # fc is shared, searched once


def test_repeated_evaluations_are_cached(models, small_space, tmp_path) -> None:
    opts = _opts(small_space, tmp_path)
    autotune(models, opts)
    con = sqlite3.connect(tmp_path / "db.sqlite")
    n = con.execute("SELECT COUNT(*) FROM layer_results").fetchone()[0]
    con.close()
    again = autotune(models, _opts(small_space, tmp_path, seed=1))
    con = sqlite3.connect(tmp_path / "db.sqlite")
    assert con.execute("SELECT COUNT(*) FROM layer_results").fetchone()[0] == n
    con.close()
    assert again.best.objective == autotune(models, opts).best.objective


@pytest.mark.parametrize("searcher", ["random", "dabo"])
def test_resume_after_interruption_matches_uninterrupted(models, small_space, tmp_path,
                                                         searcher: str) -> None:
    budget = Budget(evaluations=14)
    full = autotune(models, _opts(small_space, tmp_path / "a", searcher=searcher,
                                  budget=budget))

    resumed = interrupted_then_resumed(
        models, _opts(small_space, tmp_path / "b", searcher=searcher, budget=budget), at=11)
    assert resumed.resumed_trials == 12
    assert _targets(resumed) == _targets(full)
    assert resumed.best.objective == full.best.objective


def test_minutes_budget(models, small_space, tmp_path) -> None:
    r = autotune(models, _opts(small_space, tmp_path, budget=parse_budget("1s")))
    assert len(r.trials) >= 1


@pytest.mark.parametrize("text, ok", [("10", Budget(evaluations=10)), ("10m", Budget(seconds=600)),
                                      ("90s", Budget(seconds=90))])
def test_parse_budget(text: str, ok: Budget) -> None:
    assert parse_budget(text) == ok


@pytest.mark.parametrize("text", ["0", "0m", "ten", "-3", "1.5"])
def test_bad_budget(text: str) -> None:
    with pytest.raises(DseError):
        parse_budget(text)


def test_impossible_area_budget_leaves_db_untouched(models, small_space, tmp_path) -> None:
    opts = _opts(small_space.with_area_budget(0.001), tmp_path)
    with pytest.raises(DseError, match="below the smallest design"):
        autotune(models, opts)
    assert not (tmp_path / "db.sqlite").exists()


@pytest.mark.parametrize("strategy", ["random", "dabo", "vanilla-bo"])
def test_sw_searcher_strategies(strategy: str) -> None:
    from dlac.passes.mapping import MatmulLayer

    layer = MatmulLayer("fc", i=64, j=128, k=96)
    sw = SwConfig(strategy, trials=34)
    runs = [NestedEvaluator({"m": [(layer, 1)]}, AnalyticalEvaluator(), sw)
            .search_layer(layer, Target())[0] for _ in range(2)]
    assert runs[0].mapping == runs[1].mapping and runs[0].cycles == runs[1].cycles
    heur = NestedEvaluator({"m": [(layer, 1)]}, AnalyticalEvaluator(), sw).heuristic(Target())
    h = heur.layers[layer.workload_hash()]
    assert runs[0].cycles * runs[0].energy_pj <= h.cycles * h.energy_pj
