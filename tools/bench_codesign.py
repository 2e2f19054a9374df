"""Co-design benchmark: EDP of default Gemmini vs random search, vanilla BO and daBO.

Workloads are zoo models (`dlac.tools.zoo`) quantized and lowered as `dlac zoo:NAME
--autotune` does with the CLI's defaults (`dlac_main.quantized_model`): the same layers
it searches and the model it emits. For each workload it prints (and with --json
writes) the EDP of: default Gemmini + its heuristic mapping; default Gemmini + dlac's
best mapping; and the best design of each searcher at equal budgets over several seeds
(median, min, max), plus how many seeds daBO beat random and vanilla BO.
`--measure sim` re-times every chosen design on the simulator (the issue's final numbers);
`--measure analytical` (default) reports the model's EDP, which runs anywhere quickly.
`--all-searchers` runs every registered searcher on edge and cloud, at equal evaluations
and at equal wall time, normalised to CMA and to default Gemmini (`bench_searchers`).

Budgets: `--budget N` is N HW evaluations for the ask/tell searchers, each of which runs
the per-layer batch search (Gemmini's mapping + `--sw-samples` samples per unique layer on
`--evaluator`), but N evaluator samples for Polaris, whose budget is counted in
high-fidelity samples. `--sample-budget N` makes the number of evaluator runs equal
instead: Polaris gets N samples, every other searcher N // (unique layers x
(sw-samples + 1)) HW evaluations (at least 1). Either way the `samples` column is what
each search actually spent (Polaris's `spent()`, the others' per-layer candidates).

    python tools/bench_codesign.py --searchers polaris dabo --evaluator sim --measure sim \
        --sw-samples 16 --sample-budget 960 --workloads resnet50 --seeds 5

    python tools/bench_codesign.py --workloads resnet50 --budget 30 --seeds 5 --json out.json

Seeds can run as separate processes (`--seeds 1 --seed-start K --json sK.json`, one
tuning database for all) and be joined afterwards: `--merge s0.json s1.json ... --json
all.json --best-plot all.png` prints the table of one run over those seeds.

    python tools/bench_codesign.py --all-searchers --quick --markdown q.md --plot q.png
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dlac.dse.driver import Options, autotune, parse_budget
from dlac.dse.hwspace import fixed_space, load_space
from dlac.dse.nested import SW_STRATEGIES, SwConfig
from dlac.dse.objective import OBJECTIVES
from dlac.dse.search import parse_options, searcher_names, searcher_options
from dlac.dse.search.nevergrad_lib import FOOTINGS
from dlac.errors import DlacError
from dlac.ir.target import Target
from dlac.tools import bench_curves, bench_searchers
from dlac.tools.compile_flow import host_and_steps_of, layers_of
from dlac.tools.dlac_main import quantized_model
from dlac.tools.zoo import MODELS

DEFAULT_WORKLOADS = ("resnet50", "mobilenetv2", "bert_layer", "unet")
SEARCHERS = ("random", "vanilla-bo", "dabo", "polaris")


def _edp(result: Any, key: str, measure: str, name: str) -> float | None:
    """EDP of one design for model `name`, by the model or by the simulator (a search on
    the simulator costed its designs there already)."""
    res = {"chosen": result.best, "default_heuristic": result.default_heuristic,
           "default_best_mapping": result.default_best}[key]
    if measure == "analytical" or result.options.evaluator == "sim":
        return res.models[name].edp if res.feasible else None
    m = result.validation.get(key, {}).get("models", {}).get(name)
    return m["edp"] if m else None


def _stats(values: list[float | None]) -> dict[str, float | None]:
    vals = [v for v in values if v is not None]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "n": len(vals)}


def bench_workload(name: str, args: argparse.Namespace, db: Path) -> dict[str, Any]:
    quantized = quantized_model(f"zoo:{name}")
    models = {name: layers_of(quantized)}
    fixed = host_and_steps_of(quantized)
    host, steps = {name: fixed[0]}, {name: fixed[1]}
    space = fixed_space(Target()) if args.sw_only else \
        load_space(args.hw_space).with_area_budget(args.area_budget)
    runs: dict[str, dict[int, dict[str, Any]]] = {s: {} for s in args.searchers}
    baselines: dict[str, float | None] = {}
    unique = len({layer.workload_hash() for layer, _ in models[name]})
    for searcher in args.searchers:
        known = searcher_options(searcher)
        tuned = parse_options(searcher, [o for o in args.searcher_option
                                         if o.partition("=")[0].strip() in known])
        for seed in range(args.seed_start, args.seed_start + args.seeds):
            opts = Options(space=space, searcher=searcher, evaluator=args.evaluator,
                           budget=parse_budget(_budget(args, searcher, unique)), seed=seed,
                           sw=_sw(args, searcher, unique), db_path=db,
                           progress=False, validate="sim" if args.measure == "sim" else "none",
                           searcher_options=tuned)
            t0 = time.monotonic()
            result = autotune(models, opts, host=host, steps=steps)
            runs[searcher][seed] = {
                "edp": _edp(result, "chosen", args.measure, name),
                "seconds": time.monotonic() - t0, "samples": _spent(result),
                "curve": bench_curves.run_curve(result, unique),
                "after_ratio": bench_curves.after_ratio(result, WITHIN_AFTER)}
            if not baselines:
                for key in ("default_heuristic", "default_best_mapping"):
                    baselines[key] = _edp(result, key, args.measure, name)
            print(f"  {name} {searcher} seed {seed}: EDP {_fmt(runs[searcher][seed]['edp'])} "
                  f"({time.monotonic() - t0:.1f} s)", file=sys.stderr)
    return summarise(runs, baselines, unique)


def summarise(runs: dict[str, dict[int, dict[str, Any]]], baselines: dict[str, float | None],
              unique: int) -> dict[str, Any]:
    """One workload's table entry from its runs (searcher -> seed -> run)."""
    seeds = sorted({k for by_seed in runs.values() for k in by_seed})
    per = {s: [by_seed[k]["edp"] if k in by_seed else None for k in seeds]
           for s, by_seed in runs.items()}
    rows: dict[str, Any] = {k: _stats([v]) for k, v in baselines.items()}
    rows.update({s: _stats(v) | {"seconds": sum(r["seconds"] for r in runs[s].values()),
                                 "samples": [r["samples"] for r in runs[s].values()],
                                 "edps": v}
                 for s, v in per.items()})
    ratios = [runs["polaris"][k]["after_ratio"] for k in sorted(runs.get("polaris", {}))]
    base = baselines.get("default_heuristic")
    dabo_med = rows.get("dabo", {}).get("median")
    return {"rows": rows, "dabo_wins_over": _wins(per, "dabo", ("random", "vanilla-bo")),
            "polaris_wins_over": _wins(per, "polaris", ("dabo", "random", "vanilla-bo")),
            "polaris_within_5pct_after_3": [None if r is None else r <= 1 + WITHIN_TOLERANCE
                                            for r in ratios],
            "polaris_after_3_ratio": ratios,
            "curves": {s: [r["curve"] for r in by_seed.values()] for s, by_seed in runs.items()},
            "seeds": len(seeds), "seed_list": seeds, "unique_layers": unique,
            "baselines": baselines,
            "runs": {s: {str(k): v for k, v in by_seed.items()} for s, by_seed in runs.items()},
            "dabo_vs_default": (dabo_med / base) if base and dabo_med else None}


