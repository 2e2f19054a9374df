"""ConfuciuX vs ConfuciuX-TF (paper 001's claims: TF finds 12.1% better designs and runs
27% faster per iteration) on dlac's analytical evaluator.

Both agents co-design one Gemmini for a zoo model in the `edge` space at equal numbers of
evaluations, RL only by default (`ga_fraction=0`, as the paper's comparison), over several
seeds. Per searcher it prints the median/min/max best EDP, and two times per iteration
(one iteration = one episode): the agent's own time (sampling and policy updates, what
the policy network changes) and the wall time per evaluated episode (the agent plus the
nested layer search of its design).

    python tests/bench/bench_confuciux.py [--model resnet50] [--budget 60] [--seeds 3]
        [--tf-context episode|step] [--quick] [--json PATH]
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

from dlac.dse.domains import HwDomain
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.hwspace import load_space
from dlac.dse.models.features import WorkloadProfile
from dlac.dse.nested import SwConfig
from dlac.dse.search.confuciux.env import GemminiEnv
from dlac.dse.search.confuciux.policy_lstm import LstmPolicy
from dlac.dse.search.confuciux.policy_tf import TransformerPolicy
from dlac.dse.search.confuciux.reinforce import Reinforce
from dlac.tools.compile_flow import host_and_steps_of, layers_of
from dlac.tools.dlac_main import quantized_model

SEARCHERS = ("confuciux", "confuciux-tf")


def run(model: str, searcher: str, seed: int, args: argparse.Namespace, db: Path,
        workload: Any, costs: dict[str, Any]) -> dict[str, Any]:
    opts = Options(space=load_space(args.hw_space), searcher=searcher,
                   budget=Budget(evaluations=args.budget), seed=seed,
                   sw=SwConfig("batch", args.sw_samples), db_path=db, progress=False,
                   validate="none", searcher_options={"ga_fraction": args.ga_fraction} | (
                       {"context": args.tf_context} if searcher == "confuciux-tf" else {}))
    t0 = time.perf_counter()
    result = autotune({model: workload}, opts, **costs)
    wall = time.perf_counter() - t0
    agent = result.searcher
    return {"edp": result.best.models[model].edp, "wall_s": wall,
            "episodes": agent.episodes_sampled, "evaluations": len(result.trials),
            "rl_evaluations": agent.rl_evaluations,
            "best_from_rl": min((t.result.objective for t in result.trials[:agent.rl_evaluations]),
                                default=float("inf")) <= result.best.objective,
            "agent_s_per_episode": agent.policy_seconds / max(1, agent.episodes_sampled),
            "wall_s_per_evaluation": wall / max(1, len(result.trials))}


def agent_timing(workload: Any, args: argparse.Namespace) -> dict[str, float]:
    """Milliseconds per episode of each agent alone (sampling plus its share of an update,
    batches of 4, returns from how long the budget held), the agents interleaved batch by
    batch so that load from other processes hits both alike."""
    grid = load_space(args.hw_space).grid()
    layers = [layer for layer, _ in workload]
    domain = HwDomain(grid, grid.widest_bus(grid.feasible(layers)),
                      WorkloadProfile.from_layers(workload))
    env = GemminiEnv(domain, layers)
    agents = {"confuciux": Reinforce(lambda: LstmPolicy(env.obs_dims, env.sizes), 0, 0.01),
              "confuciux-tf": Reinforce(lambda: TransformerPolicy(
                  env.obs_dims, env.sizes, context=args.tf_context), 0, 0.01)}
    spent = dict.fromkeys(agents, 0.0)
    for _ in range(args.agent_batches):
        for name, agent in agents.items():
            t0 = time.perf_counter()
            ep = agent.sample(env, 4)
            agent.update(ep.logp, -(env.steps - ep.survived) / env.steps)
            spent[name] += time.perf_counter() - t0
    return {name: 1e3 * t / (4 * args.agent_batches) for name, t in spent.items()}


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    edps = [r["edp"] for r in runs]
    return {"median_edp": statistics.median(edps), "min_edp": min(edps), "max_edp": max(edps),
            "agent_ms_per_episode": 1e3 * statistics.median(
                r["agent_s_per_episode"] for r in runs),
            "wall_s_per_evaluation": statistics.median(r["wall_s_per_evaluation"]
                                                       for r in runs),
            "rl_evaluations": statistics.median(r["rl_evaluations"] for r in runs),
            "best_from_rl": sum(bool(r["best_from_rl"]) for r in runs)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="zoo model (default resnet50; --quick: "
                   "tiny_cnn)")
    p.add_argument("--hw-space", default="edge")
    p.add_argument("--budget", type=int, default=60, help="evaluations per run")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--sw-samples", type=int, default=200)
    p.add_argument("--ga-fraction", type=float, default=0.0)
    p.add_argument("--tf-context", default="episode", choices=("episode", "step"),
                   help="what ConfuciuX-TF's encoder attends over (policy_tf.py)")
    p.add_argument("--agent-batches", type=int, default=50,
                   help="batches of the agents-alone timing")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: tiny_cnn, 4 evaluations, 1 seed")
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)
    if args.quick:
        args.budget, args.seeds, args.sw_samples, args.agent_batches = 4, 1, 30, 2
        args.model = args.model or "tiny_cnn"
    args.model = args.model or "resnet50"
    quantized = quantized_model(f"zoo:{args.model}")
    workload = layers_of(quantized)
    host, steps = host_and_steps_of(quantized)
    costs = {"host": {args.model: host}, "steps": {args.model: steps}}
    per: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for searcher in SEARCHERS:
            per[searcher] = []
            for seed in range(args.seeds):
                db = Path(tmp) / f"{searcher}-{seed}.sqlite"
                r = run(args.model, searcher, seed, args, db, workload, costs)
                per[searcher].append(r)
                print(f"  {searcher} seed {seed}: EDP {r['edp']:.4g} ({r['wall_s']:.1f} s)",
                      file=sys.stderr)
    rows = {s: summary(v) for s, v in per.items()}
    for name, ms in agent_timing(workload, args).items():
        rows[name]["agent_alone_ms_per_episode"] = ms
    base, tf = rows["confuciux"], rows["confuciux-tf"]
    claims = {"tf_edp_improvement": 1 - tf["median_edp"] / base["median_edp"],
              "tf_agent_time_saving": 1 - tf["agent_ms_per_episode"]
              / base["agent_ms_per_episode"],
              "tf_agent_alone_time_saving": 1 - tf["agent_alone_ms_per_episode"]
              / base["agent_alone_ms_per_episode"],
              "tf_wall_time_saving": 1 - tf["wall_s_per_evaluation"]
              / base["wall_s_per_evaluation"],
              "tf_wins": sum(t["edp"] < b["edp"] for t, b in zip(per["confuciux-tf"],
                                                                  per["confuciux"],
                                                                  strict=True))}
    print(f"{args.model}, {args.hw_space}, budget {args.budget}, {args.seeds} seeds, "
          f"ga_fraction {args.ga_fraction:g}, TF context {args.tf_context}")
    print(f"{'searcher':<14} {'median EDP':>11} {'min':>11} {'max':>11} "
          f"{'agent ms/ep':>12} {'alone ms/ep':>12} {'wall s/eval':>12} {'RL evals':>9} "
          f"{'best by RL':>10}")
    for s, r in rows.items():
        print(f"{s:<14} {r['median_edp']:>11.4g} {r['min_edp']:>11.4g} {r['max_edp']:>11.4g} "
              f"{r['agent_ms_per_episode']:>12.2f} {r['agent_alone_ms_per_episode']:>12.2f} "
              f"{r['wall_s_per_evaluation']:>12.3f} "
              f"{r['rl_evaluations']:>9g} {r['best_from_rl']:>8}/{args.seeds}")
    print(f"TF vs LSTM: median EDP {100 * claims['tf_edp_improvement']:+.1f}% better "
          f"(paper 12.1%), wins {claims['tf_wins']}/{args.seeds} seeds; agent time "
          f"{100 * claims['tf_agent_time_saving']:+.1f}% less per episode (alone "
          f"{100 * claims['tf_agent_alone_time_saving']:+.1f}%), wall "
          f"{100 * claims['tf_wall_time_saving']:+.1f}% (paper 27%)")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"config": vars(args), "rows": rows, "runs": per, "claims": claims},
            indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
