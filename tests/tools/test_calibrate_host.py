"""`python -m dlac.tools.calibrate_host` on Spike: rows from two zoo models, a
leave-one-model-out table, and the fit's JSON. Skips without the Spike cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dlac.flow import spike
from dlac.tools.calibrate_host import main


def test_fit_and_cross_validation(tmp_path: Path, capsys) -> None:
    try:
        spike.require_cache()
    except spike.SpikeError as err:
        pytest.skip(str(err))
    out = tmp_path / "host.json"
    assert main(["tiny_cnn", "mlp", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["models"] == ["mlp", "tiny_cnn"]
    assert set(record["cross_validation"]["per_model"]) == {"mlp", "tiny_cnn"}
    assert all(v >= 0 for v in record["coefficients"].values())
    assert "leave-one-model-out" in capsys.readouterr().out


def test_one_model_is_not_enough(tmp_path: Path, capsys) -> None:
    try:
        spike.require_cache()
    except spike.SpikeError as err:
        pytest.skip(str(err))
    assert main(["mlp"]) == 1
    assert "at least two models" in capsys.readouterr().err
