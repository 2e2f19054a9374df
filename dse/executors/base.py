"""The executor interface: run independent layer tasks somewhere, report each as it
finishes.

`run(tasks)` yields `(index, outcome)` in completion order, so the driver can record an
evaluation the moment its last layer finishes; `gather(tasks)` returns the outcomes in
task order. Callers that need determinism (the driver) only ever combine outcomes by task
index, never by arrival, so any executor and any number of workers give the same result.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from ..errors import DseError
from ..tasks import LayerOutcome, Task


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def check_jobs(jobs: int | None) -> int:
    """`jobs` or, when None, the usable cores; a one-line error for fewer than one."""
    if jobs is None:
        return usable_cores()
    if jobs < 1:
        raise DseError(f"--jobs {jobs}: an executor needs at least one worker; pass "
                       "--jobs N with N >= 1, or omit --jobs to use every usable core")
    return jobs


class Executor(ABC):
    """Runs LayerTasks on `workers` workers; a context manager that releases them."""

    name = "executor"

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        if address is not None:
            raise DseError(f"--ray-address {address} needs --executor ray "
                           f"(the {self.name} executor runs on this machine)")
        self.workers = check_jobs(jobs)

    @abstractmethod
    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, LayerOutcome]]:
        """Every task's outcome with its index, in the order they finish."""

    def gather(self, tasks: Sequence[Task]) -> list[LayerOutcome]:
        """Every task's outcome, in task order."""
        out: list[LayerOutcome | None] = [None] * len(tasks)
        for i, outcome in self.run(tasks):
            out[i] = outcome
        return out  # type: ignore[return-value]

    def close(self) -> None:  # noqa: B027 - executors without workers release nothing
        """Release the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
