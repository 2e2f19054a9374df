"""The co-design benchmark script runs end to end on a tiny budget and writes JSON."""

from __future__ import annotations

import json

from dlac.tools.bench_codesign import main


def test_bench_smoke(tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    rc = main(["--workloads", "bert_layer", "--seeds", "2", "--budget", "2", "--sw-samples",
               "50", "--searchers", "random", "dabo", "--db", str(tmp_path / "db.sqlite"),
               "--json", str(out)])
    assert rc == 0
    data = json.loads(out.read_text())["results"]["bert_layer"]
    assert set(data["rows"]) == {"default_heuristic", "default_best_mapping", "random", "dabo"}
    assert data["rows"]["dabo"]["n"] == 2
    assert "median EDP" in capsys.readouterr().out


def test_all_searchers_smoke(tmp_path, capsys) -> None:
    out, md, png = tmp_path / "all.json", tmp_path / "all.md", tmp_path / "all.png"
    rc = main(["--all-searchers", "--quick", "--searchers", "random", "cma", "--json",
               str(out), "--markdown", str(md), "--plot", str(png)])
    assert rc == 0
    doc = json.loads(out.read_text())
    for mode in ("evaluations", "time"):
        summary = doc["results"][mode]["bert_layer/edge"]["summary"]
        assert set(summary) == {"random", "cma"}
        assert summary["cma"]["edp_vs_cma"]["median"] == 1.0
        assert summary["random"]["edp_vs_default"]["median"] > 0
    assert doc["results"]["evaluations"]["bert_layer/edge"]["summary"]["cma"]["evaluations"] == 8
    assert "EDP / CMA" in md.read_text() and png.stat().st_size > 0
    assert "geomean EDP / cma" in capsys.readouterr().out
