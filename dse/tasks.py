"""What an executor runs: one layer's mapping search on one hardware target (or the cost
of one mapping a searcher chose, `measure.MappingTask`).

A task is a small picklable record (the layer's shape, the Target, the evaluator's name
and the SW search settings), never an evaluator or a database handle, so it travels to a
process pool or a Ray cluster cheaply. Workers keep one `LayerSearch` per (evaluator,
SW settings) for their lifetime, so the simulator library of a target is loaded once per
worker (and built once per machine: sim/build.py caches it on disk). A task's result is
a pure function of the task (its seed derives from the layer, target and SW key), so a
retried task returns what the lost attempt would have, in any worker.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from functools import cache

from dlac.ir.target import Target
from dlac.passes.mapping import Layer, NoLegalMapping

from .evaluators import make_evaluator
from .measure import MappingTask
from .nested import LayerBest, LayerRow, LayerSearch, SwConfig


@dataclass(frozen=True)
class LayerTask:
    """Search `layer`'s mappings on `target` with the evaluator named `evaluator`."""

    layer: Layer
    target: Target
    evaluator: str
    sw: SwConfig


Task = LayerTask | MappingTask
"""What executors run: a layer search, or the cost of one mapping a searcher chose."""


@dataclass(frozen=True)
class LayerOutcome:
    """A task's result: the best mapping and its DB row, or why no mapping runs; with the
    worker that ran it and how long it took (for the executor's overhead figures)."""

    best: LayerBest | None
    row: LayerRow | None
    reason: str
    seconds: float
    worker: str


@cache
def _search(evaluator: str, sw: SwConfig) -> LayerSearch:
    return LayerSearch(make_evaluator(evaluator), sw)


def run_task(task: Task) -> LayerOutcome:
    """Run one task in this process (the function every executor ships to its workers)."""
    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        if isinstance(task, MappingTask):
            best = _search(task.evaluator, SwConfig()).cost(task.layer, task.target,
                                                             task.mapping)
            return LayerOutcome(best, None, "", time.perf_counter() - t0, worker)
        best, row = _search(task.evaluator, task.sw).search(task.layer, task.target)
    except NoLegalMapping as err:
        return LayerOutcome(None, None, str(err), time.perf_counter() - t0, worker)
    return LayerOutcome(best, row, "", time.perf_counter() - t0, worker)
