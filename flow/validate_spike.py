"""Run emitted model C on Spike + libgemmini and compare every output byte with the reference.

The model is built bare metal (`-DDLAC_BAREMETAL`: inputs embedded from inputs.bin, outputs
compared on the device with expected.bin) against gemmini-rocc-tests' gemmini.h and the
target's gemmini_params.h, with libgemmini rebuilt for that header.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dlac.backends.emit import Emitted
from dlac.flow import spike
from dlac.flow.validate import pack

_MISMATCH = re.compile(r"^mismatched_bytes (\d+) of (\d+)$", re.MULTILINE)
_STEP = re.compile(r"^cycles (\w+) (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class SpikeReport:
    spike_bit_exact: bool
    spike_mismatched_bytes: int
    spike_instructions: int
    spike_wall_s: float
    spike_step_instructions: dict[str, int]
    """Per step of model_run (Spike retires one instruction per cycle, so the program's
    cycle counter counts instructions); `total` is the whole model."""


def write_check_files(emitted: Emitted, reference_outputs: list[np.ndarray],
                      inputs: list[np.ndarray]) -> None:
    """Write inputs.bin and expected.bin into the output dir, so `make spike` can rerun the
    bit-exact check there on any machine with the Spike cache."""
    view = emitted.view
    out = emitted.out_dir
    (out / "inputs.bin").write_bytes(pack(view.inputs, inputs))
    (out / "expected.bin").write_bytes(pack(view.outputs, reference_outputs))


def validate_on_spike(emitted: Emitted, reference_outputs: list[np.ndarray],
                      inputs: list[np.ndarray], build_dir: Path,
                      timeout: float = 1800.0) -> SpikeReport:
    """Write the check files, then cross-compile, run on Spike and compare every byte."""
    spike.require_cache()
    write_check_files(emitted, reference_outputs, inputs)
    return run_output_dir(emitted.out_dir, build_dir, timeout)


def run_output_dir(out_dir: Path, build_dir: Path, timeout: float = 1800.0) -> SpikeReport:
    """Build an output dir's model.c bare metal against Gemmini's header and its
    gemmini_params.h (with its inputs.bin / expected.bin), run it on Spike, report."""
    spike.require_cache()
    out = out_dir.resolve()
    for need in ("model.c", "gemmini_params.h", "inputs.bin", "expected.bin"):
        if not (out / need).exists():
            raise spike.SpikeError(f"{out}: no {need} (emit with `dlac MODEL -o DIR "
                                   "--validate spike` to write the inputs and expected outputs)")
    build_dir.mkdir(parents=True, exist_ok=True)
    params = (out / "gemmini_params.h").read_text()
    binary = spike.cross_compile(
        [out / "model.c"], spike.gemmini_include(params), build_dir / "model.elf",
        ("-DDLAC_BAREMETAL", "-Wall", f"-I{out}", f"-Wa,-I{out}"))
    lib = spike.libgemmini(params)
    start = time.perf_counter()
    result = spike.run(binary, lib, timeout=timeout)
    wall = time.perf_counter() - start
    found = _MISMATCH.search(result.output)
    if found is None:
        raise spike.SpikeError(f"Spike run of {out / 'model.c'} printed no comparison "
                               f"(exit {result.returncode})")
    mismatched = int(found.group(1))
    steps = {name: int(n) for name, n in _STEP.findall(result.output)}
    return SpikeReport(mismatched == 0 and result.returncode == 0, mismatched,
                       result.instructions, round(wall, 2), steps)
