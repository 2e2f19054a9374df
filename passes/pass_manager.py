"""Runs a pipeline: verify after every pass, optional IR dumps, reproducers on failure."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field
from typing import TextIO

from dlac.errors import DlacError
from dlac.ir.core import Operation
from dlac.ir.diagnostics import DiagnosticError
from dlac.ir.printer import print_op
from dlac.ir.verifier import verify
from dlac.passes.pass_base import ModulePass, failure_message
from dlac.passes.pipeline import format_pipeline

REPRODUCER_HEADER = "// dlac-opt reproducer: -p '{pipeline}'"


class PassFailure(DlacError):
    """A pass raised, or left IR that does not verify; names the pass and the reproducer."""

    def __init__(self, message: str, reproducer: str | None) -> None:
        self.reproducer = reproducer
        suffix = f" (reproducer: {reproducer})" if reproducer else ""
        super().__init__(message + suffix)


@dataclass
class PassManager:
    passes: list[ModulePass]
    verify_each: bool = True
    print_ir_after_all: bool = False
    dump_stream: TextIO = field(default_factory=lambda: sys.stderr)
    reproducer_path: str | None = None
    write_reproducer: bool = True

    def run(self, module: Operation) -> None:
        for index, p in enumerate(self.passes):
            before = print_op(module, debug_locs=True) if self.write_reproducer else ""
            try:
                p.apply(module)
            except MemoryError:
                raise
            except Exception as err:  # noqa: BLE001 (a crashing pass is reported, not raised)
                raise self._failure(index, failure_message(p.name, err), before) from None
            if self.verify_each:
                try:
                    verify(module)
                except DiagnosticError as err:
                    raise self._failure(index, f"IR does not verify after pass '{p.name}': "
                                               f"{err}", before) from None
            if self.print_ir_after_all:
                self.dump_stream.write(f"// -----// IR Dump After {p.name} //----- //\n")
                self.dump_stream.write(print_op(module))

    def _failure(self, index: int, message: str, ir_before: str) -> PassFailure:
        if not self.write_reproducer:
            return PassFailure(message, None)
        pipeline = format_pipeline(self.passes[index:])
        text = REPRODUCER_HEADER.format(pipeline=pipeline) + "\n" + ir_before
        path = self.reproducer_path
        if path is None:
            fd, path = tempfile.mkstemp(prefix="dlac-reproducer-", suffix=".mlir")
            os.close(fd)
        with open(path, "w") as fh:
            fh.write(text)
        return PassFailure(message.replace("\n", " "), path)
