"""Recognise local response normalisation written as separate ops (torch exports
`nn.LocalResponseNorm` this way) and replace it by one `graph.lrn`, which quantizes to the
integer LRN instead of a 5-D average pool (no int8 form) and a chain of int8 steps.

The pattern (views are Reshape/Squeeze/Unsqueeze/Identity, in any number):
    x * x -> view to [N, 1, C, H, W] -> Pad channels (lo, hi) -> AveragePool [size, 1, 1]
    (padding counted) -> view to x's shape -> * alpha -> + k -> ** beta -> x / that
which is LRN(size, alpha, beta, bias=k) when (lo, hi) are ONNX's ((size-1)//2, size//2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.graph import OP_CLASSES
from dlac.passes.graph_utils import const_value, erase_dead, functions, replace_op
from dlac.passes.pass_base import ModulePass

_VIEWS = ("graph.reshape", "graph.squeeze", "graph.unsqueeze", "graph.identity")


def _scalar(value: Value) -> float | None:
    arr = const_value(value)
    return None if arr is None or arr.size != 1 else float(np.asarray(arr).reshape(()))


def _producer(value: Value, name: str, through_views: bool = False) -> Operation | None:
    op = getattr(value, "op", None)
    while through_views and op is not None and op.name in _VIEWS:
        op = getattr(op.operands[0], "op", None)
    return op if op is not None and op.name == name else None


@dataclass(frozen=True)
class FuseLrn(ModulePass):
    """x / (k + alpha * avg_pool3d(pad(x^2)))^beta -> graph.lrn.

    Before:
        %s = graph.mul %x, %x
        %p = graph.pad %s5d, %pads            (after a reshape to [N, 1, C, H, W])
        %a = graph.average_pool %p {kernel_shape = [5, 1, 1], count_include_pad = 1}
        %m = graph.mul %a4d, %alpha
        %b = graph.add %m, %k
        %d = graph.pow %b, %beta
        %y = graph.div %x, %d
    After:
        %y = graph.lrn %x {size = 5, alpha = 1e-4, beta = 0.75, bias = 2.0}
    """

    name = "fuse-lrn"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            for div in [op for op in func.body.block.ops if op.name == "graph.div"]:
                _match(div)
            erase_dead(func.body.block)


def _match(div: Operation) -> None:
    x = div.operands[0]
    if x.type.rank != 4:
        return
    power = _producer(div.operands[1], "graph.pow")
    add = None if power is None else _producer(power.operands[0], "graph.add")
    mul = None if add is None else _producer(add.operands[0], "graph.mul")
    if mul is None:
        return
    beta, bias, alpha = (_scalar(power.operands[1]), _scalar(add.operands[1]),
                         _scalar(mul.operands[1]))
    pool = _producer(mul.operands[0], "graph.average_pool", through_views=True)
    pad = None if pool is None else _producer(pool.operands[0], "graph.pad", through_views=True)
    square = None if pad is None else _producer(pad.operands[0], "graph.mul", through_views=True)
    if None in (beta, bias, alpha) or square is None or \
            not (square.operands[0] is x and square.operands[1] is x) or \
            mul.results[0].type.shape != x.type.shape:
        return
    size = _lrn_size(pool, pad)
    if size is None:
        return
    lrn = OP_CLASSES["LRN"]([x], [div.results[0].type],
                            {"size": size, "alpha": alpha, "beta": beta, "bias": bias},
                            loc=div.loc)
    div.parent.insert_before(div, lrn)
    replace_op(div, [lrn.results[0]])


def _lrn_size(pool: Operation, pad: Operation) -> int | None:
    """The LRN window if the pool sums `size` channels of a 5-D view whose channel axis
    (2) is padded the ONNX way with zeros, else None."""
    kernel = [int(k) for k in pool.attr("kernel_shape", [])]
    if len(kernel) != 3 or kernel[1:] != [1, 1] or not int(pool.attr("count_include_pad", 0)) \
            or any(int(p) for p in pool.attr("pads", [0] * 6)) \
            or any(int(s) != 1 for s in pool.attr("strides", [1, 1, 1])):
        return None
    size = kernel[0]
    pads = const_value(pad.operands[1]) if len(pad.operands) > 1 else None
    value = 0.0
    if len(pad.operands) > 2 and getattr(pad.operands[2].op, "name", "") != "graph.none":
        value = _scalar(pad.operands[2])
    if pads is None or pads.size != 10 or value != 0.0 or \
            pad.attr("mode", "constant") not in ("constant", b"constant"):
        return None
    want = np.zeros(10, np.int64)
    want[2], want[7] = (size - 1) // 2, size // 2
    return size if np.array_equal(pads.reshape(-1), want) else None
