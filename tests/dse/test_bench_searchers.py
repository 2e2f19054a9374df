"""`--all-searchers` covers every registered searcher and scales each paper's settings to
a reduced budget without dropping below what the searcher accepts."""

from __future__ import annotations

import copy
import gzip
import json

import pytest
from dlac.dse.errors import DseError
from dlac.dse.search import searcher_names, searcher_options
from dlac.tools.bench_codesign import main
from dlac.tools.bench_searchers import (
    EXCLUDED,
    claims,
    default_searchers,
    load_doc,
    markdown,
    merge,
    searcher_settings,
    warmup_of,
    warmup_only,
    warmup_runs,
)


def test_every_registered_searcher_but_the_excluded_runs() -> None:
    assert set(default_searchers()) | set(EXCLUDED) == set(searcher_names())
    assert {"digamma", "confuciux", "confuciux-tf", "cma"} <= set(default_searchers())


@pytest.mark.parametrize("budget", [8, 20, 100, 40000])
def test_digamma_population_fits_the_budget_with_an_elite(budget: int) -> None:
    opts = searcher_settings("digamma", budget)
    assert 4 <= opts["population"] <= min(20, max(4, budget))
    assert round(opts["elite_ratio"] * opts["population"]) >= 1
    assert budget >= opts["population"] or budget < 4


@pytest.mark.parametrize("name", ["confuciux", "confuciux-tf"])
def test_rl_episodes_match_the_equal_evaluation_split(name: str) -> None:
    assert searcher_settings(name, 20) == {"episodes": 14}
    assert 1 - searcher_options(name)["ga_fraction"] == pytest.approx(0.7)


def test_settings_name_only_real_options() -> None:
    for name in default_searchers():
        assert set(searcher_settings(name, 20)) <= set(searcher_options(name))


