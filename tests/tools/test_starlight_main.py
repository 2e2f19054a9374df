"""dlac-starlight: evaluate's JSON keys on a tiny by-layer split, one-line bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from dlac.tools.starlight_main import main

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "firesim" / "calibration.csv"
if not DATA.exists():
    DATA = Path("/work/shared/data/firesim/calibration.csv")
TINY = ["--low-points", "512", "--low-epochs", "2"]


@pytest.fixture()
def split(tmp_path, monkeypatch):
    monkeypatch.setenv("DLAC_CACHE", str(tmp_path / "cache"))
    with DATA.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    layer = [r["prob.C"] + "_" + r["prob.K"] + "_" + r["prob.P"] + "_" + r["prob.R"] for r in rows]
    names = sorted(set(layer))
    parts = {"train": names[:3], "test": names[3:5]}
    out = {}
    for part, keep in parts.items():
        path = tmp_path / f"{part}.csv"
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(r for r, name in zip(rows, layer, strict=True) if name in keep)
        out[part] = path
    return out


def test_evaluate_json_keys(split, capsys) -> None:
    rc = main(["evaluate", "--train", str(split["train"]), "--test", str(split["test"]),
               "--json", *TINY])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("global_rho", "within_layer_rho", "pearson_r", "mape", "train_rows",
                "test_rows"):
        assert key in out
    assert out["train_rows"] > 3 and out["test_rows"] > 3
    assert -1 <= out["global_rho"] <= 1


def test_bad_csv_is_one_line(split, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    rc = main(["evaluate", "--train", str(bad), "--test", str(split["test"]), *TINY])
    err = capsys.readouterr().err
    assert rc != 0 and err.startswith("dlac-starlight: error:") and err.count("\n") == 1
    assert "missing column" in err
    rc = main(["evaluate", "--train", str(tmp_path / "none.csv"), "--test", str(bad), *TINY])
    assert rc != 0 and capsys.readouterr().err.count("\n") == 1
