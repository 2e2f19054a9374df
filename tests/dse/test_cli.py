"""`python -m dlac.dse`: outputs, bad input (one line, exit 1, database untouched), and a
SIGKILL mid-search followed by --resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dlac.dse.__main__ import main

SPACE = {"dims": [8, 16], "sp_kib": [32, 256], "acc_kib": [16, 64], "bus_bits": [128]}


@pytest.fixture
def space_file(tmp_path: Path) -> Path:
    f = tmp_path / "space.json"
    f.write_text(json.dumps(SPACE))
    return f


def _args(tmp_path: Path, space_file: Path, *extra: str) -> list[str]:
    return ["--workload", "resnet18", "--hw-space", str(space_file), "--budget", "3",
            "--sw-samples", "100", "--db", str(tmp_path / "db.sqlite"), "-o",
            str(tmp_path / "out"), "--no-progress", "--searcher", "random", *extra]


def test_outputs(tmp_path: Path, space_file: Path, capsys) -> None:
    assert main(_args(tmp_path, space_file)) == 0
    out = tmp_path / "out"
    for name in ("report.json", "report.md", "gemmini_params.h", "best_edp.png",
                 "energy_delay.png", "layers.png", "config.png"):
        assert (out / name).stat().st_size > 0, name
    rep = json.loads((out / "report.json").read_text())
    for key in ("target", "layers", "cycles", "energy_pj", "edp", "area_mm2", "history",
                "baselines"):
        assert key in rep
    assert len(rep["history"]) == 3
    assert rep["area_mm2"] <= rep["area_budget_mm2"]
    assert f"#define DIM {rep['target']['dim']}" in (out / "gemmini_params.h").read_text()
    printed = capsys.readouterr().out
    assert "best:" in printed
    if rep["headline"]["simulated_edp_ratio"] is not None:
        assert rep["edp_improvement_vs_default"] == rep["headline"]["simulated_edp_ratio"]
        assert "on the simulator" in printed and "held-out layers" in printed
    assert rep["headline_text"] in (out / "report.md").read_text()


def _bad(tmp_path: Path, argv: list[str], capsys, match: str) -> None:
    db = tmp_path / "db.sqlite"
    before = db.read_bytes() if db.exists() else None
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("dlac: error:") and match in err, err
    assert (db.read_bytes() if db.exists() else None) == before
    assert not (tmp_path / "out").exists()


def test_impossible_area_budget(tmp_path: Path, space_file: Path, capsys) -> None:
    _bad(tmp_path, _args(tmp_path, space_file, "--area-budget", "0.01"), capsys,
         "below the smallest design")


def test_inverted_range(tmp_path: Path, capsys) -> None:
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"sp_kib": [256, 32]}))
    _bad(tmp_path, _args(tmp_path, f), capsys, "inverted")


def test_empty_range(tmp_path: Path, capsys) -> None:
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"dims": []}))
    _bad(tmp_path, _args(tmp_path, f), capsys, "empty")


def test_zero_budget(tmp_path: Path, space_file: Path, capsys) -> None:
    argv = _args(tmp_path, space_file)
    argv[argv.index("--budget") + 1] = "0"
    _bad(tmp_path, argv, capsys, "zero evaluations")


@pytest.mark.parametrize("searcher, option", [("digamma", "popsize=4"),
                                              ("confuciux-tf", "heads=4"), ("cma", "sigma=1")])
def test_unknown_searcher_option(tmp_path: Path, space_file: Path, capsys, searcher: str,
                                 option: str) -> None:
    argv = _args(tmp_path, space_file, "--searcher-option", option)
    argv[argv.index("random")] = searcher
    _bad(tmp_path, argv, capsys, f"searcher '{searcher}' has no option '{option.split('=')[0]}'")


def test_corrupt_database(tmp_path: Path, space_file: Path, capsys) -> None:
    (tmp_path / "db.sqlite").write_bytes(b"garbage" * 100)
    _bad(tmp_path, _args(tmp_path, space_file), capsys, "not a dlac tuning database")


def test_foreign_database(tmp_path: Path, space_file: Path, capsys) -> None:
    con = sqlite3.connect(tmp_path / "db.sqlite")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    _bad(tmp_path, _args(tmp_path, space_file), capsys, "another program")


def _trials(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_then_resume_matches_uninterrupted(tmp_path: Path, space_file: Path) -> None:
    def argv(tag: str, *extra: str) -> list[str]:
        a = _args(tmp_path / tag, space_file, *extra)
        a[a.index("--budget") + 1] = "16"
        a[a.index("--searcher") + 1] = "dabo"
        return [sys.executable, "-m", "dlac.dse", *a]

    env = dict(os.environ)
    (tmp_path / "full").mkdir()
    (tmp_path / "killed").mkdir()
    subprocess.run(argv("full"), check=True, env=env, capture_output=True)
    proc = subprocess.Popen(argv("killed"), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    db = tmp_path / "killed" / "db.sqlite"
    deadline = time.time() + 300
    # Batches are recorded as their evaluations finish: kill once the first one is in.
    while _trials(db) < 1 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _trials(db)
    assert 1 <= done <= 16
    subprocess.run(argv("killed", "--resume"), check=True, env=env, capture_output=True)
    full = json.loads((tmp_path / "full" / "out" / "report.json").read_text())
    resumed = json.loads((tmp_path / "killed" / "out" / "report.json").read_text())
    assert resumed["resumed_evaluations"] == done
    assert [h["target"] for h in resumed["history"]] == [h["target"] for h in full["history"]]
    assert resumed["target"] == full["target"] and resumed["edp"] == full["edp"]
