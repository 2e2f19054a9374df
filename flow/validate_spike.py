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
from dlac.flow.validate import NP_TYPES

_MISMATCH = re.compile(r"^mismatched_bytes (\d+) of (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class SpikeReport:
    spike_bit_exact: bool
    spike_mismatched_bytes: int
    spike_instructions: int
    spike_wall_s: float


def _blob(arrays: list[np.ndarray], ctypes: list[str]) -> bytes:
    return b"".join(np.ascontiguousarray(a, dtype=NP_TYPES[t]).tobytes()
                    for a, t in zip(arrays, ctypes, strict=True))


def validate_on_spike(emitted: Emitted, reference_outputs: list[np.ndarray],
                      inputs: list[np.ndarray], build_dir: Path,
                      timeout: float = 1800.0) -> SpikeReport:
    """Cross-compile, run on Spike, and report whether every output byte matched."""
    spike.require_cache()
    view = emitted.view
    build_dir.mkdir(parents=True, exist_ok=True)
    out = emitted.out_dir.resolve()
    (build_dir / "inputs.bin").write_bytes(_blob(inputs, [io.ctype for io in view.inputs]))
    (build_dir / "expected.bin").write_bytes(
        _blob(reference_outputs, [io.ctype for io in view.outputs]))
    params = (out / "gemmini_params.h").read_text()
    binary = spike.cross_compile(
        [emitted.model_c], spike.gemmini_include(params), build_dir / "model.elf",
        ("-DDLAC_BAREMETAL", "-Wall", f"-I{out}", f"-Wa,-I{out}", f"-Wa,-I{build_dir.resolve()}"))
    lib = spike.libgemmini(params)
    start = time.perf_counter()
    result = spike.run(binary, lib, timeout=timeout)
    wall = time.perf_counter() - start
    found = _MISMATCH.search(result.output)
    if found is None:
        raise spike.SpikeError(f"Spike run of {emitted.model_c} printed no comparison "
                               f"(exit {result.returncode})")
    mismatched = int(found.group(1))
    return SpikeReport(mismatched == 0 and result.returncode == 0, mismatched,
                       result.instructions, round(wall, 2))