def test_a_wall_clock_budget_is_one_line(capsys) -> None:
    assert main(["--all-searchers", "--budget", "60s", "--searchers", "cma"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs --budget N" in err


def _doc(wl: str, searchers: list[str]) -> dict:
    cell = {"summary": {}, "runs": {}}
    return {"config": {"workloads": [wl]}, "searchers": searchers,
            "results": {"evaluations": {f"{wl}/edge": cell}, "time": {f"{wl}/edge": cell}}}


def _rec(seed: int, edp: float, evaluations: int = 20) -> dict:
    return {"seed": seed, "edp": edp, "latency": edp, "default_edp": 10.0,
            "default_latency": 10.0, "evaluations": evaluations, "seconds": 1.0, "load": 1.0,
            "policy_ms_per_episode": None}


def _seeded(seeds: range, cma: float, dabo: float, budget: str = "20") -> dict:
    runs = {"cma": [_rec(k, cma) for k in seeds], "dabo": [_rec(k, dabo) for k in seeds]}
    cell = {"summary": {}, "runs": runs}
    return {"config": {"workloads": ["unet"], "spaces": ["edge"], "budget": budget,
                       "seeds": len(seeds), "seed_start": seeds.start},
            "searchers": ["cma", "dabo"],
            "results": {"evaluations": {"unet/edge": cell}, "time": {"unet/edge": cell}}}


def test_merge_joins_seeds_and_recomputes_the_summary() -> None:
    joined = merge([_seeded(range(0, 2), 2.0, 1.0), _seeded(range(2, 5), 4.0, 1.0)])
    cell = joined["results"]["evaluations"]["unet/edge"]
    assert [r["seed"] for r in cell["runs"]["dabo"]] == [0, 1, 2, 3, 4]
    assert joined["config"]["seeds"] == 5 and joined["config"]["workloads"] == ["unet"]
    assert cell["summary"]["dabo"]["seeds"] == 5
    assert cell["summary"]["dabo"]["edp_vs_cma"]["median"] == 0.25  # CMA median over 5: 4.0


def test_merge_refuses_a_seed_in_two_files_and_other_budgets() -> None:
    with pytest.raises(DseError, match="unet/edge cma seed 1 is in two files"):
        merge([_seeded(range(0, 2), 2.0, 1.0), _seeded(range(1, 3), 2.0, 1.0)])
    with pytest.raises(DseError, match=r"differ in budget \(100, 20\)"):
        merge([_seeded(range(0, 2), 2.0, 1.0), _seeded(range(2, 3), 2.0, 1.0, "100")])


def test_merge_reads_gzipped_files_like_plain_ones(tmp_path) -> None:
    doc = _seeded(range(0, 2), 2.0, 1.0)
    plain, packed = tmp_path / "s.json", tmp_path / "s.json.gz"
    plain.write_text(json.dumps(doc))
    with gzip.open(packed, "wt") as f:
        json.dump(doc, f)
    assert load_doc(packed) == load_doc(plain) == doc


def test_seed_start_runs_later_seeds_and_merges_by_seed(tmp_path, capsys) -> None:
    first, second, both = (tmp_path / f"{n}.json" for n in ("a", "b", "ab"))
    argv = ["--all-searchers", "--quick", "--searchers", "random", "--seed-start", "3"]
    assert main([*argv, "--json", str(first)]) == 0
    doc = json.loads(first.read_text())
    assert [r["seed"] for r in doc["results"]["time"]["bert_layer/edge"]["runs"]["random"]] == [3]
    other = copy.deepcopy(doc)
    for mode in other["results"].values():
        for rec in mode["bert_layer/edge"]["runs"]["random"]:
            rec["seed"] = 4
    second.write_text(json.dumps(other))
    assert main(["--all-searchers", "--merge", str(first), str(second), "--json", str(both)]) == 0
    merged = json.loads(both.read_text())
    assert merged["config"]["seeds"] == 2 and merged["config"]["seed_start"] == 3
    for mode in merged["results"].values():
        assert mode["bert_layer/edge"]["summary"]["random"]["seeds"] == 2
    capsys.readouterr()
    assert main(["--all-searchers", "--merge", str(first), str(first)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seed 3 is in two files" in err


def test_a_negative_seed_start_is_one_line(capsys) -> None:
    assert main(["--all-searchers", "--seed-start", "-1", "--searchers", "cma"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seed-start" in err


def test_rows_that_never_left_the_warm_up_are_marked() -> None:
    assert warmup_of("cbo") == warmup_of("dabo") == warmup_of("vanilla-bo") == 10
    assert warmup_of("cma") is None and warmup_of("random") is None
    doc = merge([_seeded(range(0, 3), 2.0, 1.0)])
    for rec in doc["results"]["time"]["unet/edge"]["runs"]["dabo"]:
        rec["evaluations"] = 10
    assert warmup_only(doc, "time") == ["dabo"] and warmup_only(doc, "evaluations") == []
    text = markdown(doc)
    assert text.count("(warm-up only)") == 1 and "*warm-up only*: dabo" in text


def test_single_runs_within_the_warm_up_are_listed_though_the_median_is_past_it() -> None:
    doc = merge([_seeded(range(0, 3), 2.0, 1.0)])
    doc["results"]["time"]["unet/edge"]["runs"]["dabo"][1]["evaluations"] = 10
    assert warmup_only(doc, "time") == []
    assert warmup_runs(doc, "time") == {"dabo": ["unet/edge seed 1"]}
    assert warmup_runs(doc, "evaluations") == {}
    assert ("*single runs within the warm-up* (random search, not the model): dabo 1/3 "
            "(unet/edge seed 1)") in markdown(doc)
    assert claims(doc)["time"]["warmup_only_runs"] == {"dabo": 1}

def test_merge_joins_workloads_and_rejects_other_searchers() -> None:
    joined = merge([_doc("bert_layer", ["cma"]), _doc("unet", ["cma"])])
    assert joined["config"]["workloads"] == ["bert_layer", "unet"]
    assert set(joined["results"]["time"]) == {"bert_layer/edge", "unet/edge"}
    with pytest.raises(DseError, match="same searchers"):
        merge([_doc("bert_layer", ["cma"]), _doc("unet", ["dabo"])])


def test_claims_are_ratios_of_medians() -> None:
    def runs(edp: float, ms: float | None = None) -> list[dict]:
        return [{"edp": edp, "latency": 1.0, "evaluations": 4, "load": 1.0,
                 "policy_ms_per_episode": ms}]

    res = {"runs": {"cma": runs(2.0), "digamma": runs(1.0), "confuciux": runs(4.0, 2.0),
                    "confuciux-tf": runs(3.0, 3.0)}, "summary": {}}
    doc = {"searchers": ["cma", "digamma", "confuciux", "confuciux-tf"],
           "results": {"evaluations": {"m/edge": res}, "time": {"m/edge": res}}}
    got = claims(doc)["evaluations"]
    assert got["digamma_edp_vs_cma_edge"] == 0.5 and got["digamma_edp_vs_cma_cloud"] is None
    assert got["tf_edp_vs_lstm"] == 0.75 and got["confuciux-tf_policy_ms_per_episode"] == 3.0


def test_a_budget_below_digammas_population_is_one_line(capsys) -> None:
    assert main(["--all-searchers", "--searchers", "digamma", "--workloads", "bert_layer",
                 "--spaces", "edge", "--seeds", "1", "--budget", "2", "--sw-samples", "2"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("bench_codesign: error: digamma: budget of 2 evaluations is "
                          "smaller than one population (4)")


def test_the_joint_footing_runs_digamma_and_the_optimizers_at_equal_samples() -> None:
    assert default_searchers("joint") == ["cma", "de", "digamma", "one-plus-one",
                                          "portfolio", "pso", "tbpsa"]
    assert searcher_settings("cma", 100, "joint") == {"footing": "joint"}
    assert searcher_settings("digamma", 100, "joint")["warm_start"] is False
    assert "footing" not in searcher_settings("cma", 100)
    joint, later = _seeded(range(0, 2), 2.0, 1.0), _seeded(range(2, 4), 2.0, 1.0)
    for doc in (joint, later):
        doc["config"]["footing"] = "joint"
        del doc["results"]["time"]
    assert list(merge([joint, later])["results"]) == ["evaluations"]
    assert "equal genome samples (DiGamma's joint footing)" in markdown(joint)
    with pytest.raises(DseError, match=r"differ in footing \(hw, joint\)"):
        merge([joint, _seeded(range(2, 3), 2.0, 1.0)])
