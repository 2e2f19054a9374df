"""Hardware candidates as layer tasks: a batch of targets fans out to an executor, one
task per (target, unique layer) the database does not already hold, and each target's
HwResult is assembled the moment its last layer finishes.

Tasks are interleaved across targets (layer-major), so the first tasks the workers pick
up belong to different targets and each worker builds a different target's simulator
library instead of all of them waiting for the same one. A result is assembled from its
tasks in layer order, never in arrival order, so it is the one the serial
NestedEvaluator.evaluate returns (an infeasible target names the first layer in order
with no legal mapping).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from dlac.ir.target import Target

from .executors import Executor
from .nested import HwResult, LayerBest, LayerRow, NestedEvaluator, cached_best
from .tasks import LayerOutcome, LayerTask


@dataclass(frozen=True)
class Evaluated:
    """One target of a batch, finished: its position in the batch, result, new DB rows (in
    layer order), the run time of each of its tasks and, for a searcher that maps layers
    itself, the state it replays on resume."""

    index: int
    result: HwResult
    rows: list[LayerRow]
    durations: tuple[float, ...] = ()
    state: dict[str, Any] | None = None

    @property
    def tasks(self) -> int:
        return len(self.durations)

    @property
    def task_seconds(self) -> float:
        return sum(self.durations)


def evaluate_batch(nested: NestedEvaluator, targets: Sequence[Target], executor: Executor,
                   progress: Callable[[int, int], None] | None = None) -> Iterator[Evaluated]:
    """Evaluate `targets`, yielding each as it finishes; `progress(done, total)` after
    every finished task."""
    hashes = list(nested.unique)
    known: list[dict[str, LayerBest]] = [{} for _ in targets]
    tasks: list[LayerTask] = []
    owner: list[tuple[int, str]] = []
    for h in hashes:
        layer = nested.unique[h]
        for ti, target in enumerate(targets):
            rec = nested.stored(layer, target)
            if rec is not None:
                known[ti][h] = cached_best(layer, rec)
            else:
                tasks.append(LayerTask(layer, target, nested.evaluator.name, nested.sw))
                owner.append((ti, h))
    outcomes: list[dict[str, LayerOutcome]] = [{} for _ in targets]
    waiting = [len(hashes) - len(k) for k in known]
    for ti, n in enumerate(waiting):
        if n == 0:
            yield _assemble(nested, ti, targets[ti], hashes, known[ti], {})
    if progress is not None:
        progress(0, len(tasks))
    for done, (i, outcome) in enumerate(executor.run(tasks), start=1):
        ti, h = owner[i]
        outcomes[ti][h] = outcome
        waiting[ti] -= 1
        if progress is not None:
            progress(done, len(tasks))
        if waiting[ti] == 0:
            yield _assemble(nested, ti, targets[ti], hashes, known[ti], outcomes[ti])


def _assemble(nested: NestedEvaluator, index: int, target: Target, hashes: list[str],
              known: dict[str, LayerBest], outcomes: dict[str, LayerOutcome]) -> Evaluated:
    bests: dict[str, LayerBest] = {}
    rows: list[LayerRow] = []
    spent = tuple(o.seconds for o in outcomes.values())
    for h in hashes:
        if h in known:
            bests[h] = known[h]
            continue
        outcome = outcomes[h]
        if outcome.best is None:
            return Evaluated(index, HwResult(target, {}, {}, outcome.reason, nested.goal), rows,
                             spent)
        bests[h] = outcome.best
        if outcome.row is not None:
            rows.append(outcome.row)
    return Evaluated(index, HwResult(target, bests, nested.totals(bests, target), goal=nested.goal),
                     rows, spent)
