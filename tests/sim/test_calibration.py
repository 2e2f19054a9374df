"""Calibration tooling: mapping parsing, harness reconstruction, a fast scored subset."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from dlac.sim.calibrate import CALIBRATION_TARGET, HARNESS_TIMING, matmul_tiles
from dlac.sim.calibration_data import case_from_row, load_cases, parse_mapping
from dlac.sim.errors import SimError
from dlac.tools.sim_main import main

DATA = Path("/work/shared/data/firesim/calibration.csv")
ROW = {
    "target.gemmini_cycle": "9853947.0",
    "mapping.mapping": "L3[WIO] K8 Q28 - L2[WI] N1 K4X - L1[O] K2 S7 R7 Q4 P7 C3X - L0[W] P16",
    "arch.mem2_depth": "8192", "arch.mem2_width": "1024", "arch.mem1_depth": "2048",
    "arch.mem1_instances": "128", "prob.C": "3", "prob.K": "64", "prob.N": "1", "prob.P": "112",
    "prob.Q": "112", "prob.R": "7", "prob.S": "7", "prob.Hstride": "2", "prob.Wstride": "2",
}


def test_parse_mapping_levels_and_spatial_factors() -> None:
    levels = parse_mapping(ROW["mapping.mapping"])
    assert levels[3] == [("K", 8, False), ("Q", 28, False)]
    assert ("K", 4, True) in levels[2] and ("C", 3, True) in levels[1]
    with pytest.raises(SimError, match="bad mapping token"):
        parse_mapping("L3[WIO] Z3 - L0[W] N1")


def test_case_reconstructs_the_harness_tiles_and_loop_order() -> None:
    case = case_from_row(0, ROW)
    assert case.dim == 4 and case.sp_kib == 1024 and case.acc_kib == 1024
    # P: 7 (L1) * 16 (L0); the README's doubled L0 factor is not what the timing shows
    assert case.tiles == {"N": 1, "C": 3, "K": 8, "P": 112, "Q": 4, "R": 7, "S": 7}
    # L3 reversed (innermost first) = Q K, then C R S P N; outermost first = NPSRCKQ
    assert case.perm == "NPSRCKQ"
    assert case.layer == "7_7_112_112_3_64_1_2_2"


def test_matmul_tiles_use_the_harness_16_element_blocks() -> None:
    row = dict(ROW, **{"prob.C": "512", "prob.K": "256", "prob.P": "1", "prob.Q": "1",
                       "prob.R": "1", "prob.S": "1", "prob.Hstride": "1", "prob.Wstride": "1",
                       "mapping.mapping": "L3[WIO] K16 C8 - L2[WI] N1 K4X - L1[O] K4 C16 C4X"
                                          " - L0[W] N1"})
    case = case_from_row(0, row)
    assert case.kind == "matmul" and case.dim == 4
    # element tiles P1 K16 C64 -> blocks max(1, t // 16), whatever DIM is: (1, 1, 4)
    assert matmul_tiles(case) == (1, 1, 4)


def test_missing_columns_are_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(SimError, match="missing column"):
        load_cases(bad)
    assert main(["calibrate", str(bad)]) == 1


@pytest.mark.skipif(not DATA.exists(), reason="calibration data not present")
def test_calibrate_command_on_a_fast_subset(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The full calibration takes minutes; CI scores the 30 cheapest measured runs."""
    with DATA.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows.sort(key=lambda r: float(r["target.gemmini_cycle"]))
    subset = tmp_path / "subset.csv"
    with subset.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:30])
    assert main(["calibrate", str(subset), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"] == 30 and result["failed"] == 0
    assert result["global_rho"] > 0.5


@pytest.mark.skipif(not DATA.exists(), reason="calibration data not present")
@pytest.mark.parametrize("loss", ["log", "mape"])
def test_fit_never_raises_its_loss(loss: str) -> None:
    from dlac.sim.fit import LOSSES, Knobs, fit, predict

    cases = sorted(load_cases(DATA), key=lambda c: c.measured)[:6]
    start = Knobs(CALIBRATION_TARGET, HARNESS_TIMING)
    knobs = fit(cases, start, rounds=1, names=("host_call_cycles",), loss=loss,
                log=lambda _: None)
    before = LOSSES[loss](cases, predict(cases, start))
    assert LOSSES[loss](cases, predict(cases, knobs)) <= before


def test_mape_loss_weighs_over_prediction_by_its_size() -> None:
    from dlac.sim.fit import mape_loss

    case = case_from_row(0, ROW)
    assert mape_loss([case], [2 * case.measured]) == pytest.approx(1.0)
    assert mape_loss([case], [case.measured / 2]) == pytest.approx(0.5)


def _write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_unbuildable_buffer_sizes_are_mapped_or_named_and_skipped(tmp_path: Path) -> None:
    # 108 KiB (a published run's scratchpad) loads as a buildable bank split; a size in no
    # whole KiB is simulated as the next size the generator builds, with a note; an
    # accumulator larger than the scratchpad breaks GemminiConfigs' tile rule and the row is
    # left out, named by its line, while the other rows load.
    small_acc = {**ROW, "arch.mem1_depth": "64"}
    sp_108 = {**small_acc, "arch.mem2_depth": "864"}
    sp_odd = {**small_acc, "arch.mem2_depth": "863"}
    huge_acc = {**ROW, "arch.mem1_depth": "65536"}
    notes: list[str] = []
    path = _write_rows(tmp_path / "odd.csv", [ROW, sp_108, sp_odd, huge_acc])
    cases = load_cases(path, notes)
    assert [c.index for c in cases] == [0, 1, 2]
    assert cases[1].sp_kib == 108 and cases[2].sp_kib == 108
    assert cases[1].target(CALIBRATION_TARGET).sp_bank_rows & (cases[1].target(
        CALIBRATION_TARGET).sp_bank_rows - 1) == 0
    assert any("scratchpad of 107.875 KiB" in n and "line 4" in n for n in notes)
    assert any("skipped" in n and "line 5" in n for n in notes)


def test_predict_memo_gives_the_same_cycles_without_resimulating(monkeypatch) -> None:
    from dlac.sim import fit as fit_mod

    case = case_from_row(0, ROW)
    knobs = fit_mod.Knobs(CALIBRATION_TARGET, HARNESS_TIMING)
    calls: list[int] = []
    monkeypatch.setattr(fit_mod, "simulate_all",
                        lambda cases, *_a, **_k: calls.append(len(cases)) or [1.0] * len(cases))
    memo: fit_mod.Memo = {}
    assert fit_mod.predict([case], knobs, memo=memo) == [1.0]
    assert fit_mod.predict([case], knobs, memo=memo) == [1.0]
    assert calls == [1, 0]
