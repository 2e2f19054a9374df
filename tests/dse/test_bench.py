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


class _Captured(Exception):
    """Stops a run once its search input is captured."""


def _search_input(models, host, steps) -> tuple:  # noqa: ANN001
    (name, layers), = models.items()
    return (sorted((layer.workload_hash(), n) for layer, n in layers), host[name].cycles,
            sorted(map(repr, steps[name])))


def test_bench_searches_the_model_the_cli_searches(tmp_path, monkeypatch) -> None:
    """The benchmark's workload is `dlac zoo:NAME --autotune`'s: same quantization (the
    CLI's defaults), layers, host steps and unmapped calls."""
    import dlac.dse.cli
    import dlac.tools.bench_codesign as bench
    from dlac.tools.dlac_main import main as dlac_main

    seen = []

    def capture_bench(models, opts, host, steps):  # noqa: ANN001, ANN202
        seen.append(_search_input(models, host, steps))
        raise _Captured

    def capture_cli(args, layers, emit, host, steps):  # noqa: ANN001, ANN202
        seen.append(_search_input(layers, host, steps))
        raise _Captured

    monkeypatch.setattr(bench, "autotune", capture_bench)
    monkeypatch.setattr(dlac.dse.cli, "run", capture_cli)
    for run in (lambda: bench.main(["--workloads", "tiny_cnn", "--searchers", "random",
                                    "--seeds", "1"]),
                lambda: dlac_main(["zoo:tiny_cnn", "--autotune", "-o", str(tmp_path)])):
        try:
            run()
        except _Captured:
            pass
    assert len(seen) == 2 and seen[0] == seen[1]


def test_merge_of_per_seed_runs_equals_one_run(tmp_path) -> None:
    """--seed-start chunks joined by --merge give the table of one run over all seeds."""
    common = ["--workloads", "bert_layer", "--budget", "2", "--sw-samples", "20",
              "--searchers", "random", "dabo", "--db", str(tmp_path / "db.sqlite")]
    assert main([*common, "--seeds", "2", "--json", str(tmp_path / "all.json")]) == 0
    for k in (0, 1):
        assert main([*common, "--seeds", "1", "--seed-start", str(k), "--json",
                     str(tmp_path / f"s{k}.json")]) == 0
    assert main(["--merge", str(tmp_path / "s0.json"), str(tmp_path / "s1.json"), "--json",
                 str(tmp_path / "merged.json")]) == 0
    whole, merged = (json.loads((tmp_path / f"{n}.json").read_text())["results"]["bert_layer"]
                     for n in ("all", "merged"))
    for key in ("default_heuristic", "random", "dabo"):
        assert merged["rows"][key]["median"] == whole["rows"][key]["median"]
    assert merged["rows"]["dabo"]["edps"] == whole["rows"]["dabo"]["edps"]
    assert merged["dabo_wins_over"] == whole["dabo_wins_over"] and merged["seed_list"] == [0, 1]
    assert main(["--merge", str(tmp_path / "s0.json"), str(tmp_path / "s0.json")]) == 1
