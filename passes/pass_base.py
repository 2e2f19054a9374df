"""The pass protocol: a frozen dataclass whose fields are its options.

A pass has a kebab-case `name`, typed option fields (int, float, bool, str, or tuples of
those), and `apply(module)`; its docstring shows a before/after IR example. Pipelines
instantiate passes from text (`tile{sizes=4,4}`), so options must be plain values.
"""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import ClassVar

from dlac.errors import DlacError
from dlac.ir.core import Operation
from dlac.ir.diagnostics import DiagnosticError, UnknownLoc


class PassError(DlacError):
    """A pass could not transform the IR (bad option, unsupported input, ...)."""


@dataclasses.dataclass(frozen=True)
class ModulePass:
    name: ClassVar[str] = ""

    def apply(self, module: Operation) -> None:
        raise NotImplementedError

    def options(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def failing_op(tb: TracebackType | None) -> Operation | None:
    """The op a pass was working on when it raised: the innermost frame's local that is an
    op with a source location. Passes need no bookkeeping for their errors to name a node."""
    found = None
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, Operation) and not isinstance(value.loc, UnknownLoc) and \
                    value.name not in ("builtin.module", "func.func"):
                found = value
        tb = tb.tb_next
    return found


def failure_message(pass_name: str, err: BaseException) -> str:
    """`pass 'X' failed on node 'Y' (op): why`, one line, for any error raised in a pass."""
    op = failing_op(err.__traceback__)
    text = " ".join(str(err).split()) or type(err).__name__
    if not isinstance(err, DlacError | DiagnosticError):
        text = f"{type(err).__name__}: {text}"
    if op is None:
        return f"pass '{pass_name}' failed: {text}"
    where = op.loc.prefix()
    for lead in (f"{where}: error: ", f"{where}: "):
        if text.startswith(lead):
            text = text[len(lead):]
            break
    return f"pass '{pass_name}' failed on node '{where}' ({op.name}): {text}"


def run_pass(p: ModulePass, module: Operation) -> None:
    """Apply `p`; any error it raises becomes one PassError naming the pass and the node."""
    try:
        p.apply(module)
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - a crash inside a pass is reported, not raised
        raise PassError(failure_message(p.name, err)) from None
