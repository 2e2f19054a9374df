"""Executors: serial, process and (a local) Ray give the same co-design for a seed; tasks
come back in task order; bad executor settings are one-line errors that leave the
database alone; a resumed run fills the gaps a killed parallel run leaves."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

import pytest
from dlac.dse.__main__ import main
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.executors import make_executor, ray_executor
from dlac.dse.nested import SwConfig
from dlac.dse.tasks import LayerTask
from dlac.ir.target import Target

from .conftest import tiny_models

SW = SwConfig("batch", samples=100)


def _opts(space, path: Path, searcher: str, **kw) -> Options:
    return Options(space=space, searcher=searcher, budget=Budget(evaluations=13), seed=2,
                   sw=SW, db_path=path, progress=False, validate="none", **kw)


def _summary(result) -> tuple:
    return [t.result.to_dict() for t in result.trials], result.best.to_dict()


@pytest.mark.parametrize("searcher", ["dabo", "vanilla-bo"])
def test_every_executor_gives_the_serial_result(small_space, tmp_path, searcher: str) -> None:
    """13 evaluations: a warm-up batch of 10, then a batch chosen by the surrogate."""
    models = tiny_models()
    serial = autotune(models, _opts(small_space, tmp_path / "s.sqlite", searcher))
    for name, jobs in (("process", 2), ("process", 1), ("ray", 2)):
        other = autotune(models, _opts(small_space, tmp_path / f"{name}{jobs}.sqlite",
                                       searcher, executor=name, jobs=jobs))
        assert other.execution["executor"] == name and other.execution["workers"] == jobs
        assert _summary(other) == _summary(serial), (name, jobs)


def test_gather_is_in_task_order() -> None:
    (conv, _), (mm, _) = tiny_models()["tiny"]
    tasks = [LayerTask(layer, Target(dim=dim), "analytical", SW)
             for dim in (16, 8, 4) for layer in (mm, conv)]
    serial = make_executor("serial").gather(tasks)
    with make_executor("process", jobs=2) as pool:
        parallel = pool.gather(tasks)
    assert [o.best for o in parallel] == [o.best for o in serial]
    assert [o.best.layer.name for o in parallel] == ["fc", "conv"] * 3


SPACE = {"dims": [8, 16], "sp_kib": [32, 256], "acc_kib": [16, 64], "bus_bits": [128]}


def _argv(tmp_path: Path, *extra: str) -> list[str]:
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    return ["--workload", "resnet18", "--hw-space", str(space), "--budget", "3",
            "--sw-samples", "50", "--db", str(tmp_path / "db.sqlite"), "-o",
            str(tmp_path / "out"), "--no-progress", "--searcher", "random", "--sim-check",
            "none", *extra]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("extra, match", [
    (["--jobs", "0"], "--jobs 0: an executor needs at least one worker"),
    (["--executor", "serial", "--jobs", "-2"], "pass --jobs N with N >= 1"),
    (["--ray-address", "127.0.0.1:6379"], "needs --executor ray"),
    (["--executor", "ray", "--ray-address", f"127.0.0.1:{_closed_port()}"],
     "no Ray cluster answers there"),
    (["--executor", "ray", "--ray-address", "nohost"], "is not HOST:PORT"),
])
def test_bad_executor_settings(tmp_path: Path, capsys, extra: list[str], match: str) -> None:
    db = tmp_path / "db.sqlite"
    db.write_bytes(b"")
    assert main(_argv(tmp_path, *extra)) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("dlac: error:") and match in err, err
    assert db.read_bytes() == b"" and not (tmp_path / "out").exists()


def test_ray_not_installed(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(ray_executor, "ray", None)
    assert main(_argv(tmp_path, "--executor", "ray")) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'pip install -e ".[ray]"' in err, err
    assert not (tmp_path / "db.sqlite").exists()


def test_report_records_the_execution(tmp_path: Path) -> None:
    assert main(_argv(tmp_path, "--jobs", "2")) == 0
    execution = json.loads((tmp_path / "out" / "report.json").read_text())["execution"]
    assert execution["executor"] == "process" and execution["workers"] == 2
    assert execution["tasks"] > 0 and execution["wall_seconds"] > 0


def test_resume_fills_gaps(small_space, tmp_path) -> None:
    """A killed parallel run can leave evaluations in flight unrecorded: resume evaluates
    exactly those and ends where the uninterrupted run ends."""
    models = tiny_models()
    full = autotune(models, _opts(small_space, tmp_path / "a.sqlite", "dabo"))
    db = tmp_path / "b.sqlite"
    autotune(models, _opts(small_space, db, "dabo"))
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM trials WHERE idx IN (3, 11)")
        con.execute("UPDATE runs SET finished=0")
    con.close()
    resumed = autotune(models, Options(**{**_opts(small_space, db, "dabo").__dict__,
                                          "resume": True}))
    assert resumed.resumed_trials == 11
    assert _summary(resumed) == _summary(full)
