"""Polaris never starts or ends below the baselines: the first HW candidate is the design
nearest to default Gemmini, every candidate runs Gemmini's own mapping first, and the
design's mappings are picked on the whole design's EDP (design_pick)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.evaluators import make_evaluator
from dlac.dse.hwspace import HwSpace
from dlac.dse.nested import NestedEvaluator, SwConfig
from dlac.dse.search.design_pick import design_objective, pick
from dlac.dse.search.hw_box import HwBox
from dlac.ir.target import Target

from .test_polaris import POLARIS, _domain


def _opts(space, tmp_path, budget: int, **kw) -> Options:
    return Options(space=space, searcher="polaris", budget=Budget(evaluations=budget), seed=1,
                   sw=SwConfig("batch", samples=20), db_path=tmp_path / "db.sqlite",
                   progress=False, validate="none", searcher_options={**POLARIS, **kw})


def test_pick_minimises_the_design_edp_not_the_layers() -> None:
    # layer a: (1, 100) has the lower EDP alone, but b's long delay makes a's energy count
    costs = {"a": [(1.0, 100.0), (20.0, 4.0)], "b": [(100.0, 1.0), (90.0, 3.0)]}
    counts, host = [[("a", 1), ("b", 1)]], [(0.0, 0.0)]
    choice = pick(costs, counts, host, "edp")
    brute = min(itertools.product(range(2), range(2)),
                key=lambda ij: design_objective({"a": ij[0], "b": ij[1]}, costs, counts,
                                                host, "edp"))
    assert (choice["a"], choice["b"]) == brute == (1, 0)
    per_layer = {"a": 0, "b": 0}
    assert design_objective(choice, costs, counts, host, "edp") < \
        design_objective(per_layer, costs, counts, host, "edp")


def test_pick_is_never_worse_than_the_baseline_start() -> None:
    rng = np.random.default_rng(0)
    counts = [[("a", 2), ("b", 3), ("c", 1)], [("b", 1), ("c", 4)]]
    host = [(50.0, 20.0), (10.0, 5.0)]
    for _ in range(30):
        costs = {h: [tuple(rng.uniform(1, 100, 2)) for _ in range(4)] for h in "abc"}
        base = {h: int(rng.integers(4)) for h in "abc"}
        got = design_objective(pick(costs, counts, host, "edp", base), costs, counts, host,
                               "edp")
        assert got <= design_objective(base, costs, counts, host, "edp") + 1e-12


def test_first_candidate_is_default_gemmini_with_the_widest_bus(models) -> None:
    # default Gemmini (16x16, 256 / 64 KiB, BOTH, 128-bit bus): the pool keeps only each
    # design's widest feasible bus, so default Gemmini itself is not a point of it
    space = HwSpace(dims=(8, 16, 32), sp_kib=(64, 256, 64), acc_kib=(32, 128, 32),
                    bus_bits=(128, 256), area_budget_mm2=2.0)
    domain = _domain(models, space)
    assert domain.encode_target(Target()) is None
    got = domain.target(HwBox(domain).closest(Target()))
    assert got == Target().replace(dma_bus_bits=256)


def test_every_candidate_is_at_least_its_heuristic(models, small_space, tmp_path) -> None:
    res = autotune(models, _opts(small_space, tmp_path, budget=12))
    first = res.trials[0].result.target
    assert first == res.searcher.domain.target(res.searcher.box.closest(Target()))
    assert len({t.result.target.name for t in res.trials}) == 3
    nested = NestedEvaluator(models, make_evaluator("analytical"), SwConfig("batch", 20))
    for t in res.trials:
        assert t.result.objective <= nested.heuristic(t.result.target).objective + 1e-9


def test_trace_has_each_candidate_and_prospective_predictions(models, small_space,
                                                              tmp_path) -> None:
    res = autotune(models, _opts(small_space, tmp_path, budget=12))
    trace = res.searcher.trace
    assert [e["target"] for e in trace] == [t.result.target.name for t in res.trials]
    for entry, trial in zip(trace, res.trials, strict=True):
        assert len(entry["best"]) == 2  # sw_iterations
        assert entry["best"] == sorted(entry["best"], reverse=True)
        assert math.isclose(entry["best"][-1], math.exp(trial.result.objective), rel_tol=1e-9)
    # the GP stand-in fits from 2 samples: the first iteration's 2 picks have no
    # prediction, every later pick (4 per candidate) has the one made before it ran
    assert len(trace[0]["predicted_measured"]) == 2
    assert len(trace[1]["predicted_measured"]) == 4
