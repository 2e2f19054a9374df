"""Dead code elimination of side-effect-free ops."""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.core import Operation
from dlac.ir.opdef import PURE
from dlac.passes.pass_base import ModulePass


@dataclass(frozen=True)
class DeadCodeElimination(ModulePass):
    """Erase `pure` ops whose results are unused, until nothing changes.

    Before:
        %0 = loop.alloc : () -> memref<4xi8>
        %1 = loop.load %buf, %i {map = ...} : (...) -> i8
    After (neither result used):
        (both ops removed)
    """

    name = "dce"

    def apply(self, module: Operation) -> None:
        changed = True
        while changed:
            changed = False
            for op in reversed(list(module.walk())):
                if op is module or PURE not in op.SPEC.traits:
                    continue
                if all(not r.uses for r in op.results):
                    op.erase()
                    changed = True
