"""The process executor (the command line's default): a local pool of worker processes,
`--jobs N` of them (default: the usable cores).

Workers come from a forkserver that has imported the task module once, so starting one is
a fork, not a fresh interpreter; each keeps its evaluator (and the simulator libraries it
loaded) for the whole run. A worker that dies takes the pool with it
(BrokenProcessPool): the unfinished tasks then run again on a fresh pool, up to RETRIES
times, and a finished task is never reported twice.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from ..errors import DseError
from ..registry import EXECUTORS
from ..tasks import LayerOutcome, Task, run_task
from .base import Executor

RETRIES = 3


@EXECUTORS.register("process")
class ProcessExecutor(Executor):
    name = "process"

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        super().__init__(jobs, address)
        self._pool: ProcessPoolExecutor | None = None

    def _fresh_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["dlac.dse.tasks"])
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
        return self._pool

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, LayerOutcome]]:
        todo = list(range(len(tasks)))
        for _ in range(RETRIES + 1):
            pool = self._pool or self._fresh_pool()
            futures: dict[Future[LayerOutcome], int] = {
                pool.submit(run_task, tasks[i]): i for i in todo}
            done: set[int] = set()
            try:
                for fut in as_completed(futures):
                    i = futures[fut]
                    outcome = fut.result()
                    done.add(i)
                    yield i, outcome
                return
            except BrokenProcessPool:
                todo = [i for i in todo if i not in done]
                self._fresh_pool()
        raise DseError(f"worker processes kept dying; {len(todo)} layer tasks did not finish "
                       f"after {RETRIES} retries (out of memory? try a smaller --jobs)")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
