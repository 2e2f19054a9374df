"""What the host (Gemmini's in-order Rocket core) spends on a model's CPU steps.

Every top-level step of a lowered model that is not a Gemmini kernel runs as plain C on the
CPU: element-wise `loop.for` nests (quantize, LUT activations, requantisation), `loop.host`
library calls (pools, reductions, softmax, normalisations) and `loop.gather` copies. Their
instruction counts are linear in a few per-step counts read off the IR (`features`): the
body ops of a nest times their executions, the elements a library call reads and writes
and its window work, the gathered elements. The coefficients are fitted by
`tools/calibrate_host.py` to Spike's per-step instruction counts of the emitted C
(`host_instructions.json`, with the command and the leave-one-model-out error); cycles are
instructions x `HOST_CPI`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlac.ir.core import Operation
from dlac.ir.dialects.func import FuncOp
from dlac.ir.dialects.loop import ForOp, GatherOp
from dlac.ir.dialects.loop_host import HostOp
from dlac.ir.hwcost import DRAM_PJ
from dlac.ir.types import MemRefType

COEFFICIENTS_FILE = Path(__file__).with_name("host_instructions.json")

HOST_CPI = 1.3
"""Rocket's cycles per instruction on these loops: a single-issue in-order pipeline (1 IPC
at best) loses to load-use stalls, taken branches and the FPU latency of the float
quantize/requantise steps. An assumption, not a measurement: the RTL data here times
Gemmini calls only."""

HOST_PJ_PER_CYCLE = 30.0
"""Energy of the core with its L1 caches per active cycle (an assumption for a small
in-order core; the data movement through DRAM is charged separately at DRAM_PJ/byte)."""

CALL = "call"
"""The per-step constant feature (function call, loop setup)."""


@dataclass(frozen=True)
class HostStep:
    """One CPU step: its class (`nest`, `gather` or the library op's kind), its counts, and
    the bytes it moves."""

    kind: str
    counts: Mapping[str, float]
    bytes_moved: float


@dataclass(frozen=True)
class HostCost:
    """A model's CPU steps: instructions, cycles and energy (summed over steps)."""

    steps: int = 0
    instructions: float = 0.0
    cycles: float = 0.0
    energy_pj: float = 0.0

    def __add__(self, other: HostCost) -> HostCost:
        return HostCost(self.steps + other.steps, self.instructions + other.instructions,
                        self.cycles + other.cycles, self.energy_pj + other.energy_pj)

    def to_dict(self) -> dict[str, float]:
        return {"steps": self.steps, "instructions": self.instructions, "cycles": self.cycles,
                "energy_pj": self.energy_pj}


def _bytes(ty: object) -> float:
    if isinstance(ty, MemRefType) and ty.is_static:
        return float(ty.num_elements * max(1, getattr(ty.element, "width", 8) // 8))
    return 0.0


def _elements(ty: object) -> float:
    return float(ty.num_elements) if isinstance(ty, MemRefType) and ty.is_static else 0.0


def _nest_counts(op: ForOp, executions: float, counts: Counter[str]) -> None:
    """Adds every body op's executions (by op name) and the innermost iterations."""
    runs = executions * op.trip_count
    inner = True
    for child in op.regions[0].block.ops:
        if isinstance(child, ForOp):
            inner = False
            _nest_counts(child, runs, counts)
        else:
            counts[child.name] += runs
    if inner:
        counts["iterations"] += runs


def _nest_bytes(op: ForOp) -> float:
    seen: dict[int, float] = {}
    for inner in op.walk():
        for v in inner.operands:
            if isinstance(v.type, MemRefType):
                seen[id(v)] = _bytes(v.type)
    return sum(seen.values())


def step_of(op: Operation) -> HostStep | None:
    """The host step `op` is, or None for a kernel or bookkeeping op."""
    if isinstance(op, ForOp):
        counts: Counter[str] = Counter()
        _nest_counts(op, 1.0, counts)
        return HostStep("nest", dict(counts), _nest_bytes(op))
    if isinstance(op, GatherOp):
        n = _elements(op.operands[-1].type)
        # Each element walks the sources laid end to end until its index falls in one.
        return HostStep("gather", {"elements": n, "source_checks": n * (len(op.operands) - 1)},
                        sum(_bytes(v.type) for v in op.operands))
    if isinstance(op, HostOp):
        ins, out = op.operands[:-1], op.operands[-1].type
        inputs = sum(_elements(v.type) for v in ins)
        outputs = _elements(out)
        kernel = op.attr("kernel")
        window = outputs * math.prod(int(k) for k in kernel) if kernel is not None else 0.0
        window += inputs * float(op.attr("size", 0))  # type: ignore[arg-type]
        # A padded window bounds-checks every element; an unpadded one compiles without.
        padded = any(int(p) for p in op.attr("pads", ()))  # type: ignore[union-attr]
        counts = {"inputs": inputs, "outputs": outputs,
                  "padded_window" if padded else "window": window}
        return HostStep(op.attr("kind"), counts, sum(_bytes(v.type) for v in op.operands))
    return None


def host_steps(module: Operation) -> Iterator[HostStep]:
    """The CPU steps of a lowered module's function, in program order."""
    for func in module.regions[0].ops:
        if isinstance(func, FuncOp):
            for op in func.regions[0].block.ops:
                step = step_of(op)
                if step is not None:
                    yield step


def feature_vector(step: HostStep) -> dict[str, float]:
    """The step's fitted features: each count keyed by the step's class, plus its call."""
    return {f"{step.kind}:{k}": float(v) for k, v in step.counts.items()} | \
        {f"{step.kind}:{CALL}": 1.0}


@dataclass(frozen=True)
class HostModel:
    """Instructions per feature (fitted), with per-class fallbacks for features no
    calibration model exercised: a nest body op it never saw costs the mean body op, an
    unseen library kind the generic library call fitted over all kinds."""

    coefficients: Mapping[str, float]
    fallback: Mapping[str, float]

    def instructions(self, step: HostStep) -> float:
        total = 0.0
        generic = "nest" if step.kind in ("nest", "gather") else "host"
        for name, value in feature_vector(step).items():
            feature = name.split(":", 1)[1]
            coef = self.coefficients.get(name)
            if coef is None:
                coef = self.fallback.get(f"{generic}:{feature}", self.fallback["op"])
            total += coef * value
        return total

    def step_cost(self, step: HostStep) -> HostCost:
        instructions = self.instructions(step)
        cycles = instructions * HOST_CPI
        return HostCost(1, instructions, cycles,
                        cycles * HOST_PJ_PER_CYCLE + step.bytes_moved * DRAM_PJ)

    def cost(self, module: Operation) -> HostCost:
        """All CPU steps of a lowered module."""
        total = HostCost()
        for step in host_steps(module):
            total = total + self.step_cost(step)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {"coefficients": dict(sorted(self.coefficients.items())),
                "fallback": dict(sorted(self.fallback.items()))}


def load_host_model(path: Path = COEFFICIENTS_FILE) -> HostModel:
    data = json.loads(path.read_text())
    return HostModel(data["coefficients"], data["fallback"])
