"""What a call emitter needs from the program it writes into: C names of IR values and
shared constant tables. A protocol, so the call emitters do not depend on `CEmitter`."""

from __future__ import annotations

from typing import Protocol

from dlac.ir.attributes import DenseAttr
from dlac.ir.core import Value


class CScope(Protocol):
    def name_of(self, value: Value) -> str:
        """The C identifier already given to `value`."""
        ...

    def constant_table(self, attr: DenseAttr, hint: str) -> str:
        """The name of a static const array holding `attr`."""
        ...
