"""The report's Polaris plots and section: per-candidate convergence and prospective
prediction accuracy."""

from __future__ import annotations

import dataclasses
import json

from dlac.dse import polaris_report
from dlac.dse.driver import autotune
from dlac.dse.report import write_outputs

from .test_polaris_quality import _opts


def test_polaris_report_has_both_plots_and_rho(models, small_space, tmp_path) -> None:
    res = autotune(models, _opts(small_space, tmp_path, budget=12))
    out = tmp_path / "out"
    write_outputs(res, out)
    for name in polaris_report.PLOTS.values():
        assert (out / name).stat().st_size > 0
    report = json.loads((out / "report.json").read_text())
    sec = report["polaris"]
    assert [c["target"] for c in sec["candidates"]] == [h["target"] for h in report["history"]]
    assert sec["points"] == len(sec["predicted_measured"]) == 10
    assert -1.0 <= sec["spearman_rho"] <= 1.0
    md = (out / "report.md").read_text()
    assert "## Polaris" in md and "polaris_candidates.png" in md and "Spearman rho" in md


def test_other_searchers_have_no_polaris_section(models, small_space, tmp_path) -> None:
    res = autotune(models, dataclasses.replace(_opts(small_space, tmp_path, budget=2),
                                               searcher="random", searcher_options={}))
    report = write_outputs(res, tmp_path / "out")
    assert report["polaris"] is None
    assert not (tmp_path / "out" / polaris_report.PLOTS["candidates"]).exists()


def test_accuracy_is_undefined_on_too_few_or_constant_points() -> None:
    assert polaris_report._accuracy([(1.0, 2.0), (2.0, 3.0)])["spearman_rho"] is None
    assert polaris_report._accuracy([(1.0, 2.0), (1.0, 3.0), (1.0, 4.0)])["pearson_r"] is None
    got = polaris_report._accuracy([(1.0, 2.0), (2.0, 3.0), (3.0, 5.0)])
    assert got["spearman_rho"] == 1.0 and got["points"] == 3
