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
