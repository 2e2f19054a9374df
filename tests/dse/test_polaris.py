"""Polaris: rounding, seed determinism, resume, the budget in high-fidelity samples, a
small simulator run and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.dse.domains import HwDomain
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.errors import DseError
from dlac.dse.models.features import WorkloadProfile
from dlac.dse.nested import SwConfig
from dlac.dse.search import make_searcher
from dlac.dse.search.hw_box import HwBox
from dlac.ir.hwcost import area_mm2

from .conftest import interrupted_then_resumed

POLARIS = {"hw_iterations": 3, "sw_iterations": 2, "sw_samples": 32, "hw_starts": 16,
           "surrogate": "gp"}


def _opts(space, tmp_path, budget: int = 12, **kw) -> Options:
    base = dict(space=space, searcher="polaris", budget=Budget(evaluations=budget), seed=3,
                sw=SwConfig("batch", samples=50), db_path=tmp_path / "db.sqlite",
                progress=False, validate="none", searcher_options=POLARIS)
    base.update(kw)
    return Options(**base)


def _domain(models, space) -> HwDomain:
    grid = space.grid()
    layers = [layer for w in models.values() for layer, _ in w]
    return HwDomain(grid, grid.widest_bus(grid.feasible(layers)),
                    WorkloadProfile.from_layers([p for w in models.values() for p in w]))


def _targets(result) -> list[str]:
    return [t.result.target.to_json() for t in result.trials]


def test_rounding_returns_a_feasible_unseen_design(models, small_space) -> None:
    domain = _domain(models, small_space)
    box = HwBox(domain)
    keys = set(domain.keys(box.pool))
    for u in np.random.default_rng(0).random((20, box.width)):
        x = box.nearest(u)
        assert domain.keys(x[None, :])[0] in keys
        assert area_mm2(domain.target(x)) <= small_space.area_budget_mm2
        assert box.raw(u).shape == (1, 5)
    exact = box.pool[3]
    assert np.array_equal(box.nearest(exact), exact)
    other = box.nearest(exact, set(domain.keys(exact[None, :])))
    assert other is not None and not np.array_equal(other, exact)
    assert box.nearest(exact, keys) is None


def test_raw_parameters_interpolate_the_grid(models, small_space) -> None:
    box = HwBox(_domain(models, small_space))
    lo, hi = box.raw(np.zeros(5))[0], box.raw(np.ones(5))[0]
    assert (lo[0], hi[0]) == (4, 16) and (lo[1], hi[1]) == (8, 64)
    assert box.raw(np.full(5, 0.25))[0][0] == pytest.approx(2 ** 2.5)  # 4x4 .. 8x8, in log


def test_budget_counts_high_fidelity_samples_and_is_deterministic(models, small_space,
                                                                  tmp_path) -> None:
    a = autotune(models, _opts(small_space, tmp_path / "a", budget=10))
    b = autotune(models, _opts(small_space, tmp_path / "b", budget=10))
    # 2 unique layers x 2 SW iterations per HW candidate: 4 + 4 + 2 (the budget's rest)
    assert a.searcher.spent() == 10 and len(a.trials) == 3
    assert _targets(a) == _targets(b) and a.best.objective == b.best.objective
    assert len(set(_targets(a))) == 3
    for t in a.trials:
        assert t.result.feasible and area_mm2(t.result.target) <= small_space.area_budget_mm2
    counts = [sum(b.candidates for b in t.result.layers.values()) for t in a.trials]
    assert counts == [4, 4, 2]


def test_resume_after_interruption_matches_uninterrupted(models, small_space,
                                                         tmp_path) -> None:
    full = autotune(models, _opts(small_space, tmp_path / "a"))

    resumed = interrupted_then_resumed(models, _opts(small_space, tmp_path / "b"), at=1)
    assert resumed.resumed_trials == 2
    assert _targets(resumed) == _targets(full)
    assert resumed.best.objective == full.best.objective
    assert resumed.searcher.spent() == full.searcher.spent() == 12


def test_small_simulator_run(small_space, tmp_path) -> None:
    from dlac.passes.mapping import MatmulLayer

    models = {"mm": [(MatmulLayer("fc", i=32, j=64, k=64), 2)]}
    opts = _opts(small_space, tmp_path, budget=3, evaluator="sim",
                 searcher_options={**POLARIS, "hw_iterations": 2})
    res = autotune(models, opts)
    assert res.searcher.spent() == 3 and len(res.trials) == 2
    assert res.best.feasible and res.best.models["mm"].cycles > 0


def test_budget_below_one_software_iteration(models, small_space, tmp_path) -> None:
    with pytest.raises(DseError, match="below one software iteration"):
        autotune(models, _opts(small_space, tmp_path, budget=1))
    assert not (tmp_path / "db.sqlite").exists()


def test_empty_grid_and_bad_options(models, small_space) -> None:
    domain = _domain(models, small_space)
    empty = HwDomain(domain.grid, np.array([], dtype=np.int64), domain.profile)
    with pytest.raises(DseError, match="no feasible design"):
        make_searcher("polaris", empty, 0, surrogate="gp")
    with pytest.raises(DseError, match="sw_iterations must be >= 1"):
        make_searcher("polaris", domain, 0, sw_iterations=0)
    with pytest.raises(DseError, match="unknown surrogate"):
        make_searcher("polaris", domain, 0, surrogate="nope")


def _sw_only(tmp_path, searcher: str, *extra: str) -> list[str]:
    return ["zoo:tiny_cnn", "--autotune", "--sw-only", "--target", "small", "--searcher",
            searcher, "-o", str(tmp_path / "out"), "--db", str(tmp_path / "db.sqlite"),
            "--no-progress", "--sim-check", "none", *extra]


@pytest.mark.parametrize("searcher, extra", [
    ("polaris", ["--budget", "8", "--searcher-option", "surrogate=gp",
                 "--searcher-option", "sw_samples=32"]),
    ("dabo", ["--budget", "8"]),
])
def test_sw_only_cli_keeps_the_given_target(tmp_path, searcher: str, extra: list[str]) -> None:
    import json

    from dlac.ir.target import Target
    from dlac.tools.dlac_main import main

    assert main(_sw_only(tmp_path, searcher, *extra)) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert Target.from_dict(report["target"]) == Target.parse("small")
    assert report["bit_exact"] is True and len(report["history"]) == 1


def test_cli_budget_below_one_iteration_is_one_line(tmp_path, capsys) -> None:
    from dlac.tools.dlac_main import main

    code = main(_sw_only(tmp_path, "polaris", "--budget", "1",
                         "--searcher-option", "surrogate=gp"))
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1, err
    assert err.startswith("dlac: error: polaris: a budget of 1") and "software iteration" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "db.sqlite").exists()


def test_bench_codesign_equal_sample_budget(tmp_path, capsys) -> None:
    import json

    from dlac.tools.bench_codesign import main

    out = tmp_path / "bench.json"
    # mlp: 3 unique layers; 24 samples = 2 daBO evaluations x 3 layers x (3 samples + Gemmini's)
    assert main(["--workloads", "mlp", "--seeds", "1", "--sw-samples", "3", "--sample-budget",
                 "24", "--searchers", "polaris", "dabo", "--searcher-option", "surrogate=gp",
                 "--searcher-option", "sw_samples=16", "--db", str(tmp_path / "db.sqlite"),
                 "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["results"]["mlp"]["rows"]
    assert rows["polaris"]["samples"] == [24] and rows["dabo"]["samples"] == [24]
    assert "samples" in capsys.readouterr().out


def test_default_budget_is_the_whole_loop(models) -> None:
    from dlac.dse.cli import _default_budget

    # tiny: 2 unique layers
    assert _default_budget("polaris", {"hw_iterations": 2, "sw_iterations": 3}, models) == 12
    assert _default_budget("polaris", {}, models) == 8 * 6 * 2
    assert _default_budget("dabo", {}, models) == 100


def test_runs_on_starlight(models, small_space, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DLAC_CACHE", str(tmp_path / "cache"))
    opts = _opts(small_space, tmp_path, budget=8,
                 searcher_options={**POLARIS, "surrogate": "starlight", "low_points": 256,
                                   "low_epochs": 1, "progress": False})
    res = autotune(models, opts)
    assert res.searcher.spent() == 8 and len(res.trials) == 2
    assert res.best.feasible
    assert list((tmp_path / "cache" / "starlight").glob("*.pt"))
