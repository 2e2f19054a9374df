"""The headline ratio is the simulator's wherever the simulator ran, printed beside the
analytical model's and the simulator's held-out cycle error."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.headline import Headline, edp_ratio
from dlac.dse.nested import SwConfig
from dlac.sim.errors import SimError
from dlac.sim.heldout import ERROR_FILE, HeldOutError, held_out_error

ERR = HeldOutError(mape=0.25, worst_fold_mape=0.3, within_layer_rho=0.9, folds=5, rows=10,
                   command="dlac-sim calibrate x.csv --cv 5")


def test_ratio_is_product_over_models() -> None:
    assert edp_ratio({"a": 8.0, "b": 3.0}, {"a": 2.0, "b": 1.0}) == pytest.approx(12.0)
    assert edp_ratio({"a": 8.0, "b": 3.0}, {"a": 2.0}) is None
    assert edp_ratio({}, {}) is None


def test_sentence_names_footing_and_error() -> None:
    both = Headline(4.0, 5.0, ERR).sentence()
    assert "4x lower than default Gemmini on the simulator" in both
    assert "analytical model: 5x lower" in both
    assert "+/-25.0% MAPE (worst fold 30.0%)" in both
    assert "on the analytical model (not checked" in Headline(None, 0.5, ERR).sentence()
    assert "2x higher" in Headline(None, 0.5, ERR).sentence()
    assert Headline(4.0, 5.0, ERR).ratio == 4.0
    assert Headline(None, 5.0, ERR).ratio == 5.0


def test_shipped_error_is_cross_validated() -> None:
    err = held_out_error()
    assert "--cv" in err.command and err.folds >= 2
    assert 0 < err.mape <= err.worst_fold_mape < 1
    assert json.loads(ERROR_FILE.read_text())["mape"] == err.mape


def test_unreadable_error_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "e.json"
    bad.write_text("{")
    with pytest.raises(SimError, match="not a held-out error record"):
        held_out_error(bad)


def test_save_round_trips(tmp_path: Path) -> None:
    ERR.save(tmp_path / "e.json")
    assert held_out_error(tmp_path / "e.json") == ERR


def test_sim_search_is_recosted_on_the_model(models, small_space, tmp_path: Path) -> None:
    opts = Options(space=small_space, searcher="random", evaluator="sim",
                   budget=Budget(evaluations=2), seed=0, sw=SwConfig("batch", samples=20),
                   db_path=tmp_path / "db.sqlite", progress=False)
    h = autotune(models, opts).headline
    assert h is not None and h.simulated is not None and h.analytical is not None
    assert math.isfinite(h.simulated) and math.isfinite(h.analytical)
