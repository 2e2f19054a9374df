"""A task that costs one given mapping instead of searching: what a searcher that picks
the mappings itself (Polaris) ships to the executor.

It lives apart from `tasks` (which builds on the nested layer search) so the searchers
can create it without importing the nested evaluator that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.target import Target
from dlac.passes.mapping import Layer, Mapping


@dataclass(frozen=True)
class MappingTask:
    """Cost exactly `mapping` of `layer` on `target` with the evaluator named `evaluator`."""

    layer: Layer
    target: Target
    evaluator: str
    mapping: Mapping
