"""Name -> implementation tables for the co-design driver's plug-ins.

Searchers, evaluators and executors add themselves with the `register` decorator of
their table; this module imports none of them, so the plug-ins depend on it and never
the other way round. Importing a plug-in package (`dlac.dse.search`,
`dlac.dse.evaluators`) fills its table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import DseError

T = TypeVar("T")


class Registry(Generic[T]):
    """Implementations of one kind of plug-in, by their command-line name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(entry: T) -> T:
            if name in self._entries and self._entries[name] is not entry:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry
        return add

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise DseError(f"unknown {self.kind} {name!r}; choose one of "
                           f"{', '.join(self.names())}")
        return self._entries[name]


SEARCHERS: Registry = Registry("searcher")
EVALUATORS: Registry = Registry("evaluator")
EXECUTORS: Registry = Registry("executor")
