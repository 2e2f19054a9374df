"""digamma: every operator returns buildable genomes with legal mappings and minimum
buffers, the search is deterministic for a seed, a resumed run equals an uninterrupted
one, the CLI runs it end to end, and a budget below one population is one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dlac.dse.domains import HwDomain
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.errors import DseError
from dlac.dse.evaluators import make_evaluator
from dlac.dse.hwspace import HwSpace
from dlac.dse.models.features import WorkloadProfile
from dlac.dse.nested import NestedEvaluator, SwConfig
from dlac.dse.search.digamma.buffers import BufferTable, legalize
from dlac.dse.search.digamma.fitness import Scorer
from dlac.dse.search.digamma.genome import Population, Problem, random_population
from dlac.dse.search.digamma.operators import (
    crossover,
    grow_age,
    mutate_hw,
    mutate_map,
    reorder,
)
from dlac.dse.search.digamma.warm import heuristic_population
from dlac.ir.hwcost import area_mm2
from dlac.passes.mapping import ConvLayer, MappingSpace, MatmulLayer, heuristic_mapping

from .conftest import interrupted_then_resumed, run_dlac, tiny_models

SW = SwConfig("batch", samples=50)
OPTS = {"population": 8}


def _models() -> dict:
    dw = ConvLayer("dw", batch=1, in_channels=32, out_channels=32, in_rows=12, in_cols=12,
                   kernel_rows=3, kernel_cols=3, padding=1, groups=32)
    odd = MatmulLayer("odd", i=50, j=70, k=36)
    return {"tiny": tiny_models()["tiny"] + [(dw, 1)], "odd": [(odd, 2)]}


def _table(space: HwSpace) -> tuple[HwDomain, BufferTable]:
    models = _models()
    nested = NestedEvaluator(models, make_evaluator("analytical"), SW)
    grid = space.grid()
    feasible = grid.widest_bus(grid.feasible(nested.layers()))
    domain = HwDomain(grid, feasible, WorkloadProfile.from_layers(
        [pair for w in models.values() for pair in w]))
    return domain, BufferTable(domain, Problem.of(nested.unique, space.dims, space.dataflows))


def _assert_legal(domain: HwDomain, table: BufferTable, pop: Population) -> None:
    problem = table.problem
    feasible = set(domain.feasible.tolist())
    sp_need, acc_need = table.need(pop)
    for p in range(len(pop)):
        row = int(pop.design[p])
        assert row in feasible
        target = domain.grid.target(row)
        assert area_mm2(target) <= domain.grid.space.area_budget_mm2 * (1 + 1e-12)
        for li, layer in enumerate(problem.layers):
            MappingSpace(layer, target).check(pop.mapping(problem, p, li))
        sp, acc = int(sp_need[p].max()), int(acc_need[p].max())
        assert target.sp_rows >= sp and target.acc_rows >= acc
        assert table.allocate(int(pop.dim[p]), int(pop.df[p]), sp, acc) == row, \
            "buffers are not the cheapest that hold the mapping"


@pytest.mark.parametrize("seed", range(4))
def test_every_operator_returns_legal_genomes(small_space: HwSpace, seed: int) -> None:
    domain, table = _table(small_space)
    rng = np.random.default_rng(seed)
    pop = legalize(table, random_population(table.problem, table.combos, 12, rng))
    _assert_legal(domain, table, pop)
    other = legalize(table, random_population(table.problem, table.combos, 12, rng))
    steps = [lambda q: crossover(table, q, other, rng),
             lambda q: reorder(table, q, 0.8, rng),
             lambda q: grow_age(table, q, 0.8, rng),
             lambda q: mutate_map(table, q, 0.8, rng),
             lambda q: mutate_hw(table, q, 0.8, rng)]
    for _ in range(3):
        for step in steps:
            pop = step(pop)
            _assert_legal(domain, table, pop)


def test_grow_reaches_the_buffer_limit_and_is_repaired(small_space: HwSpace) -> None:
    domain, table = _table(small_space)
    rng = np.random.default_rng(0)
    pop = legalize(table, random_population(table.problem, table.combos, 6, rng))
    pop = legalize(table, Population(pop.dim, pop.df, pop.tiles * 1000, pop.rank, pop.os,
                                     pop.design))
    _assert_legal(domain, table, pop)


def _opts(space: HwSpace, db: Path, seed: int = 3, n: int = 30, **extra) -> Options:
    return Options(space=space, searcher="digamma", budget=Budget(evaluations=n), seed=seed,
                   sw=SW, db_path=db, progress=False, validate="none",
                   searcher_options={**OPTS, **extra})


def _history(result) -> list[tuple[str, float]]:
    return [(t.result.target.name, t.result.objective) for t in result.trials]


def test_deterministic_for_a_seed(small_space: HwSpace, tmp_path: Path) -> None:
    models = _models()
    a = autotune(models, _opts(small_space, tmp_path / "a.sqlite"))
    b = autotune(models, _opts(small_space, tmp_path / "b.sqlite"))
    c = autotune(models, _opts(small_space, tmp_path / "c.sqlite", seed=4))
    assert len(a.trials) == 30 and _history(a) == _history(b) != _history(c)
    assert a.best.feasible and a.searcher.generation == 5


@pytest.mark.parametrize("objective", ["latency", "energy"])
def test_honours_the_objective(small_space: HwSpace, tmp_path: Path, objective: str) -> None:
    opts = _opts(small_space, tmp_path / "db.sqlite")
    opts = Options(**{**opts.__dict__, "sw": SwConfig("batch", samples=50, objective=objective)})
    res = autotune(_models(), opts)
    key = "cycles" if objective == "latency" else "energy_pj"
    want = sum(np.log(getattr(m, key)) for m in res.best.models.values())
    assert res.best.objective == pytest.approx(want)


def test_resume_equals_uninterrupted(small_space: HwSpace, tmp_path: Path) -> None:
    models = _models()
    full = autotune(models, _opts(small_space, tmp_path / "full.sqlite"))

    resumed = interrupted_then_resumed(models, _opts(small_space, tmp_path / "cut.sqlite"), at=12)
    assert resumed.resumed_trials == 13
    assert _history(resumed) == _history(full)
    assert resumed.best.objective == full.best.objective


def test_budget_below_one_population_is_rejected(small_space: HwSpace, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    with pytest.raises(DseError, match=r"budget of 5 evaluations is smaller than one "
                                       r"population \(8\)"):
        autotune(_models(), _opts(small_space, db, n=5))
    assert not db.exists()


@pytest.mark.parametrize("option, message", [("population=1", "population must be >= 2"),
                                             ("elite_ratio=1.0", "elite_ratio must be in"),
                                             ("mutation_rate=2.0", "mutation_rate must be in")])
def test_bad_options_are_one_line(small_space: HwSpace, tmp_path: Path, option: str,
                                  message: str) -> None:
    key, value = option.split("=")
    opts = _opts(small_space, tmp_path / "db.sqlite")
    opts = Options(**{**opts.__dict__, "searcher_options": {key: float(value) if "." in value
                                                           else int(value)}})
    with pytest.raises(DseError, match=message):
        autotune(_models(), opts)


@pytest.mark.slow
def test_cli_smoke_bit_exact(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_dlac(tmp_path, "zoo:mlp", "--autotune", "--searcher", "digamma", "--budget", "12",
                 "--searcher-option", "population=6", "-o", str(out), "--db",
                 str(tmp_path / "t.sqlite"), "--no-progress", "--sim-check", "none",
                 "--objective", "latency", "--hw-space", "cloud")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["bit_exact"] is True and len(report["history"]) == 12
    assert (out / "model.c").exists() and (out / "best_edp.png").exists()
    assert "digamma" in (out / "report.md").read_text()


def test_cli_bad_budget_is_one_line(tmp_path: Path) -> None:
    proc = run_dlac(tmp_path, "zoo:mlp", "--autotune", "--searcher", "digamma", "--budget", "5",
                 "-o", str(tmp_path / "out"), "--db", str(tmp_path / "t.sqlite"),
                 "--no-progress")
    assert proc.returncode != 0
    assert proc.stderr.startswith("dlac: error: digamma: budget of 5 evaluations is smaller")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_warm_start_keeps_gemmini_heuristic_tiles(small_space: HwSpace) -> None:
    domain, table = _table(small_space)
    scorer = Scorer(table.problem, domain.grid, make_evaluator("analytical"))
    raw = heuristic_population(table, scorer, 4)
    assert 0 < len(raw) <= 4
    pop = legalize(table, raw)
    _assert_legal(domain, table, pop)
    assert (pop.tiles == raw.tiles).all()
    for p in range(len(pop)):
        want = domain.grid.target(table.largest(int(pop.dim[p]), int(pop.df[p])))
        got = domain.grid.target(int(pop.design[p]))
        assert area_mm2(got) <= area_mm2(want)
        for li, layer in enumerate(table.problem.layers):
            assert pop.mapping(table.problem, p, li).tile == heuristic_mapping(layer,
                                                                                want).tile
