"""`autotune`: the co-design loop from validated options to a result.

Order matters for bad input: every option is checked (budget, hardware space, area budget,
workload feasibility) before the database is opened, so a rejected run leaves the
database untouched. Then the HW searcher asks for a batch, the batch's targets x unique
layers run as independent tasks on the executor (serial, a local process pool, or Ray;
dse/executors), each evaluation commits to the database the moment its last layer
finishes (one transaction, written by the driver only), and the searcher is told
log(objective) of the batch in ask order. Results are combined by task, never by arrival,
so the executor and its number of workers never change the result.

Resume: a run is identified by a hash of its configuration. Its trial rows are the tells
by index (a killed parallel run may leave gaps: evaluations in flight); a resumed run
replays them into a fresh searcher seeded the same way (the asks must match the stored
targets, else the database is rejected as inconsistent) and evaluates the missing ones,
so it ends exactly where an uninterrupted run ends. A budget in minutes makes the number
of evaluations depend on speed, so such runs are deterministic only per evaluation count
(best effort).

Searchers that are more than ask/tell use optional hooks (all duck-typed, none required):
`prepare(nested, budget)` sees the problem and the budget before the database opens
(and rejects a budget it cannot use with a DseError); `evaluate_target(target, layers)`
replaces the nested layer search with the searcher's own, returning per-layer picks and
a state stored with the trial that `restore(x, state)` replays on resume; `spent()` is
how much of an evaluation budget the searcher has used when one trial costs more than
one evaluation (a GA generation, say).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from dlac.errors import DlacError
from dlac.ir.target import Target
from dlac.passes.host_cost import HostCost
from dlac.passes.mapping.workloads import Workload

from .accel_steps import AccelSteps
from .database import TrialRecord, TuningDB, default_path
from .domains import HwDomain
from .errors import DseError
from .evaluators import make_evaluator
from .executors import Executor, make_executor
from .fanout import Evaluated, evaluate_batch
from .headline import Headline, headline
from .hwspace import HwSpace
from .models.features import WorkloadProfile
from .nested import HwResult, NestedEvaluator, SwConfig, result_from_dict
from .objective import metric
from .search import make_searcher
from .search.base import HW_CONFIG, Searcher
from .validate import measure

NOT_KEYED = frozenset({"retrain", "progress"})
"""Searcher options that do not change results (left out of the run key)."""

FINALISTS = 3
"""Best designs by the search's model that the simulator re-times to pick the chosen one."""


@dataclass(frozen=True)
class Budget:
    """Either a number of HW evaluations or a wall-clock limit in seconds."""

    evaluations: int | None = None
    seconds: float | None = None

    def __str__(self) -> str:
        return f"{self.evaluations}" if self.evaluations is not None else f"{self.seconds}s"


def parse_budget(text: str | int) -> Budget:
    """`100` (evaluations), `10m` / `90s` / `1h` (wall clock)."""
    s = str(text).strip().lower()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(m|min|s|h)?", s)
    if not m:
        raise DseError(f"budget {text!r} is neither a number of evaluations nor a duration "
                       "like 10m")
    value, unit = float(m.group(1)), m.group(2)
    if unit is None:
        if value != int(value):
            raise DseError(f"budget {text!r}: evaluations must be a whole number")
        if value < 1:
            raise DseError("budget of zero evaluations: nothing would be searched")
        return Budget(evaluations=int(value))
    seconds = value * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]
    if seconds <= 0:
        raise DseError("budget of zero time: nothing would be searched")
    return Budget(seconds=seconds)


@dataclass(frozen=True)
class Options:
    space: HwSpace = field(default_factory=HwSpace)
    searcher: str = "dabo"
    evaluator: str = "analytical"
    budget: Budget = field(default_factory=lambda: Budget(evaluations=100))
    seed: int = 0
    sw: SwConfig = field(default_factory=SwConfig)
    db_path: Path | None = None
    resume: bool = False
    progress: bool = True
    kernel: str = "linear"
    validate: str = "sim"
    executor: str = "serial"
    jobs: int | None = None
    ray_address: str | None = None
    searcher_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Trial:
    idx: int
    result: HwResult
    seconds: float


