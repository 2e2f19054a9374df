"""Emit a model's C with the bundled simulator as its `make sim` runtime.

The backends render C for any Gemmini; which simulator the output directory builds
against is the flow's choice, so the backends never import the simulator.
"""

from __future__ import annotations

from pathlib import Path

from dlac.backends.emit import Emitted, SimRuntime
from dlac.backends.emit import emit as emit_files
from dlac.ir.core import Operation
from dlac.ir.target import Target
from dlac.sim.build import CSRC_DIR, INCLUDE_DIR
from dlac.sim.native import render_config_header


def sim_runtime(target: Target) -> SimRuntime:
    """The bundled simulator's headers, C core and config header for `target`."""
    return SimRuntime(INCLUDE_DIR, CSRC_DIR, render_config_header(target))


def emit(module: Operation, target: Target, out_dir: str | Path, model: str = "model"
         ) -> Emitted:
    """Write the lowered module's C, headers and Makefile into `out_dir`."""
    return emit_files(module, target, out_dir, sim_runtime(target), model)
