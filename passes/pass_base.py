"""The pass protocol: a frozen dataclass whose fields are its options.

A pass has a kebab-case `name`, typed option fields (int, float, bool, str, or tuples of
those), and `apply(module)`; its docstring shows a before/after IR example. Pipelines
instantiate passes from text (`tile{sizes=4,4}`), so options must be plain values.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from dlac.errors import DlacError
from dlac.ir.core import Operation


class PassError(DlacError):
    """A pass could not transform the IR (bad option, unsupported input, ...)."""


@dataclasses.dataclass(frozen=True)
class ModulePass:
    name: ClassVar[str] = ""

    def apply(self, module: Operation) -> None:
        raise NotImplementedError

    def options(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
