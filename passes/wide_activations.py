"""Which activations feeding Gemmini convs/matmuls the quantizer carries as two int8 digits.

Gemmini's conv and matmul read int8 only, so an activation with more than 8 bits has to
reach them in int8 pieces. A table op's output (HardSwish, SiLU = x * sigmoid(x) of one
int8 input, ...) is a function of its int8 input, so two 256-entry tables give it as
digits: hi = rne(f(x) / s) (the usual int8 tensor) and lo = rne((f(x) - hi s) / (s / 254)),
together ~16 bits. A host product (a squeeze-excite Mul) gets its low digit from a second
qgraph.mul with `residual_multiplier` (the same float32 product, minus its int8 rounding,
times 254). Each conv or matmul with constant weights that reads it runs twice
with the same int8 weights, on hi (with the bias) and on lo (multiplier scaled by 1/254),
both requantized to the conv's output scale before the activation, and one resadd with
unit scales sums them and applies the activation. Every piece is an existing qgraph op,
so the emitted C, dlac-sim and the reference stay bit-exact by construction. The price
per widened tensor: a second table on the host, a second call per consuming conv, a
resadd, and one more int8 rounding at each consuming conv's output (in exchange for the
input's rounding).

Which tensors: the `count` candidates whose int8 rounding alone costs the most output
noise (`sensitivity.alone_noise`, the additive attribution of `dlac --sensitivity`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.func import FuncOp
from dlac.ir.types import f32
from dlac.passes.graph_utils import const_value
from dlac.passes.sensitivity import alone_noise

#: lo digit step = hi step / LO_STEPS: the residual f(x) - hi s lies in [-s/2, s/2].
LO_STEPS = 254
WEIGHTED = ("graph.conv", "graph.conv_transpose", "graph.gemm", "graph.matmul")


def silu_input(op: Operation) -> Value | None:
    """x of a Mul(x, Sigmoid(x)) (either operand order), else None: SiLU is a table."""
    if op.name != "graph.mul" or len(op.operands) != 2:
        return None
    for i in (0, 1):
        gate = getattr(op.operands[i], "op", None)
        if gate is not None and gate.name == "graph.sigmoid" and \
                gate.operands[0] is op.operands[1 - i]:
            return op.operands[1 - i]
    return None


def tensor_product(op: Operation) -> bool:
    """A Mul the quantizer runs as qgraph.mul (not a rescale by a constant scalar)."""
    if op.name != "graph.mul" or len(op.operands) != 2:
        return False
    for i in (0, 1):
        c = const_value(op.operands[i])
        if c is not None and c.size == 1 and op.operands[1 - i].type == op.results[0].type:
            return False
    return True


def gemmini_reader(user: Operation, index: int) -> bool:
    """`user` is a conv/matmul that Gemmini runs with constant weights, reading operand
    `index` as its activation."""
    if user.name not in WEIGHTED or index != 0 or len(user.operands) < 2:
        return False
    if user.name == "graph.gemm" and float(user.attr("alpha", 1.0)) != 1.0:
        return False
    return const_value(user.operands[1]) is not None


def candidates(func: FuncOp, table_ops: Collection[str],
               fixed_scale: Callable[[Value], bool]) -> list[Operation]:
    """Table ops and tensor products (SiLU, squeeze-excite Muls) with a float result read
    by at least one Gemmini conv or matmul and no model-given scale."""
    found = []
    for op in func.body.block.ops:
        if not op.results or getattr(op.results[0].type, "element", None) is not f32:
            continue
        if op.name not in table_ops and not tensor_product(op):
            continue
        value = op.results[0]
        if fixed_scale(value) or op.attr("fused_act") == "relu6":
            continue
        if any(gemmini_reader(user, index) for user, index in value.uses):
            found.append(op)
    return found


def select(func: FuncOp, batches: list[list[np.ndarray]], ranges: dict[int, float],
           opset: int, count: int, table_ops: Collection[str],
           fixed_scale: Callable[[Value], bool], passthrough: Collection[str] = ()
           ) -> list[tuple[Operation, float]]:
    """The `count` candidates with the largest output noise when rounded alone, largest
    first, each with that noise power (relative to the signal)."""
    ops = candidates(func, table_ops, fixed_scale) if count > 0 else []
    if not ops:
        return []
    powers = alone_noise(func, batches, ranges, opset, ops, passthrough)
    ranked = sorted(zip(ops, powers, strict=True), key=lambda t: -t[1])
    return ranked[:count]
