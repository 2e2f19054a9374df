"""nevergrad optimisers on DiGamma's footing (`footing=joint`): decoded genome vectors
are legal designs with legal mappings and minimum buffers, every optimiser runs in the
driver deterministically for a seed and resumes exactly, one evaluation is one genome,
and a bad footing or a searcher without the joint footing is one line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.errors import DseError
from dlac.dse.hwspace import HwSpace
from dlac.dse.nested import SwConfig
from dlac.dse.search import make_searcher, parse_options, searcher_options
from dlac.dse.search.digamma.vector import GenomeVector
from dlac.dse.search.nevergrad_joint import JointNevergrad
from dlac.dse.search.nevergrad_lib import OPTIMIZERS
from dlac.tools.bench_codesign import main as bench_main

from .conftest import interrupted_then_resumed, run_dlac
from .test_digamma import _assert_legal, _models, _table
from .test_searchers import CONFIG, Grid2D

pytest.importorskip("nevergrad")

SW = SwConfig("batch", samples=50)


@pytest.mark.parametrize("seed", range(3))
def test_decoded_vectors_are_legal_genomes(small_space: HwSpace, seed: int) -> None:
    domain, table = _table(small_space)
    codec = GenomeVector(table)
    rng = np.random.default_rng(seed)
    v = np.concatenate([rng.random((20, codec.size)), np.zeros((1, codec.size)),
                        np.ones((1, codec.size)), rng.normal(0.5, 2.0, (4, codec.size))])
    pop = codec.decode(v)
    assert len(pop) == len(v)
    _assert_legal(domain, table, pop)
    assert len({(int(d), int(f)) for d, f in zip(pop.dim, pop.df, strict=True)}) > 1


def test_a_vector_of_the_wrong_length_is_rejected(small_space: HwSpace) -> None:
    _, table = _table(small_space)
    codec = GenomeVector(table)
    with pytest.raises(ValueError, match=f"has {codec.size} values"):
        codec.decode(np.zeros(codec.size - 1))


def _opts(space: HwSpace, db: Path, name: str, n: int = 12, seed: int = 1) -> Options:
    return Options(space=space, searcher=name, budget=Budget(evaluations=n), seed=seed, sw=SW,
                   db_path=db, progress=False, validate="none",
                   searcher_options={"footing": "joint"})


def _history(result) -> list[tuple[str, float]]:
    return [(t.result.target.name, t.result.objective) for t in result.trials]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_is_deterministic_on_the_joint_genome(small_space: HwSpace,
                                                              tmp_path: Path, name: str) -> None:
    models = _models()
    a = autotune(models, _opts(small_space, tmp_path / "a.sqlite", name))
    b = autotune(models, _opts(small_space, tmp_path / "b.sqlite", name))
    c = autotune(models, _opts(small_space, tmp_path / "c.sqlite", name, seed=7))
    assert isinstance(a.searcher, JointNevergrad) and a.searcher.name == name
    assert len(a.trials) == 12 and _history(a) == _history(b) != _history(c)
    assert all(t.result.feasible for t in a.trials)
    feasible = {small_space.grid().target(int(r)).name for r in
                a.searcher.domain.feasible}
    assert {t.result.target.name for t in a.trials} <= feasible


def test_picks_are_the_genomes_own_mappings(small_space: HwSpace, tmp_path: Path) -> None:
    """One evaluation is one genome: each layer keeps exactly one candidate (its gene)."""
    res = autotune(_models(), _opts(small_space, tmp_path / "db.sqlite", "cma", n=5))
    for t in res.trials:
        assert all(best.candidates == 1 for best in t.result.layers.values())


def test_resume_equals_uninterrupted(small_space: HwSpace, tmp_path: Path) -> None:
    models = _models()
    full = autotune(models, _opts(small_space, tmp_path / "full.sqlite", "cma"))
    resumed = interrupted_then_resumed(models, _opts(small_space, tmp_path / "cut.sqlite",
                                                     "cma"), at=6)
    assert resumed.resumed_trials == 7
    assert _history(resumed) == _history(full)


def test_the_hw_footing_is_unchanged(small_space: HwSpace, tmp_path: Path) -> None:
    opts = dataclasses.replace(_opts(small_space, tmp_path / "db.sqlite", "cma", n=4),
                               searcher_options={})
    res = autotune(_models(), opts)
    assert not isinstance(res.searcher, JointNevergrad)
    assert searcher_options("cma")["footing"] == "hw"


def test_a_bad_footing_is_one_line() -> None:
    with pytest.raises(DseError, match=r"^cma: footing must be one of hw, joint, got 'both'$"):
        make_searcher("cma", Grid2D(), 0, CONFIG, **parse_options("cma", ["footing=both"]))
    with pytest.raises(DseError, match="no option 'footing'"):
        parse_options("dabo", ["footing=joint"])


def test_the_joint_bench_refuses_searchers_without_the_footing(capsys) -> None:
    assert bench_main(["--all-searchers", "--footing", "joint", "--searchers", "dabo", "cma",
                       "--workloads", "bert_layer", "--budget", "20"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--footing joint: dabo cannot search DiGamma's genome" in err


@pytest.mark.slow
def test_cli_smoke_bit_exact(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_dlac(tmp_path, "zoo:mlp", "--autotune", "--searcher", "cma", "--budget", "10",
                 "--searcher-option", "footing=joint", "-o", str(out), "--db",
                 str(tmp_path / "t.sqlite"), "--no-progress", "--sim-check", "none")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["bit_exact"] is True and len(report["history"]) == 10
    assert (out / "model.c").exists()


def test_cli_bad_footing_is_one_line(tmp_path: Path) -> None:
    proc = run_dlac(tmp_path, "zoo:mlp", "--autotune", "--searcher", "de", "--budget", "5",
                 "--searcher-option", "footing=mapping", "-o", str(tmp_path / "out"), "--db",
                 str(tmp_path / "t.sqlite"), "--no-progress")
    assert proc.returncode != 0
    assert proc.stderr == "dlac: error: de: footing must be one of hw, joint, got 'mapping'\n"
    assert not (tmp_path / "out").exists()
