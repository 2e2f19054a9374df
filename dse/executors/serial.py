"""The serial executor: every task in the driver's own process, one after another (the
reference the parallel executors must match, and the cheapest for tiny runs)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..registry import EXECUTORS
from ..tasks import LayerOutcome, Task, run_task
from .base import Executor


@EXECUTORS.register("serial")
class SerialExecutor(Executor):
    name = "serial"

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        super().__init__(1 if jobs is None else jobs, address)
        self.workers = 1

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, LayerOutcome]]:
        for i, task in enumerate(tasks):
            yield i, run_task(task)
