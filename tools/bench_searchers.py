"""Every registered HW searcher on one footing: `bench_codesign.py --all-searchers`.

For each workload (zoo models as the frontend lowers them) and hardware space (`edge`,
`cloud`), every searcher (but `EXCLUDED`, unless named; each with `searcher_settings`,
its paper's settings scaled to the budget) runs `--seeds` seeds twice: at an equal number of HW
evaluations (`--budget`) and, separately, at equal wall time (`--seconds` per run). Each
run reports its chosen design's EDP and latency on the analytical model (host steps and
the Gemmini calls no mapping controls included), normalised two ways: to CMA's median
over seeds (how DiGamma's Figure 5 normalises; > 1 is worse than CMA) and to default
Gemmini with its heuristic mapping.
Runs at equal evaluations share one (temporary) tuning database: a cached layer search is
exactly what a fresh one computes, so results do not depend on it. Every equal-time run
starts from an empty database, so no searcher gets evaluations for free from another's
cache. `--seed-start K` runs seeds K .. K + seeds - 1, so chunks of seeds can run in
separate processes (each with its own database, by the same argument) and `--merge`
joins their files by seed.

Outputs: a text table on stdout, `--json`, `--markdown` (per workload and space, plus the
geometric mean over them) and `--plot` (best-so-far objective over evaluations, median
over seeds, normalised to default Gemmini, one panel per workload and space). A
`MODEL_GUIDED` searcher whose runs end within its random warm-up (a time budget too short
for its first model-picked batch) is marked "warm-up only" in the tables; below them, every
single run that ended within its warm-up is listed (cell and seed), since a median past
the warm-up can still hide runs that were random search.
`--footing joint` is DiGamma's own footing (its paper's Figure 5): DiGamma and the
nevergrad optimisers (`JOINT_SEARCHERS`) all search DiGamma's joint genome (hardware and
every layer's mapping; the optimisers with `footing=joint`, DiGamma from an all-random
generation 0, `warm_start=false`, as the paper starts and as the optimisers start), one
genome per evaluation, so `--budget N` is N genome samples for each; there is no nested
mapping search and no equal-time mode (the paper compares at equal samples).
`--quick` shrinks everything to a smoke run of about two minutes on an idle 2-core
machine (BERT layer, edge, one seed, 8 evaluations, 4 s, 100 mappings per layer).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dlac.dse.driver import AutotuneResult, Options, autotune, parse_budget
from dlac.dse.errors import DseError
from dlac.dse.hwspace import load_space
from dlac.dse.nested import SwConfig
from dlac.dse.search import HW_CONFIG, searcher_names, searcher_options
from dlac.dse.search.nevergrad_lib import OPTIMIZERS
from dlac.tools.compile_flow import host_and_steps_of, layers_of
from dlac.tools.dlac_main import quantized_model

QUICK = {"workloads": ["bert_layer"], "spaces": ["edge"], "seeds": 1, "budget": "8",
         "seconds": 4.0, "sw_samples": 100}
"""The `--quick` settings (they override the command line's)."""

REFERENCE = "cma"
"""The searcher the others are normalised to, as in DiGamma's comparison."""

MODES = ("evaluations", "time")

JOINT_SEARCHERS = ("digamma", *OPTIMIZERS)
"""The searchers that can search DiGamma's joint genome (`--footing joint`)."""


def modes_of(footing: str) -> tuple[str, ...]:
    """Budget modes of a footing: the joint footing compares at equal samples only."""
    return MODES if footing == "hw" else ("evaluations",)

EXCLUDED = {"polaris": "its budget counts per-layer evaluator samples, not HW designs "
                       "(one software iteration alone is one sample per unique layer), "
                       "so it has no equal-evaluation footing; it is compared at equal "
                       "samples in docs/codesign.md's Polaris sections"}
"""Registered searchers `--all-searchers` leaves out unless named, and why."""

DIGAMMA_GENERATIONS = 5
"""DiGamma's population at a budget of N samples is N / this (at most its default 20, at
least 4), so a reduced budget still runs several generations instead of one random
population; its elite ratio is raised to keep at least one elite."""

RL_SHARE = 0.7
"""ConfuciuX's RL share of an evaluation budget (1 - its default ga_fraction); an
equal-time run gives it the same number of RL episodes as its equal-evaluation run."""


MODEL_GUIDED = ("cbo", "dabo", "vanilla-bo")
"""Searchers whose first `warmup` trials are random feasible designs (their model picks
only later): a run that stops within them is random search, and the tables say so."""


def warmup_of(searcher: str) -> int | None:
    """The random warm-up trials of a `MODEL_GUIDED` searcher (cbo's `warmup` option, the
    HW search config's for daBO and vanilla BO), else None."""
    if searcher not in MODEL_GUIDED:
        return None
    return int(searcher_options(searcher).get("warmup", HW_CONFIG.warmup))


def warmup_only(doc: dict[str, Any], mode: str) -> list[str]:
    """The `MODEL_GUIDED` searchers whose median trials in `mode` end within the warm-up."""
    trials = median_trials(doc, mode)
    return [s for s in doc["searchers"]
            if (w := warmup_of(s)) is not None and trials[s] <= w]


def warmup_runs(doc: dict[str, Any], mode: str) -> dict[str, list[str]]:
    """Per `MODEL_GUIDED` searcher, its single runs in `mode` that ended within the random
    warm-up ("cell seed k"), which the median trials can hide."""
    out: dict[str, list[str]] = {}
    for s in doc["searchers"]:
        w = warmup_of(s)
        if w is None:
            continue
        hit = [f"{cell} seed {r.get('seed', i)}" for cell, res in doc["results"][mode].items()
               for i, r in enumerate(res["runs"].get(s, [])) if r["evaluations"] <= w]
        if hit:
            out[s] = hit
    return out


def _warmup_note(doc: dict[str, Any], mode: str) -> str | None:
    """One line naming the single runs that ended within their warm-up, or None."""
    runs = warmup_runs(doc, mode)
    if not runs:
        return None
    total = {s: sum(len(res["runs"].get(s, [])) for res in doc["results"][mode].values())
             for s in runs}
    return ("*single runs within the warm-up* (random search, not the model): " + "; ".join(
        f"{s} {len(hit)}/{total[s]} ({', '.join(hit)})" for s, hit in runs.items()))


def default_searchers(footing: str = "hw") -> list[str]:
    """Every registered searcher but the `EXCLUDED` ones (on the joint footing: every
    registered one of `JOINT_SEARCHERS`)."""
    if footing == "joint":
        return [s for s in searcher_names() if s in JOINT_SEARCHERS]
    return [s for s in searcher_names() if s not in EXCLUDED]


def searcher_settings(searcher: str, evaluations: int, footing: str = "hw") -> dict[str, Any]:
    """Each paper's settings at a reduced budget of `evaluations` HW evaluations (for
    an equal-time run: the equal-evaluation budget it is paired with); on the joint
    footing the optimisers' `footing=joint` and DiGamma's random start."""
    if searcher == "digamma":
        population = max(4, min(20, evaluations // DIGAMMA_GENERATIONS))
        return {"population": population, "elite_ratio": max(0.1, 1 / population),
                **({"warm_start": False} if footing == "joint" else {})}
    if footing == "joint":
        return {"footing": "joint"}
    if searcher in ("confuciux", "confuciux-tf"):
        return {"episodes": max(1, round(RL_SHARE * evaluations))}
    return {}


def apply_quick(args: argparse.Namespace) -> None:
    for key, value in QUICK.items():
        setattr(args, key, value)


def _run(models: dict[str, Any], costs: dict[str, Any], args: argparse.Namespace, space: Any,
         searcher: str, seed: int, budget: str, db: Path) -> tuple[AutotuneResult, float]:
    opts = Options(space=space, searcher=searcher, evaluator="analytical",
                   budget=parse_budget(budget), seed=seed,
                   sw=SwConfig("batch", args.sw_samples, objective=args.objective),
                   db_path=db, progress=False, validate="none",
                   searcher_options=searcher_settings(searcher, int(args.budget),
                                                      args.footing))
    t0 = time.monotonic()
    result = autotune(models, opts, **costs)
    return result, time.monotonic() - t0


def _record(result: AutotuneResult, name: str, seconds: float) -> dict[str, Any]:
    """One run: its chosen design's EDP and latency, the default's, and the best-so-far
    objective metric after each trial."""
    best, default = result.best.models[name], result.default_heuristic.models[name]
    curve, cur = [], math.inf
    for t in result.trials:
        if t.result.feasible:
            cur = min(cur, t.result.models[name].value(t.result.goal))
        curve.append(cur if math.isfinite(cur) else None)
    return {"edp": best.edp, "latency": best.cycles, "default_edp": default.edp,
            "default_latency": default.cycles, "default_objective": default.value(
                result.best.goal), "target": result.best.target.name,
            "evaluations": len(result.trials), "seconds": seconds, "curve": curve,
            "policy_ms_per_episode": _policy_ms(result.searcher)}


def _policy_ms(searcher: Any) -> float | None:
    """An RL searcher's own time per sampled episode (sampling and updates), else None."""
    episodes = getattr(searcher, "episodes_sampled", 0)
    return 1e3 * searcher.policy_seconds / episodes if episodes else None


def _spread(values: list[float], scale: float | None) -> dict[str, float] | None:
    if not values or not scale:
        return None
    vals = [v / scale for v in values]
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per searcher: median/min/max EDP and latency over seeds, raw and normalised."""
    ref = runs.get(REFERENCE, [])
    out = {}
    for searcher, recs in runs.items():
        row: dict[str, Any] = {"seeds": len(recs),
                               "evaluations": statistics.median(r["evaluations"] for r in recs),
                               "seconds": statistics.median(r["seconds"] for r in recs),
                               "load": statistics.median(r.get("load", 0.0) for r in recs)}
        policy = [r["policy_ms_per_episode"] for r in recs
                  if r.get("policy_ms_per_episode") is not None]
        row["policy_ms_per_episode"] = statistics.median(policy) if policy else None
        for metric in ("edp", "latency"):
            vals = [r[metric] for r in recs]
            ref_median = statistics.median(r[metric] for r in ref) if ref else None
            row[metric] = _spread(vals, 1.0)
            row[f"{metric}_vs_{REFERENCE}"] = _spread(vals, ref_median)
            row[f"{metric}_vs_default"] = _spread(vals, recs[0][f"default_{metric}"])
        out[searcher] = row
    return out


def _cell_runs(models: dict[str, Any], costs: dict[str, Any], args: argparse.Namespace,
               space_name: str, mode: str, searchers: list[str],
               dbs: Path) -> dict[str, list[dict[str, Any]]]:
    """Every searcher and seed on one workload and space in one budget mode."""
    (wl,) = models
    space = load_space(space_name)
    budget = args.budget if mode == "evaluations" else f"{args.seconds}s"
    runs: dict[str, list[dict[str, Any]]] = {}
    for searcher in searchers:
        for seed in range(args.seed_start, args.seed_start + args.seeds):
            db = (dbs / "shared.sqlite" if mode == "evaluations"
                  else dbs / f"{wl}-{space_name}-{searcher}-{seed}.sqlite")
            result, secs = _run(models, costs, args, space, searcher, seed, budget, db)
            rec = _record(result, wl, secs)
            rec["load"], rec["seed"] = os.getloadavg()[0], seed
            runs.setdefault(searcher, []).append(rec)
            print(f"  {mode} {wl}/{space_name} {searcher} seed {seed}: EDP {rec['edp']:.4g}"
                  f" ({rec['evaluations']} trials, {secs:.1f} s)", file=sys.stderr)
    return runs


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Every (mode, workload, space, searcher, seed) run; returns the JSON document."""
    if not str(args.budget).isdigit():
        raise DseError(f"--all-searchers needs --budget N (HW evaluations; --seconds sets "
                       f"the equal-time budget), got {args.budget!r}")
    searchers = args.searchers or default_searchers(args.footing)
    if args.footing == "joint":
        other = [s for s in searchers if s not in JOINT_SEARCHERS]
        if other:
            raise DseError(f"--footing joint: {', '.join(other)} cannot search DiGamma's "
                           f"genome (only {', '.join(JOINT_SEARCHERS)})")
    modes = modes_of(args.footing)
    results: dict[str, Any] = {m: {} for m in modes}
    with tempfile.TemporaryDirectory() as tmp:
        for wl in args.workloads:
            quantized = quantized_model(f"zoo:{wl}")
            host, steps = host_and_steps_of(quantized)
            models, costs = {wl: layers_of(quantized)}, {"host": {wl: host}, "steps": {wl: steps}}
            for space_name in args.spaces:
                for mode in modes:
                    runs = _cell_runs(models, costs, args, space_name, mode, searchers,
                                      Path(tmp))
                    results[mode][f"{wl}/{space_name}"] = {"summary": summarise(runs),
                                                           "runs": runs}
    return {"config": dict(vars(args)), "searchers": searchers, "reference": REFERENCE,
            "results": results}


MERGE_SETTINGS = {"budget": None, "seconds": None, "sw_samples": None, "objective": None,
                  "footing": "hw"}
"""Settings every merged file must share (with the value of files that predate one):
runs at other budgets or footings are not comparable."""


def load_doc(path: Path) -> dict[str, Any]:
    """A run's JSON document; gzipped if the name ends in .gz (how the per-seed runs that
    docs/codesign.md quotes are committed, their curves being most of their size)."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt") as f:
            return json.load(f)
    return json.loads(path.read_text())


def require_same_settings(docs: list[dict[str, Any]], settings: dict[str, Any]) -> None:
    """Refuse to merge run files that differ in one of `settings` (setting -> the value of
    files that predate it): their runs are not comparable."""
    for key, old in settings.items():
        values = sorted({str(d["config"].get(key, old)) for d in docs})
        if len(values) > 1:
            raise DseError(f"--merge: the files differ in {key} ({', '.join(values)})")


def merge(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """One document from runs of the same searchers and settings on different workloads,
    spaces or seeds (`--seed-start`): runs are joined per (mode, cell, searcher) by seed
    and the summaries recomputed; a seed of a cell in two files is an error."""
    if not docs or any(d.get("searchers") != docs[0].get("searchers") for d in docs):
        raise DseError("--merge needs --all-searchers JSON files of the same searchers")
    require_same_settings(docs, MERGE_SETTINGS)
    modes = list(docs[0]["results"])
    by_seed: dict[str, dict[str, dict[str, dict[int, dict[str, Any]]]]] = {m: {} for m in modes}
    for d in docs:
        start = d["config"].get("seed_start", 0)
        for mode in modes:
            for cell, res in d["results"][mode].items():
                cell_runs = by_seed[mode].setdefault(cell, {})
                for searcher, recs in res["runs"].items():
                    slot = cell_runs.setdefault(searcher, {})
                    for i, rec in enumerate(recs):
                        seed = rec.get("seed", start + i)
                        if seed in slot:
                            raise DseError(f"--merge: {mode} {cell} {searcher} seed {seed} "
                                           f"is in two files")
                        slot[seed] = {**rec, "seed": seed}
    results: dict[str, Any] = {m: {} for m in modes}
    for mode, cells in by_seed.items():
        for cell, per in cells.items():
            runs = {s: [recs[k] for k in sorted(recs)] for s, recs in per.items()}
            results[mode][cell] = {"summary": summarise(runs), "runs": runs}
    seeds = {r["seed"] for cells in results.values() for res in cells.values()
             for recs in res["runs"].values() for r in recs}
    config = {**docs[0]["config"],
              "workloads": list(dict.fromkeys(w for d in docs for w in d["config"]["workloads"])),
              "spaces": list(dict.fromkeys(s for d in docs for s in d["config"].get("spaces", []))),
              "seeds": len(seeds), "seed_start": min(seeds, default=0)}
    return {**docs[0], "config": config, "results": results}


def _cell(st: dict[str, float] | None) -> str:
    if st is None:
        return "-"
    return f"{st['median']:.3g} ({st['min']:.3g}-{st['max']:.3g})"


def _geomean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def geomean_of(doc: dict[str, Any], mode: str, searcher: str, key: str) -> float | None:
    """Geometric mean over cells (workload/space) of a searcher's median `key` ratio."""
    vals = []
    for res in doc["results"][mode].values():
        st = res["summary"].get(searcher, {}).get(key)
        if st is not None:
            vals.append(st["median"])
    return _geomean(vals)


def geomean_vs_reference(doc: dict[str, Any], mode: str) -> dict[str, float | None]:
    """Geometric mean over workloads and spaces of each searcher's median EDP / CMA's."""
    return {s: geomean_of(doc, mode, s, f"edp_vs_{REFERENCE}") for s in doc["searchers"]}


def _ratio_of_medians(doc: dict[str, Any], mode: str, a: str, b: str, metric: str,
                      space: str | None = None) -> float | None:
    """Geometric mean over cells of median(a's metric) / median(b's metric)."""
    vals = []
    for cell, res in doc["results"][mode].items():
        ra, rb = res["runs"].get(a), res["runs"].get(b)
        if ra and rb and (space is None or cell.endswith(f"/{space}")):
            vals.append(statistics.median(r[metric] for r in ra)
                        / statistics.median(r[metric] for r in rb))
    return _geomean(vals)


def median_trials(doc: dict[str, Any], mode: str) -> dict[str, float]:
    """Each searcher's median number of trials over every cell and seed of `mode`."""
    return {s: statistics.median(r["evaluations"] for res in doc["results"][mode].values()
                                 for r in res["runs"].get(s, []))
            for s in doc["searchers"]}


def claims(doc: dict[str, Any]) -> dict[str, Any]:
    """The papers' claims on these runs: DiGamma's EDP / CMA's per space (the paper: 1/3.0
    at edge, 1/10.0 at cloud) and ConfuciuX-TF's EDP / ConfuciuX's (the paper: 0.879)
    with both agents' policy time per episode (the paper: TF 27% faster)."""
    out: dict[str, Any] = {}
    for mode in doc["results"]:
        row: dict[str, Any] = {}
        for space in ("edge", "cloud"):
            row[f"digamma_edp_vs_cma_{space}"] = _ratio_of_medians(doc, mode, "digamma", "cma",
                                                                  "edp", space)
            row[f"digamma_latency_vs_cma_{space}"] = _ratio_of_medians(
                doc, mode, "digamma", "cma", "latency", space)
        row["tf_edp_vs_lstm"] = _ratio_of_medians(doc, mode, "confuciux-tf", "confuciux", "edp")
        for s in ("confuciux", "confuciux-tf"):
            ms = [r["policy_ms_per_episode"] for res in doc["results"][mode].values()
                  for r in res["runs"].get(s, []) if r.get("policy_ms_per_episode")]
            row[f"{s}_policy_ms_per_episode"] = statistics.median(ms) if ms else None
        row["median_trials"] = median_trials(doc, mode)
        row["warmup_only_runs"] = {s: len(h) for s, h in warmup_runs(doc, mode).items()}
        loads = [r.get("load", 0.0) for res in doc["results"][mode].values()
                 for recs in res["runs"].values() for r in recs]
        row["load_median_max"] = [statistics.median(loads), max(loads)] if loads else None
        out[mode] = row
    return out


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def markdown(doc: dict[str, Any]) -> str:
    """The tables of docs/codesign.md: per mode, each searcher's geometric means over the
    cells and its median EDP / CMA in every cell (min-max and latency: the JSON)."""
    lines = []
    joint = doc["config"].get("footing", "hw") == "joint"
    for mode in doc["results"]:
        title = ("equal genome samples (DiGamma's joint footing)" if joint
                 else "equal HW evaluations" if mode == "evaluations"
                 else "equal wall time per run")
        cells = list(doc["results"][mode])
        trials = median_trials(doc, mode)
        warm = warmup_only(doc, mode)
        lines += [f"**{title}** (cells: median EDP / {REFERENCE.upper()} over seeds)", "",
                  f"| searcher | trials | EDP / {REFERENCE.upper()} geomean | EDP / default "
                  f"geomean | latency / {REFERENCE.upper()} geomean | " + " | ".join(cells)
                  + " |", "| --- " * (5 + len(cells)) + "|"]
        for s in doc["searchers"]:
            per = []
            for cell in cells:
                st = doc["results"][mode][cell]["summary"].get(s, {}).get(f"edp_vs_{REFERENCE}")
                per.append(_g(None if st is None else st["median"]))
            lines.append(f"| {s} | {trials[s]:g}{' (warm-up only)' if s in warm else ''} | "
                         f"{_g(geomean_of(doc, mode, s, f'edp_vs_{REFERENCE}'))} | "
                         f"{_g(geomean_of(doc, mode, s, 'edp_vs_default'))} | "
                         f"{_g(geomean_of(doc, mode, s, f'latency_vs_{REFERENCE}'))} | "
                         + " | ".join(per) + " |")
        if warm:
            lines += ["", f"*warm-up only*: {', '.join(warm)} stopped within their random "
                          f"warm-up (median trials <= warm-up), so these rows are random "
                          f"search, not their model."]
        note = _warmup_note(doc, mode)
        if note:
            lines += ["", note]
        lines.append("")
    return "\n".join(lines)


def plot(doc: dict[str, Any], path: Path) -> None:
    """Best-so-far objective / default Gemmini's over evaluations (equal-evaluation runs),
    median over seeds, one panel per workload and space."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = doc["results"]["evaluations"]
    colors = plt.get_cmap("tab20")
    cols = min(2, len(cells))
    rows = math.ceil(len(cells) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 4 * rows), squeeze=False)
    for ax, (cell, res) in zip(axes.flat, cells.items(), strict=False):
        for searcher, recs in res["runs"].items():
            length = max(len(r["curve"]) for r in recs)
            xs, ys = [], []
            for i in range(length):
                vals = [r["curve"][min(i, len(r["curve"]) - 1)] for r in recs]
                vals = [v / r["default_objective"] for v, r in zip(vals, recs, strict=True)
                        if v is not None]
                if vals:
                    xs.append(i + 1)
                    ys.append(statistics.median(vals))
            ax.step(xs, ys, where="post", label=searcher,
                    color=colors(doc["searchers"].index(searcher) % colors.N))
        ax.set_title(cell)
        ax.set_yscale("log")
        ax.set_xlabel("genome samples" if doc["config"].get("footing", "hw") == "joint"
                      else "trials (HW evaluations or generations)")
        ax.set_ylabel(f"best {doc['config']['objective']} / default Gemmini")
        ax.legend(fontsize=7, ncol=2)
    for ax in list(axes.flat)[len(cells):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def print_table(doc: dict[str, Any]) -> None:
    for mode in doc["results"]:
        print(f"== {mode}: EDP / {REFERENCE} median (min-max), EDP / default median")
        for cell, res in doc["results"][mode].items():
            for s, row in res["summary"].items():
                print(f"{cell:<22} {s:<14} {row['evaluations']:>5g} evals "
                      f"{_cell(row[f'edp_vs_{REFERENCE}']):>28} "
                      f"{_cell(row['edp_vs_default']):>28}")
        geo = geomean_vs_reference(doc, mode)
        print("geomean EDP / cma: " + ", ".join(
            f"{s} {'-' if g is None else f'{g:.3f}'}" for s, g in geo.items()))
        warm = warmup_only(doc, mode)
        if warm:
            print(f"warm-up only ({mode}): {', '.join(warm)} (median trials within their "
                  f"random warm-up: random search, not their model)")
        note = _warmup_note(doc, mode)
        if note:
            print(f"{mode}: {note}")
        print(f"claims ({mode}): " + ", ".join(
            f"{k} {v if isinstance(v, dict) else _g(v) if not isinstance(v, list) else v}"
            for k, v in claims(doc)[mode].items() if k != "median_trials"))
