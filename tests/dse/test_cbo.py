"""Constrained BO (`cbo`): the feasibility classifier learns a constraint, the searcher
avoids an infeasible region it only learns of by evaluating, is deterministic, asks full
q-batches, resumes exactly in the driver, and runs from the `dlac` command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.errors import DseError
from dlac.dse.nested import SwConfig
from dlac.dse.search import make_searcher, parse_options
from dlac.dse.search.base import SearchConfig
from dlac.dse.search.feasibility import FeasibilityModel

from .conftest import interrupted_then_resumed

CONFIG = SearchConfig(n_candidates=144)


class Square:
    """The 12 x 12 grid of [0, 1]^2; feasible where x + y <= 1 (55% of it), which the
    searcher only learns by evaluating (`candidates` offers every point)."""

    def __init__(self) -> None:
        a, b = np.meshgrid(np.arange(12), np.arange(12), indexing="ij")
        self.points = np.stack([a.ravel(), b.ravel()], axis=1) / 11.0

    def __len__(self) -> int:
        return len(self.points)

    def candidates(self, n: int, rng: np.random.Generator) -> np.ndarray:
        pick = rng.choice(len(self.points), size=min(n, len(self.points)), replace=False)
        return self.points[np.sort(pick)]

    def features(self, x: np.ndarray) -> np.ndarray:
        return x

    def keys(self, x: np.ndarray) -> list[bytes]:
        return [np.round(r * 11).astype(np.int64).tobytes() for r in np.atleast_2d(x)]


def value(x: np.ndarray) -> float:
    """Distance to (0.25, 0.35), inf outside the feasible region. The objective GP sees
    only feasible points, so it is most uncertain, and EI alone most attracted, exactly
    where the designs are infeasible: only the classifier keeps the search out."""
    if x[0] + x[1] > 1.0 + 1e-9:
        return float("inf")
    return float(np.hypot(x[0] - 0.25, x[1] - 0.35))


def _run(name: str, seed: int, batches: int, q: int = 5) -> list[tuple[tuple[float, ...], float]]:
    opts = {"batch": q, "warmup": 10} if name == "cbo" else {}
    config = SearchConfig(n_candidates=144, batch_size=q, warmup=10)
    s = make_searcher(name, Square(), seed, config, **opts)
    out = []
    for _ in range(batches):
        xs = s.ask_batch(q)
        assert len(xs) == q
        for x in xs:
            out.append((tuple(x), value(x)))
            s.tell(x, out[-1][1])
    return out


def test_feasibility_model_learns_a_toy_constraint() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((40, 2))
    model = FeasibilityModel().fit(x, (x ** 2).sum(axis=1) < 0.5, seed=0)
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 20), np.linspace(0, 1, 20)), -1).reshape(-1, 2)
    truth = (grid ** 2).sum(axis=1) < 0.5
    assert ((model.probability(grid) > 0.5) == truth).mean() > 0.9
    assert np.all(FeasibilityModel().fit(x, np.ones(40, bool), 0).probability(grid) == 41 / 42)


def test_infeasible_region_avoided_and_deterministic() -> None:
    cbo = _run("cbo", 0, 6)
    assert cbo == _run("cbo", 0, 6)
    assert cbo[:15] != _run("cbo", 1, 3)
    assert len({x for x, _ in cbo}) == len(cbo)
    after = [y for _, y in cbo[10:]]
    rand = [y for _, y in _run("random", 0, 6)[10:]]
    assert np.mean(np.isinf(after)) <= 0.15 < np.mean(np.isinf(rand))
    assert min(y for _, y in cbo) < 0.03  # the grid's optimum, (3/11, 4/11): 0.0265


def test_bad_options_are_one_line() -> None:
    with pytest.raises(DseError, match="cbo: batch must be >= 1"):
        make_searcher("cbo", Square(), 0, CONFIG, batch=0)
    with pytest.raises(DseError, match="searcher 'cbo' has no option 'kappa'"):
        parse_options("cbo", ["kappa=2"])
    assert parse_options("cbo", ["batch=4"]) == {"batch": 4}


def _opts(space, path: Path, n: int, **kw) -> Options:
    return Options(space=space, searcher="cbo", budget=Budget(evaluations=n), seed=1,
                   sw=SwConfig("batch", samples=50), db_path=path / "db.sqlite",
                   progress=False, validate="none",
                   searcher_options={"batch": 3, "warmup": 3}, **kw)


def test_resume_equals_uninterrupted(models, small_space, tmp_path) -> None:
    full = autotune(models, _opts(small_space, tmp_path / "a", 9))
    assert len(full.trials) == 9

    resumed = interrupted_then_resumed(models, _opts(small_space, tmp_path / "b", 9), at=4)
    assert resumed.resumed_trials == 5
    assert [t.result.target for t in resumed.trials] == [t.result.target for t in full.trials]
    assert resumed.best.objective == full.best.objective


def test_cli_smoke_on_zoo_mlp(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "dlac.tools.dlac_main", "zoo:mlp", "--autotune", "-o", str(out),
         "--searcher", "cbo", "--searcher-option", "batch=2", "--searcher-option",
         "warmup=2", "--budget", "4", "--objective", "latency", "--hw-space", "cloud",
         "--sw-samples", "50", "--db", str(tmp_path / "t.sqlite"), "--no-progress",
         "--sim-check", "none"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["options"]["searcher"] == "cbo" and report["objective"] == "latency"
    assert report["options"]["space"]["dims"] == [16, 32, 64]
    assert len(report["history"]) == 4
