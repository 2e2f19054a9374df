"""Which float tensors the quantizer carries at int16 instead of int8.

A tensor that a host op produces and only host ops consume never reaches Gemmini, whose
inputs must be int8, so it can keep 16 bits. The ones chosen here are the outputs of
adds (a residual stream: ViT's positional-embedding Add and each block's residual Add)
consumed only by LayerNorm, by other such adds or as a function result (dequantized
from int16). An add with an int16 result runs on the host (lower-to-loops); LayerNorm
reads int16 and writes int8, which is where the stream is quantized for the next
matmul. A tensor with a model-given scale (QDQ) or a fixed ReLU6 scale stays int8.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from dlac.ir.core import Value
from dlac.ir.dialects.func import FuncOp

ADDS = ("graph.add", "graph.sub", "graph.sum")
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