MERGE_SETTINGS = ("budget", "sample_budget", "sw_samples", "evaluator", "measure", "hw_space",
                  "sw_only", "area_budget", "searcher_option")
"""Settings that --merge requires equal in every file."""


def merge(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One result per workload from runs of the same settings on different seeds
    (`--seed-start`) or workloads; a (workload, searcher, seed) in two files is an error."""
    bench_searchers.require_same_settings(docs, dict.fromkeys(MERGE_SETTINGS))
    runs: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    meta: dict[str, tuple[dict[str, float | None], int]] = {}
    for d in docs:
        for wl, res in d["results"].items():
            if "runs" not in res:
                raise DlacError(f"--merge: {wl} in a file without per-seed runs (written "
                                f"before --merge existed)")
            meta.setdefault(wl, (res["baselines"], res["unique_layers"]))
            for searcher, by_seed in res["runs"].items():
                slot = runs.setdefault(wl, {}).setdefault(searcher, {})
                for seed, run in by_seed.items():
                    if int(seed) in slot:
                        raise DlacError(f"--merge: {wl} {searcher} seed {seed} is in two files")
                    slot[int(seed)] = run
    return {wl: summarise({s: dict(sorted(r.items())) for s, r in per.items()}, *meta[wl])
            for wl, per in runs.items()}


WITHIN_AFTER = 3
"""HW candidates after which Polaris should be within 5% of its final EDP (issue 19)."""
WITHIN_TOLERANCE = 0.05


def _wins(per: dict[str, list[float | None]], who: str, others: tuple[str, ...]) -> dict[str, int]:
    """Seeds on which `who`'s EDP is at most each other searcher's (ties count: both
    reached the same design)."""
    if who not in per:
        return {}
    return {o: sum(1 for a, b in zip(per[who], per[o], strict=True)
                   if a is not None and (b is None or a <= b)) for o in others if o in per}


def _budget(args: argparse.Namespace, searcher: str, unique: int) -> str:
    """The run's --budget: equal evaluator samples with --sample-budget (module doc)."""
    if args.sample_budget is None:
        return args.budget
    if searcher == "polaris":
        return str(args.sample_budget)
    if args.sw_only:
        return "1"
    return str(max(1, args.sample_budget // (unique * (args.sw_samples + 1))))


def _sw(args: argparse.Namespace, searcher: str, unique: int) -> SwConfig:
    """The per-layer search: the batch search, or with --sw-only the searcher's own SW
    variant (daBO-SW) with the sample budget's share of trials per layer."""
    if not args.sw_only or searcher == "polaris":
        return SwConfig("batch", args.sw_samples)
    strategy = searcher if searcher in SW_STRATEGIES else "batch"
    total = args.sample_budget if args.sample_budget is not None else int(args.budget)
    return SwConfig(strategy, args.sw_samples, max(1, total // unique))


def _spent(result: Any) -> int:
    """Evaluator samples the search used."""
    spent = getattr(result.searcher, "spent", None)
    if spent is not None:
        return int(spent())
    return sum(b.candidates for t in result.trials for b in t.result.layers.values())


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def print_table(results: dict[str, Any]) -> None:
    print(f"{'workload':<12} {'design':<22} {'median EDP':>12} {'min':>12} {'max':>12} "
          f"{'samples':>8}")
    for wl, res in results.items():
        for key, st in res["rows"].items():
            spent = st.get("samples")
            print(f"{wl:<12} {key:<22} {_fmt(st['median']):>12} {_fmt(st['min']):>12} "
                  f"{_fmt(st['max']):>12} "
                  f"{statistics.median(spent) if spent else '-':>8}")
        wins = ", ".join(f"beats {k} in {v}/{res['seeds']} seeds"
                         for k, v in res["dabo_wins_over"].items())
        ratio = res["dabo_vs_default"]
        print(f"{wl:<12} daBO median / default = {_fmt(ratio)}; {wins}")
        if res["polaris_wins_over"]:
            wins = ", ".join(f"<= {k} in {v}/{res['seeds']} seeds"
                             for k, v in res["polaris_wins_over"].items())
            within = res["polaris_within_5pct_after_3"]
            ratios = ", ".join(_fmt(r) for r in res.get("polaris_after_3_ratio", []))
            print(f"{wl:<12} polaris {wins}; within 5% of its final EDP after "
                  f"{WITHIN_AFTER} HW iterations in {sum(1 for w in within if w)}/"
                  f"{len(within)} seeds (best after {WITHIN_AFTER} / final: {ratios})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", nargs="+", default=list(DEFAULT_WORKLOADS), choices=MODELS,
                   metavar="ZOO_MODEL")
    p.add_argument("--searchers", nargs="+", default=None, choices=searcher_names(),
                   help=f"default: {' '.join(SEARCHERS)}; with --all-searchers every one")
    p.add_argument("--searcher-option", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting for every searcher that has it (e.g. population=20)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--seed-start", type=int, default=0, metavar="K",
                   help="run seeds K .. K + seeds - 1 (so seeds can run in separate "
                        "processes; --all-searchers --merge joins them)")
    p.add_argument("--budget", default="100",
                   help="HW evaluations per run (Polaris: evaluator samples)")
    p.add_argument("--sample-budget", type=int, default=None, metavar="N",
                   help="equal evaluator samples per run for every searcher (overrides "
                        "--budget; see the module doc)")
    p.add_argument("--hw-space", default="edge")
    p.add_argument("--sw-only", action="store_true",
                   help="software-only DSE on default Gemmini: Polaris spends the sample "
                        "budget there, the others search each layer with their SW variant "
                        "(daBO-SW) for budget // unique layers trials")
    g = p.add_argument_group("every searcher (--all-searchers)")
    g.add_argument("--all-searchers", action="store_true",
                   help="compare every registered searcher (tools/bench_searchers.py)")
    g.add_argument("--quick", action="store_true",
                   help=f"smoke settings: {bench_searchers.QUICK}")
    g.add_argument("--spaces", nargs="+", default=["edge", "cloud"],
                   help="hardware spaces of --all-searchers (default: edge cloud)")
    g.add_argument("--seconds", type=float, default=60.0,
                   help="wall time per run of the equal-time comparison (default: 60)")
    g.add_argument("--objective", default="edp", choices=OBJECTIVES)
    g.add_argument("--footing", default="hw", choices=FOOTINGS,
                   help="hw: every searcher proposes hardware, the nested search maps it "
                        "(equal evaluations and equal time); joint: DiGamma and the "
                        "nevergrad optimisers all search DiGamma's HW + mapping genome at "
                        "equal genome samples (DiGamma's Figure 5)")
    g.add_argument("--markdown", default=None, metavar="PATH")
    g.add_argument("--plot", default=None, metavar="PATH", help="convergence plot (PNG)")
    p.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                   help="instead of running, join JSON files of this tool run with the "
                        "same settings (e.g. one per seed, --seed-start; with "
                        "--all-searchers one per workload, gzipped if named .gz) into one "
                        "table, JSON and plot")
    p.add_argument("--area-budget", type=float, default=None)
    p.add_argument("--evaluator", default="analytical", choices=("analytical", "sim"))
    p.add_argument("--measure", default="analytical", choices=("analytical", "sim"))
    p.add_argument("--sw-samples", type=int, default=2000)
    p.add_argument("--db", default=None, help="tuning database (default: a temporary file)")
    p.add_argument("--json", default=None, metavar="PATH")
    p.add_argument("--best-plot", default=None, metavar="PATH",
                   help="best EDP vs evaluator samples, median over seeds (PNG)")
    args = p.parse_args(argv)
    if args.seed_start < 0 or args.seeds < 1:
        print(f"bench_codesign: error: --seed-start must be >= 0 and --seeds >= 1, got "
              f"{args.seed_start} and {args.seeds}", file=sys.stderr)
        return 1
    if args.all_searchers:
        return _all_searchers(args)
    args.searchers = args.searchers or list(SEARCHERS)
    try:
        if args.merge:
            docs = [bench_searchers.load_doc(Path(f)) for f in args.merge]
            results = merge(docs)
            config = {**docs[0]["config"], "merge": args.merge}
        else:
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(args.db) if args.db else Path(tmp) / "bench.sqlite"
                results = {wl: bench_workload(wl, args, db) for wl in args.workloads}
            config = vars(args)
    except (DlacError, OSError, ValueError, KeyError) as err:
        print(f"bench_codesign: error: {err}", file=sys.stderr)
        return 1
    print_table(results)
    if args.best_plot:
        bench_curves.plot(results, Path(args.best_plot))
    if args.json:
        Path(args.json).write_text(json.dumps({"config": config, "results": results},
                                              indent=2, sort_keys=True) + "\n")
    return 0


def _all_searchers(args: argparse.Namespace) -> int:
    if args.quick:
        bench_searchers.apply_quick(args)
    try:
        doc = (bench_searchers.merge([bench_searchers.load_doc(Path(f)) for f in args.merge])
               if args.merge else bench_searchers.bench(args))
    except (DlacError, OSError, ValueError) as err:
        print(f"bench_codesign: error: {err}", file=sys.stderr)
        return 1
    doc["claims"] = bench_searchers.claims(doc)
    bench_searchers.print_table(doc)
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(bench_searchers.markdown(doc))
    if args.plot:
        bench_searchers.plot(doc, Path(args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
