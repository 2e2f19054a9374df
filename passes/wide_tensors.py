"""Which float tensors the quantizer carries at int16 instead of int8.

A tensor that a host op produces and only host ops consume never reaches Gemmini, whose
inputs must be int8, so it can keep 16 bits. The ones chosen here are the outputs of
adds (a residual stream: ViT's positional-embedding Add and each block's residual Add)
consumed only by LayerNorm, by other such adds or as a function result (dequantized
from int16). An add with an int16 result runs on the host (lower-to-loops); LayerNorm
reads int16 and writes int8, which is where the stream is quantized for the next
matmul. A tensor with a model-given scale (QDQ) or a fixed ReLU6 scale stays int8.

A Gemmini matmul whose result only such int16 adds read (a transformer block's output
projection or MLP into the residual stream) need not round it to int8 either: it writes
its int32 accumulator (`full_C`) and the add scales that to the stream's int16 grid
(`accumulator_values`), one rounding at 16 bits instead of one at 8.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from dlac.ir.core import Value
from dlac.ir.dialects.func import FuncOp
from dlac.passes.graph_utils import const_value

ADDS = ("graph.add", "graph.sub", "graph.sum")
MATMULS = ("graph.gemm", "graph.matmul")
#: A LayerNorm over rows longer than this would overflow its int64 sum of squares on
#: int16 input (h * (65535 h)^2 < 2^62, see Quantize.op_layer_norm).
MAX_WIDE_ROW = 1024


def _row(value: Value, axis: int) -> int:
    shape = list(value.type.shape)
    return int(np.prod(shape[axis % len(shape):])) if shape else 1


def _candidate(value: Value, fixed_scale: Callable[[Value], bool]) -> bool:
    owner = getattr(value, "op", None)
    if owner is None or owner.name not in ADDS or len(owner.operands) != 2:
        return False
    return owner.attr("fused_act") != "relu6" and not fixed_scale(value)


def wide_values(func: FuncOp, fixed_scale: Callable[[Value], bool]) -> set[int]:
    """ids of the float values of `func` to quantize at int16 (see the module docstring);
    `fixed_scale(v)` says the model fixes v's scale."""
    wide = {id(r): r for op in func.body.block.ops for r in op.results
            if _candidate(r, fixed_scale)}
    changed = True
    while changed:
        changed = False
        for key, value in list(wide.items()):
            for user, index in value.uses:
                ok = (user.name == "graph.layer_norm" and index == 0
                      and _row(value, int(user.attr("axis", -1))) <= MAX_WIDE_ROW) or \
                     (user.name in ADDS and id(user.results[0]) in wide) or \
                     user.name == "func.return"
                if not ok:
                    del wide[key]
                    changed = True
                    break
    return set(wide)


def _accumulates(value: Value, wide: set[int], fixed_scale: Callable[[Value], bool]) -> bool:
    owner = getattr(value, "op", None)
    if owner is None or owner.name not in MATMULS or len(owner.operands) < 2 or \
            const_value(owner.operands[1]) is None or owner.attr("fused_act") is not None:
        return False
    if owner.name == "graph.gemm" and float(owner.attr("alpha", 1.0)) != 1.0:
        return False
    return not fixed_scale(value) and bool(value.uses) and \
        all(user.name in ADDS and id(user.results[0]) in wide for user, _ in value.uses)


def accumulator_values(func: FuncOp, wide: set[int],
                       fixed_scale: Callable[[Value], bool]) -> set[int]:
    """ids of the results of Gemm/MatMul ops with constant weights (alpha 1, no fused
    activation, no model-given scale) that only int16 adds (`wide`, from wide_values) read:
    they stay Gemmini's int32 accumulator (see the module docstring)."""
    return {id(r) for op in func.body.block.ops for r in op.results[:1]
            if _accumulates(r, wide, fixed_scale)}
