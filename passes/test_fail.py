"""A pass that fails on purpose, to test failure reporting and reproducers."""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.core import Operation
from dlac.passes.pass_base import ModulePass, PassError


@dataclass(frozen=True)
class TestFail(ModulePass):
    """Raise `PassError(message)`, or with `crash=true` an unexpected exception.

    Before:
        gemmini.fence
    After:
        error: pass 'test-fail' failed: <message>
    """

    name = "test-fail"
    message: str = "requested failure"
    crash: bool = False

    def apply(self, module: Operation) -> None:
        if self.crash:
            raise RuntimeError(self.message)
        raise PassError(self.message)
