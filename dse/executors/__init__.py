"""Where layer tasks run; importing this package registers every executor in
`dlac.dse.registry.EXECUTORS` (the interface is in `base`, the task in `dse/tasks.py`)."""

from __future__ import annotations

from ..registry import EXECUTORS
from . import process, ray_executor, serial
from .base import Executor, usable_cores

__all__ = ["Executor", "executor_names", "make_executor", "process", "ray_executor",
           "serial", "usable_cores"]

DEFAULT = "process"


def executor_names() -> list[str]:
    return EXECUTORS.names()


def make_executor(name: str, jobs: int | None = None,
                  address: str | None = None) -> Executor:
    """Start the executor registered as `name` (one-line error for bad settings)."""
    return EXECUTORS.get(name)(jobs, address)
