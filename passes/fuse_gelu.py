"""Recognise the Erf-based GELU that exporters emit and replace it by one `graph.gelu`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.graph import OP_CLASSES
from dlac.passes.graph_utils import const_value, erase_dead, functions, replace_op, single_user
from dlac.passes.pass_base import ModulePass


def _scalar(value: Value) -> float | None:
    arr = const_value(value)
    if arr is None or arr.size != 1:
        return None
    return float(np.asarray(arr).reshape(()))


def _other(op: Operation, value: Value) -> Value | None:
    a, b = op.operands[0], op.operands[1]
    return b if a is value else a if b is value else None


@dataclass(frozen=True)
class FuseGelu(ModulePass):
    """x * 0.5 * (1 + erf(x / sqrt(2))) -> gelu(x), in any operand order.

    Before:
        %d = graph.div %x, %sqrt2 : ...
        %e = graph.erf %d : ...
        %a = graph.add %e, %one : ...
        %m = graph.mul %x, %a : ...
        %y = graph.mul %m, %half : ...
    After:
        %y = graph.gelu %x : (tensor<1x8xf32>) -> tensor<1x8xf32>
    """

    name = "fuse-gelu"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            block = func.body.block
            for erf in [op for op in block.ops if op.name == "graph.erf"]:
                self._match(erf)
            erase_dead(block)

    def _match(self, erf: Operation) -> None:
        div = getattr(erf.operands[0], "op", None)
        if div is None or div.name not in ("graph.div", "graph.mul"):
            return
        x, c = div.operands[0], _scalar(div.operands[1])
        if c is None:
            return
        c = c if div.name == "graph.div" else 1.0 / c if c else 0.0
        if abs(c - np.sqrt(2.0)) > 1e-4:
            return
        add = single_user(erf.results[0])
        if add is None or add.name != "graph.add" or \
                _scalar(_other(add, erf.results[0]) or add.operands[0]) != 1.0:
            return
        cur = add.results[0]
        factors: list[object] = []
        last = None
        for _ in range(2):
            mul = single_user(cur)
            if mul is None or mul.name != "graph.mul":
                return
            other = _other(mul, cur)
            factors.append(other if other is x else _scalar(other))
            cur, last = mul.results[0], mul
        if not (any(f is x for f in factors) and 0.5 in factors):
            return
        gelu = OP_CLASSES["Gelu"]([x], [last.results[0].type], loc=erf.loc)
        last.parent.insert_before(last, gelu)
        replace_op(last, [gelu.results[0]])
