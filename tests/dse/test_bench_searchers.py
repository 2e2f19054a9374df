"""`--all-searchers` covers every registered searcher and scales each paper's settings to
a reduced budget without dropping below what the searcher accepts."""

from __future__ import annotations

import pytest
from dlac.dse.errors import DseError
from dlac.dse.search import searcher_names, searcher_options
from dlac.tools.bench_codesign import main
from dlac.tools.bench_searchers import (
    EXCLUDED,
    claims,
    default_searchers,
    merge,
    searcher_settings,
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


def test_merge_joins_workloads_and_rejects_other_searchers() -> None:
    def doc(wl: str, searchers: list[str]) -> dict:
        cell = {"summary": {}, "runs": {}}
        return {"config": {"workloads": [wl]}, "searchers": searchers,
                "results": {"evaluations": {f"{wl}/edge": cell}, "time": {f"{wl}/edge": cell}}}

    joined = merge([doc("bert_layer", ["cma"]), doc("unet", ["cma"])])
    assert joined["config"]["workloads"] == ["bert_layer", "unet"]
    assert set(joined["results"]["time"]) == {"bert_layer/edge", "unet/edge"}
    with pytest.raises(DseError, match="same searchers"):
        merge([doc("bert_layer", ["cma"]), doc("unet", ["dabo"])])


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
