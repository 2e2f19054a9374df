"""bench_codesign's best-vs-samples curves, Polaris's win and within-5% counts, the
--best-plot and the software-only mode."""

from __future__ import annotations

import json
import math

from dlac.tools import bench_curves
from dlac.tools.bench_codesign import main

ARGS = ["--workloads", "mlp", "--seeds", "1", "--sw-samples", "3", "--searchers", "polaris",
        "dabo", "--searcher-option", "surrogate=gp", "--searcher-option", "sw_samples=16",
        "--searcher-option", "hw_iterations=4", "--searcher-option", "sw_iterations=1"]


def test_curves_wins_and_plot(tmp_path) -> None:
    out, png = tmp_path / "b.json", tmp_path / "b.png"
    assert main([*ARGS, "--sample-budget", "12", "--db", str(tmp_path / "db.sqlite"),
                 "--json", str(out), "--best-plot", str(png)]) == 0
    res = json.loads(out.read_text())["results"]["mlp"]
    (pol,), (dabo,) = res["curves"]["polaris"], res["curves"]["dabo"]
    assert [p[0] for p in pol] == [3, 6, 9, 12] and pol[-1][0] == dabo[-1][0] == 12
    assert all(a[1] >= b[1] for a, b in zip(pol, pol[1:], strict=False))
    assert math.isclose(pol[-1][1], res["rows"]["polaris"]["median"], rel_tol=1e-12)
    assert set(res["polaris_wins_over"]) == {"dabo"}
    assert res["polaris_within_5pct_after_3"] in ([True], [False])
    assert png.stat().st_size > 0


def test_sw_only_keeps_default_gemmini(tmp_path) -> None:
    out = tmp_path / "s.json"
    assert main([*ARGS, "--sw-only", "--sample-budget", "6", "--db",
                 str(tmp_path / "db.sqlite"), "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["results"]["mlp"]["rows"]
    assert rows["polaris"]["samples"] == [6] and rows["dabo"]["samples"] == [6]


def test_median_curve_steps() -> None:
    a, b = [[1, 10.0], [3, 5.0]], [[2, 8.0], [3, 6.0]]
    assert bench_curves.median_curve([a, b]) == [[2, 9.0], [3, 5.5]]
