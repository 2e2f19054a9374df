"""Wall time of a simulator-in-the-loop ResNet-50 co-design on each executor, the
per-task overhead of each, and a projection to many workers from the measured task times.

Every executor runs the same seeded search (daBO, `--evaluator sim`, a fixed number of HW
evaluations) and must reach the same result as the serial run. The projection replays the
serial run's batches: each batch's measured task times are list-scheduled onto W workers
in task order (as the pools hand them out), and the driver's own serial work (asking the
searcher, writing the database, dispatching each task) is added, so the table shows where
the driver, not the evaluations, sets the wall time.

    python tests/bench/bench_executor.py [--budget 12] [--jobs 2] [--samples 8] [--json f]
"""

from __future__ import annotations

import argparse
import heapq
import json
import tempfile
from pathlib import Path
from typing import Any

from dlac.dse.driver import AutotuneResult, Budget, Options, autotune
from dlac.dse.executors import usable_cores
from dlac.dse.nested import SwConfig
from dlac.dse.zoo import model

PROJECTED_WORKERS = (8, 64, 512)


def _run(executor: str, jobs: int, args: argparse.Namespace, tmp: Path) -> AutotuneResult:
    opts = Options(searcher="dabo", evaluator="sim", budget=Budget(evaluations=args.budget),
                   seed=args.seed, sw=SwConfig("batch", samples=args.samples),
                   db_path=tmp / f"{executor}.sqlite", progress=False, validate="none",
                   executor=executor, jobs=jobs)
    return autotune({args.model: model(args.model)}, opts)


def _summary(result: AutotuneResult) -> tuple:
    return ([t.result.to_dict() for t in result.trials], result.best.to_dict())


def makespan(durations: list[float], workers: int) -> float:
    """Finish time of `durations` handed out in order to the first free of `workers`."""
    free = [0.0] * min(workers, max(1, len(durations)))
    for d in durations:
        heapq.heappush(free, heapq.heappop(free) + d)
    return max(free)


def dispatch_overhead(result: AutotuneResult, durations: list[list[float]]) -> float:
    """Seconds per task the run spent beyond the ideal schedule of its own task times."""
    ex = result.execution
    ideal = sum(makespan(d, ex["workers"]) for d in durations)
    waited = sum(b["evaluate_seconds"] - b["record_seconds"] for b in ex["batches"])
    return max(0.0, waited - ideal) / max(1, ex["tasks"])


def project(batches: list[dict[str, float]], durations: list[list[float]], overhead: float,
            workers: int) -> dict[str, float]:
    """Wall time on `workers` workers: per batch, the driver's serial part (ask, records,
    per-task dispatch) plus the list-scheduled evaluation of the measured task times."""
    driver = evaluate = 0.0
    for batch, times in zip(batches, durations, strict=True):
        driver += batch["ask_seconds"] + batch["record_seconds"] + overhead * len(times)
        evaluate += makespan(times, workers)
    return {"workers": workers, "wall_s": driver + evaluate, "driver_s": driver,
            "evaluate_s": evaluate, "driver_share": driver / (driver + evaluate)}


def _have_ray() -> bool:
    try:
        import ray  # noqa: F401 - optional extra; only its presence is checked
    except ImportError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--budget", type=int, default=12, help="HW evaluations per run")
    ap.add_argument("--jobs", type=int, default=2, help="workers of the parallel executors")
    ap.add_argument("--samples", type=int, default=8, help="mappings per layer task")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--executors", nargs="+", default=["serial", "process", "ray"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    runs: list[dict[str, Any]] = []
    serial: AutotuneResult | None = None
    with tempfile.TemporaryDirectory(prefix="dlac-bench-exec-") as tmp:
        for name in ["serial", *[e for e in args.executors if e != "serial"]]:
            if name == "ray" and not _have_ray():
                print("ray: skipped (not installed: pip install -e '.[ray]')")
                continue
            result = _run(name, 1 if name == "serial" else args.jobs, args, Path(tmp))
            serial = serial or result
            ex = result.execution
            runs.append({"executor": name, "workers": ex["workers"],
                         "wall_s": ex["wall_seconds"], "tasks": ex["tasks"],
                         "task_s": ex["task_seconds"],
                         "speedup": serial.execution["wall_seconds"] / ex["wall_seconds"],
                         "overhead_ms_per_task": 1e3 * dispatch_overhead(
                             result, result.task_durations),
                         "same_result": _summary(result) == _summary(serial)})
    assert serial is not None
    overhead = max(r["overhead_ms_per_task"] for r in runs if r["executor"] != "serial") \
        if len(runs) > 1 else runs[0]["overhead_ms_per_task"]
    projections = [project(serial.execution["batches"], serial.task_durations, overhead / 1e3, w)
                   for w in PROJECTED_WORKERS]
    cores = usable_cores()
    print(f"{args.model}, daBO, --evaluator sim, {args.budget} HW evaluations, "
          f"{args.samples} mappings per layer task, {cores} usable cores")
    print(f"{'executor':<9} {'workers':>7} {'wall s':>8} {'speedup':>8} {'tasks':>6} "
          f"{'task s':>8} {'ms/task':>8}  same result")
    for r in runs:
        print(f"{r['executor']:<9} {r['workers']:>7} {r['wall_s']:>8.1f} {r['speedup']:>7.2f}x "
              f"{r['tasks']:>6} {r['task_s']:>8.1f} {r['overhead_ms_per_task']:>8.2f}  "
              f"{r['same_result']}")
    print(f"projection from the serial run's task times, {overhead:.2f} ms dispatch per task:")
    print(f"{'workers':>7} {'wall s':>8} {'driver s':>9} {'evaluate s':>11} {'driver share':>13}")
    for p in projections:
        print(f"{p['workers']:>7} {p['wall_s']:>8.1f} {p['driver_s']:>9.1f} "
              f"{p['evaluate_s']:>11.1f} {100 * p['driver_share']:>12.1f}%")
    longest = max((max(d) for d in serial.task_durations if d), default=0.0)
    print(f"longest single task {longest:.2f} s; largest batch "
          f"{max(len(d) for d in serial.task_durations)} tasks")
    if args.json:
        args.json.write_text(json.dumps({
            "model": args.model, "budget": args.budget, "samples": args.samples,
            "usable_cores": cores, "runs": runs, "projection": projections,
            "dispatch_ms_per_task": overhead, "longest_task_s": longest}, indent=2))


if __name__ == "__main__":
    main()
