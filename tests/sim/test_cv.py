"""Leave-layers-out cross-validation: folds by layer, fits that never see their test layers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from dlac.sim import cv
from dlac.sim import fit as fit_module
from dlac.sim.calibrate import simulate_all
from dlac.sim.calibration_data import load_cases
from dlac.sim.cv import PRIOR_KNOBS
from dlac.sim.errors import SimError

DATA = Path("/work/shared/data/firesim/calibration.csv")


def _cases() -> list:
    if not DATA.exists():
        pytest.skip(f"calibration data not found at {DATA}")
    return load_cases(DATA)


def test_folds_split_by_layer_deterministically() -> None:
    cases = _cases()
    folds = {c.layer: cv.fold_of(c.layer, 5) for c in cases}
    assert set(folds.values()) == set(range(5))
    assert folds == {c.layer: cv.fold_of(c.layer, 5) for c in cases}


def test_each_fold_is_scored_on_layers_its_fit_never_saw(monkeypatch) -> None:
    cases = [c for c in _cases() if c.dim == 4][:60]
    seen: list[set[str]] = []

    def fake_fit(rows, start, **_):
        seen.append({r.layer for r in rows})
        return start

    monkeypatch.setattr(cv, "fit", fake_fit)
    monkeypatch.setattr(cv, "predict", lambda rows, knobs, jobs, **_: [c.measured for c in rows])
    result = cv.cross_validate(cases, cv.CvSettings(folds=3))
    for fit_layers, fold in zip(seen, result["folds"], strict=True):
        test_layers = {c.layer for c in cases if cv.fold_of(c.layer, 3) == fold["fold"]}
        assert not fit_layers & test_layers
    assert result["mape"] == 0.0 and result["rows"] == len(cases)
    assert set(result["worst"]) == {"global_rho", "within_layer_rho", "mape"}


def test_ranking_hits() -> None:
    cases = [c for c in _cases() if c.dim == 4]
    perfect = cv.ranking(cases, [c.measured for c in cases])
    assert perfect["top1"] == 1.0 and perfect["top5"] == 1.0 and perfect["layers"] > 0


def test_too_few_folds_or_layers_is_one_line() -> None:
    cases = _cases()
    with pytest.raises(SimError, match="at least 2 folds"):
        cv.cross_validate(cases, cv.CvSettings(folds=1))
    one_layer = [c for c in cases if c.layer == cases[0].layer]
    with pytest.raises(SimError, match="only 1 layer"):
        cv.cross_validate(one_layer, cv.CvSettings(folds=3))


def test_memoised_cv_gives_the_unmemoised_numbers_with_fewer_simulations(monkeypatch) -> None:
    dim4 = [c for c in _cases() if c.dim == 4]
    cases = ([c for c in dim4 if c.kind == "conv"][:40]
             + [c for c in dim4 if c.kind == "matmul"][:20])
    calls: list[int] = []

    def fake_simulate_all(rows, timing, target, progress=None):
        calls.append(len(rows))
        scale = timing.host_issue_cycles * timing.llc_latency / target.dram_latency
        own = {"conv": timing.host_conv_call_cycles, "matmul": timing.host_call_cycles}
        return [c.measured * (0.5 + scale * (1 + c.index % 7) / 10 + own[c.kind] / 1e5)
                for c in rows]

    monkeypatch.setattr(fit_module, "simulate_all", fake_simulate_all)
    settings = cv.CvSettings(folds=3, rows_per_layer=2, rounds=2)
    plain = cv.cross_validate(cases, replace(settings, memoize=False))
    plain_calls = sum(calls)
    calls.clear()
    memoised = cv.cross_validate(cases, settings)
    plain["settings"].pop("memoize")
    memoised["settings"].pop("memoize")
    assert memoised == plain
    assert sum(calls) < plain_calls


def test_rows_do_not_read_the_knobs_the_memo_ignores_for_their_kind() -> None:
    for kind in ("conv", "matmul"):
        rows = sorted((c for c in _cases() if c.kind == kind), key=lambda c: c.measured)[:3]
        moved = {n: 3.0 * PRIOR_KNOBS.get(n) + 1.0 for n in fit_module.UNREAD_KNOBS[kind]}
        other = PRIOR_KNOBS.timing.replace(**moved)
        assert (simulate_all(rows, PRIOR_KNOBS.timing, PRIOR_KNOBS.target)
                == simulate_all(rows, other, PRIOR_KNOBS.target)), kind