@dataclass
class AutotuneResult:
    options: Options
    trials: list[Trial]
    best: HwResult
    default_heuristic: HwResult
    default_best: HwResult
    run_key: str
    feasible_points: int
    searcher: Searcher
    importance: dict[str, float] = field(default_factory=dict)
    resumed_trials: int = 0
    validation: dict[str, Any] = field(default_factory=dict)
    finalists: list[dict[str, Any]] = field(default_factory=list)
    execution: dict[str, Any] = field(default_factory=dict)
    headline: Headline | None = None
    host: dict[str, HostCost] = field(default_factory=dict)
    task_durations: list[list[float]] = field(default_factory=list)
    """Every layer task's run time, per batch (Execution.durations; for projections)."""


def run_key(models: Mapping[str, Workload], options: Options, evaluator_key: str,
            host: Mapping[str, HostCost] | None = None,
            steps: Mapping[str, AccelSteps] | None = None) -> str:
    """Stable identity of a search (what --resume matches on)."""
    config = {"models": {k: [[layer.workload_hash(), n] for layer, n in w]
                         for k, w in sorted(models.items())},
              "space": options.space.to_dict(), "searcher": options.searcher,
              "evaluator": evaluator_key, "budget": str(options.budget),
              "seed": options.seed, "sw": options.sw.key(), "kernel": options.kernel}
    if host:
        config["host"] = {k: [round(v.cycles), round(v.energy_pj)] for k, v in sorted(host.items())}
    if steps and any(steps.values()):
        config["steps"] = {k: [[s.key(), n] for s, n in v] for k, v in sorted(steps.items())}
    tuned = {k: v for k, v in options.searcher_options.items() if k not in NOT_KEYED}
    if tuned:
        config["searcher_options"] = tuned
    text = json.dumps(config, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass
class Execution:
    """What the executor did: its name and workers, the layer tasks it ran and their summed
    run time, and per batch where the driver's time went (asking the searcher, waiting for
    the tasks, writing the database). `durations` keeps every task's run time per batch
    (for projections to more workers; not in report.json)."""

    executor: str
    workers: int
    tasks: int = 0
    task_seconds: float = 0.0
    batches: list[dict[str, float]] = field(default_factory=list)
    durations: list[list[float]] = field(default_factory=list)

    def to_dict(self, wall_seconds: float) -> dict[str, Any]:
        return {"executor": self.executor, "workers": self.workers, "tasks": self.tasks,
                "task_seconds": self.task_seconds, "wall_seconds": wall_seconds,
                "batches": self.batches}


def _progress(enabled: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
                    disable=not enabled, transient=False)


def autotune(models: Mapping[str, Workload], options: Options,
             on_trial: Callable[[Trial], None] | None = None,
             host: Mapping[str, HostCost] | None = None,
             steps: Mapping[str, AccelSteps] | None = None) -> AutotuneResult:
    """Co-design one Gemmini (and the mappings) for `models` under `options`; `host` is
    each model's CPU-step cost and `steps` its unmapped Gemmini calls, both part of every
    design's totals."""
    if options.validate not in ("sim", "none"):
        raise DseError(f"unknown validation {options.validate!r}; choose sim or none")
    if options.budget.evaluations is None and options.budget.seconds is None:
        raise DseError("budget of zero evaluations: nothing would be searched")
    evaluator = make_evaluator(options.evaluator)
    grid = options.space.grid()
    nested = NestedEvaluator(models, evaluator, options.sw, host=host, steps=steps)
    feasible = grid.widest_bus(grid.feasible(nested.layers()))
    profile = WorkloadProfile.from_layers([pair for w in models.values() for pair in w])
    domain = HwDomain(grid, feasible, profile)
    searcher = make_searcher(options.searcher, domain, options.seed,
                             dataclasses.replace(HW_CONFIG, kernel=options.kernel),
                             **options.searcher_options)
    prepare = getattr(searcher, "prepare", None)
    if prepare is not None:
        prepare(nested, options.budget)
    key = run_key(models, options, evaluator.cache_key, host, steps)
    start = time.monotonic()
    with make_executor(options.executor, options.jobs, options.ray_address) as executor, \
            TuningDB(options.db_path or default_path()) as db:
        nested.db = db
        state = db.run_state(key)
        db.start_run(key, {"models": sorted(models), "space": options.space.to_dict(),
                           "searcher": options.searcher, "seed": options.seed,
                           "budget": str(options.budget)},
                     fresh=not options.resume or state is None)
        prior = db.trials(key) if options.resume else []
        execution = Execution(options.executor, executor.workers)
        trials = _loop(nested, domain, searcher, db, key, prior, options, executor, execution,
                       on_trial)
        db.finish_run(key)
        default = Target()
        default_heuristic = nested.heuristic(default)
        (done,) = evaluate_batch(nested, [default], executor)
        default_best = done.result
        if done.rows:
            db.put_layer_results(done.rows)
    wall = time.monotonic() - start
    feasible_trials = [t for t in trials if t.result.feasible]
    if not feasible_trials:
        raise DseError(f"none of the {len(trials)} evaluated designs could run every layer")
    ranked = sorted(feasible_trials, key=lambda t: (t.result.objective, t.idx))
    result = AutotuneResult(options, trials, ranked[0].result, default_heuristic, default_best,
                            key, len(feasible), searcher,
                            resumed_trials=min(len(prior), len(trials)),
                            execution=execution.to_dict(wall),
                            task_durations=execution.durations)
    result.importance = _importance(searcher, domain, options.seed)
    result.host = nested.host
    if options.validate == "sim" and options.evaluator != "sim":
        result.best, result.validation, result.finalists = _validate(nested, result, ranked)
    result.headline = headline(nested, options.evaluator, result.best, default_heuristic,
                               result.validation)
    return result


def _validate(nested: NestedEvaluator, result: AutotuneResult,
              ranked: list[Trial]) -> tuple[HwResult, dict[str, Any], list[dict[str, Any]]]:
    """Simulator measurements of the finalists and the default-Gemmini baselines; the
    finalist with the lowest simulated objective becomes the chosen design.

    The analytical model's costs are averages and it does not charge the DMA TLB stalls
    the simulator adds to matmul moves, so designs close on the model can swap places on
    the simulator: its FINALISTS best designs are re-ranked there rather than taking its
    first blindly."""

    def timed(res: HwResult) -> dict[str, Any]:
        try:
            return measure(nested, res)
        except DlacError as err:
            return {"error": str(err)}

    finalists = [t.result for t in ranked[:FINALISTS]]
    measured = [timed(res) for res in finalists]
    scores = [_sim_objective(m, nested) for m in measured]
    pick = min(range(len(finalists)), key=lambda i: (scores[i], i))
    out: dict[str, Any] = {"chosen": measured[pick]}
    for key, res in (("default_heuristic", result.default_heuristic),
                     ("default_best_mapping", result.default_best)):
        if res.feasible:
            out[key] = timed(res)
    table = [{"target": res.target.name, "model_objective": res.objective,
              "sim_objective": sc if math.isfinite(sc) else None,  # None: unmeasured
              "chosen": i == pick} for i, (res, sc) in enumerate(zip(finalists, scores,
                                                                        strict=True))]
    return finalists[pick], out, table


def _sim_objective(measured: dict[str, Any], nested: NestedEvaluator) -> float:
    """Sum over the models of log of the simulated objective metric; inf if any model went
    unmeasured."""
    models = measured.get("models", {})
    if any(name not in models for name in nested.models):
        return math.inf
    return float(sum(math.log(metric(models[n]["cycles"], models[n]["energy_pj"], nested.goal))
                     for n in nested.models))


def _loop(nested: NestedEvaluator, domain: HwDomain, searcher: Searcher, db: TuningDB,
          key: str, prior: list[TrialRecord], options: Options, executor: Executor,
          execution: Execution, on_trial: Callable[[Trial], None] | None) -> list[Trial]:
    """Ask batches, evaluate them on `executor`, record each evaluation as it finishes (and
    call `on_trial`, in completion order), then tell the batch in ask order."""
    budget = options.budget
    total = budget.evaluations
    start = time.monotonic()
    stored = {rec.idx: rec for rec in prior}
    last_stored = max(stored, default=-1)
    trials: list[Trial] = []
    best = np.inf
    with _progress(options.progress) as bar:
        hw = bar.add_task(f"co-design ({options.searcher})", total=total, info="best EDP -")
        work = bar.add_task(f"layer tasks ({options.executor})", total=None, info="")

        def progress(done: int, count: int) -> None:
            left = count - done
            bar.update(work, total=count, completed=done,
                       info=f"{min(left, executor.workers)}/{executor.workers} workers busy, "
                            f"{max(0, left - executor.workers)} queued")

        idx = 0
        spent = getattr(searcher, "spent", None)
        while True:
            used = spent() if spent else idx
            if total is not None and used >= total:
                break
            if (budget.seconds is not None and idx > last_stored
                    and time.monotonic() - start >= budget.seconds):
                break
            t_ask = time.perf_counter()
            xs = searcher.ask_batch(total - used if total is not None else 1 << 30)
            if not xs:
                break
            targets = [domain.target(x) for x in xs]
            t_eval = time.perf_counter()
            record_seconds = 0.0
            durations: list[float] = []
            results: dict[int, Trial] = {}
            fresh = []
            for j, target in enumerate(targets):
                rec = stored.get(idx + j)
                if rec is None:
                    fresh.append(j)
                    continue
                if rec.target != target.to_json():
                    raise DseError(f"{db.path}: stored run {key} does not replay (trial "
                                   f"{idx + j} differs); rerun without --resume")
                if hasattr(searcher, "restore"):
                    searcher.restore(xs[j], rec.result.get("searcher_state"))
                results[j] = Trial(idx + j, result_from_dict(rec.result, nested.models), 0.0)
                bar.update(hw, advance=1)
            for done in _evaluate(searcher, nested, [targets[j] for j in fresh], executor,
                                  progress):
                j = fresh[done.index]
                result = done.result
                t_rec = time.perf_counter()
                record = result.to_dict() | ({"searcher_state": done.state} if done.state else {})
                db.put_trial(key, TrialRecord(idx + j, targets[j].to_json(), result.objective,
                                              record), done.rows)
                record_seconds += time.perf_counter() - t_rec
                durations.extend(done.durations)
                execution.tasks += done.tasks
                execution.task_seconds += done.task_seconds
                results[j] = Trial(idx + j, result, done.task_seconds)
                if result.feasible:
                    best = min(best, float(np.exp(result.objective)))
                bar.update(hw, advance=1,
                           info=f"best EDP {best:.4g}" if np.isfinite(best) else "best EDP -")
                if on_trial is not None:
                    on_trial(results[j])
            execution.batches.append({
                "evaluations": len(fresh), "tasks": len(durations),
                "ask_seconds": t_eval - t_ask, "record_seconds": record_seconds,
                "evaluate_seconds": time.perf_counter() - t_eval})
            execution.durations.append(durations)
            for j, x in enumerate(xs):
                searcher.tell(x, results[j].result.objective)
                trials.append(results[j])
            idx += len(xs)
    return trials


def _evaluate(searcher: Searcher, nested: NestedEvaluator, targets: list[Target],
              executor: Executor, progress: Callable[[int, int], None]) -> Iterator[Evaluated]:
    """The nested layer search of a batch on the executor, or the searcher's own
    (`evaluate_target(target, layers, executor)` returning per-layer picks and a state
    that `restore(x, state)` replays on resume), one target at a time."""
    hook = getattr(searcher, "evaluate_target", None)
    if hook is None:
        yield from evaluate_batch(nested, targets, executor, progress)
        return
    for i, target in enumerate(targets):
        t0 = time.perf_counter()
        picks, state = hook(target, nested.unique, executor)
        yield Evaluated(i, nested.result_of(target, picks), [], (time.perf_counter() - t0,),
                        state)


def _importance(searcher: Searcher, domain: HwDomain, seed: int) -> dict[str, float]:
    """Permutation importance of the HW features under daBO's fitted surrogate."""
    fn = getattr(searcher, "feature_importance", None)
    if fn is None:
        return {}
    values = fn(np.random.default_rng(seed))
    if values is None:
        return {}
    return {n: float(v) for n, v in zip(domain.feature_names(), values, strict=True)}
