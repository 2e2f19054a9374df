"""Polaris's bad input through the CLIs: a space with no design, too few high-fidelity
rows to fit (the corrupt Starlight cache: tests/dse/test_starlight.py): one line naming
the problem, exit 1, no database and no output directory written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from dlac.tools.starlight_main import main as starlight_main

from .test_cli import SPACE, _bad

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "firesim" / "calibration.csv"
if not DATA.exists():
    DATA = Path("/work/shared/data/firesim/calibration.csv")


def _args(tmp_path: Path, space: dict, *extra: str) -> list[str]:
    f = tmp_path / "space.json"
    f.write_text(json.dumps(space))
    return ["--workload", "bert-layer", "--hw-space", str(f), "--budget", "4",
            "--db", str(tmp_path / "db.sqlite"), "-o", str(tmp_path / "out"),
            "--no-progress", "--searcher", "polaris", "--sim-check", "none", *extra]


@pytest.mark.parametrize("space, match", [
    ({**SPACE, "dims": []}, "empty"),
    ({**SPACE, "sp_kib": [8, 8], "acc_kib": [8, 8], "dims": [16]}, ""),
])
def test_space_without_a_design(tmp_path: Path, capsys, space: dict, match: str) -> None:
    _bad(tmp_path, _args(tmp_path, space, "--searcher-option", "surrogate=gp"), capsys, match)
    assert not (tmp_path / "db.sqlite").exists()


def test_too_few_high_fidelity_rows(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DLAC_CACHE", str(tmp_path / "cache"))
    with DATA.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for name, part in (("train", rows[:2]), ("test", rows[2:8])):
        with (tmp_path / f"{name}.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(part)
    rc = starlight_main(["evaluate", "--train", str(tmp_path / "train.csv"), "--test",
                         str(tmp_path / "test.csv"), "--low-points", "512", "--low-epochs",
                         "2"])
    err = capsys.readouterr().err
    assert rc != 0 and err.startswith("dlac-starlight: error:") and err.count("\n") == 1, err
    assert "at least 3" in err
