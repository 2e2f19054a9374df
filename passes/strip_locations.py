"""Drop source locations (e.g. before diffing IR from two runs)."""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.core import Operation
from dlac.ir.diagnostics import UNKNOWN_LOC
from dlac.passes.pass_base import ModulePass


@dataclass(frozen=True)
class StripLocations(ModulePass):
    """Replace every op location with `loc(unknown)`.

    Before (printed with debug locations):
        gemmini.fence loc("model.mlir":3:5)
    After:
        gemmini.fence
    """

    name = "strip-locations"

    def apply(self, module: Operation) -> None:
        for op in module.walk():
            op.loc = UNKNOWN_LOC
