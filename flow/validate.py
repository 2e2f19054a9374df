"""Build emitted C against the bundled simulator, run it, compare with the reference.

The reference is `dlac.ir.semantics.qgraph`'s numpy execution of the quantized graph; the program's
outputs must equal it bit for bit. Cycles and energy come from the simulator for the Gemmini
kernels and from the host model (dlac.passes.host_cost) for the CPU steps.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from dlac.backends.c_emit import IOView
from dlac.backends.emit import Emitted
from dlac.backends.errors import BackendError
from dlac.ir.core import Operation
from dlac.ir.dialects import gemmini
from dlac.ir.target import Target
from dlac.passes.host_cost import HostCost, host_steps, load_host_model
from dlac.sim.build import compile_program, run_program

NP_TYPES = {"elem_t": np.int8, "acc_t": np.int32, "float": np.float32, "double": np.float64,
            "int64_t": np.int64, "int16_t": np.int16, "uint8_t": np.uint8}
_CYCLES = re.compile(r"^cycles (\S+) (\d+)$", re.MULTILINE)


def pack(ios: list[IOView], arrays: list[np.ndarray]) -> bytes:
    """The bytes the emitted program reads for its inputs (or writes for its outputs): each
    array in its C type, in the program's order; a wrong size is named, never truncated."""
    parts = []
    for io, arr in zip(ios, arrays, strict=True):
        data = np.ascontiguousarray(arr, dtype=NP_TYPES[io.ctype])
        if data.size != io.size:
            raise BackendError(f"'{io.label}' needs {io.size} values, got {data.size}")
        parts.append(data.tobytes())
    return b"".join(parts)


@dataclass
class Report:
    bit_exact: bool
    cycles: float
    energy_pj: float
    edp: float
    macs: int
    utilization: float
    target: dict
    outputs: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    host: dict = field(default_factory=dict)
    """The CPU steps' instructions, cycles and energy (dlac.passes.host_cost), included in
    `cycles`, `energy_pj` and `edp`."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def total_macs(lowered: Operation) -> int:
    """MACs of every accelerated conv and matmul (the roofline's numerator); a depthwise
    conv run as channel groups (block-diagonal or flat) counts only their diagonal."""
    macs = 0
    for op in lowered.walk():
        if isinstance(op, gemmini.TiledMatmulOp):
            i, j, k = op.attr("dims")
            macs += i * j * k
        elif isinstance(op, gemmini.TiledConvOp):
            g = dict(op.attr("geometry"))
            if op.depthwise:
                per_out, outs = 1, g["channels"]
            else:
                per_out, outs = g["in_channels"], g["out_channels"]
            macs += g["batch"] * g["out_rows"] * g["out_cols"] * outs * g["kernel_dim"] ** 2 \
                * per_out
    return macs


def validate(emitted: Emitted, lowered: Operation, reference_outputs: list[np.ndarray],
             inputs: list[np.ndarray], target: Target, build_dir: Path) -> Report:
    view = emitted.view
    if len(inputs) != len(view.inputs) or len(reference_outputs) != len(view.outputs):
        raise BackendError("inputs/outputs do not match the emitted program's signature")
    build_dir.mkdir(parents=True, exist_ok=True)
    out = emitted.out_dir.resolve()
    binary = compile_program([emitted.model_c], target, build_dir,
                             extra_flags=(f"-I{out}", f"-Wa,-I{out}", "-Wextra"))
    in_path, out_path = build_dir / "inputs.bin", build_dir / "outputs.bin"
    in_path.write_bytes(pack(view.inputs, inputs))
    result = run_program(binary, [str(in_path), str(out_path)])
    if result.returncode != 0:
        raise BackendError(f"emitted program failed ({result.returncode}): "
                           f"{(result.stderr.strip().splitlines() or [''])[0]}")
    raw = out_path.read_bytes()
    outputs = []
    offset = 0
    exact = True
    for io, ref in zip(view.outputs, reference_outputs, strict=True):
        dtype = np.dtype(NP_TYPES[io.ctype])
        got = np.frombuffer(raw, dtype, io.size, offset)
        offset += io.size * dtype.itemsize
        want = np.ascontiguousarray(ref, dtype=dtype).reshape(-1)
        same = got.tobytes() == want.tobytes()
        exact &= same
        mismatches = int(np.count_nonzero(got.view(np.uint8) != want.view(np.uint8)))
        outputs.append({"name": io.label, "elements": io.size, "bit_exact": same,
                        "mismatched_bytes": mismatches})
    step_cycles = {name: int(c) for name, c in _CYCLES.findall(result.stdout)}
    cycles = float(result.cycles or step_cycles.get("total", 0))
    energy = float(result.energy_pj or 0.0)
    macs = total_macs(lowered)
    steps = [{"name": s.name, "kind": s.kind, "what": s.comment,
              "cycles": step_cycles.get(s.name, 0)} for s in view.steps]
    accelerator = cycles
    host = _time_host_steps(steps, lowered)
    cycles += host.cycles - sum(s["simulated_cycles"] for s in steps if "simulated_cycles" in s)
    energy += host.energy_pj
    return Report(exact, cycles, energy, cycles * energy, macs,
                  macs / (accelerator * target.dim * target.dim) if accelerator else 0.0,
                  target.to_dict(), outputs, steps, host.to_dict())


def _time_host_steps(steps: list[dict], lowered: Operation) -> HostCost:
    """The simulator runs the CPU steps natively and only sees their fence; each host step
    is timed by the host model instead (its simulated cycles kept beside)."""
    model = load_host_model()
    found = list(host_steps(lowered))
    views = [s for s in steps if s["kind"] == "host"]
    if len(found) != len(views):
        raise BackendError(f"{len(views)} emitted host steps but {len(found)} in the IR")
    total = HostCost()
    for view, step in zip(views, found, strict=True):
        cost = model.step_cost(step)
        view["simulated_cycles"] = view["cycles"]
        view["cycles"] = round(cost.cycles)
        view["instructions"] = round(cost.instructions)
        total = total + cost
    return total
