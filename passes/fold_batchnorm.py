"""Fold inference BatchNormalization into the preceding Conv/Gemm, else into Mul+Add."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.attributes import FloatAttr
from dlac.ir.core import Operation
from dlac.ir.dialects.graph import OP_CLASSES
from dlac.ir.types import f32
from dlac.passes.graph_utils import (
    const_value,
    erase_dead,
    functions,
    make_constant,
    replace_op,
    single_user,
)
from dlac.passes.pass_base import ModulePass, PassError


@dataclass(frozen=True)
class FoldBatchNorm(ModulePass):
    """y = (x - mean) * g / sqrt(var + eps) + b, with x = conv(w) + c, becomes one conv with
    w' = w * a (per output channel), c' = (c - mean) * a + b, a = g / sqrt(var + eps).
    A BN with no foldable producer becomes `graph.mul` and `graph.add` by constants.

    Before:
        %c = graph.conv %x, %w : (...) -> tensor<1x8x4x4xf32>
        %y = graph.batch_norm %c, %g, %b, %m, %v {epsilon = 1.0e-05 : f32} : (...) -> ...
    After:
        %y = graph.conv %x, %w2, %c2 : (...) -> tensor<1x8x4x4xf32>
    """

    name = "fold-batchnorm"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            block = func.body.block
            for op in list(block.ops):
                if op.name != "graph.batch_norm":
                    continue
                params = [const_value(v) for v in op.operands[1:5]]
                if any(p is None for p in params):
                    raise PassError(f"{op.loc.prefix()}: BatchNormalization with non-constant "
                                    f"parameters (training mode?) is not supported")
                g, b, m, v = (p.astype(np.float64) for p in params)
                a = g / np.sqrt(v + float(op.attr("epsilon", 1e-5)))
                shift = b - m * a
                x = op.operands[0]
                producer = getattr(x, "op", None)
                if producer is not None and producer.name in ("graph.conv", "graph.gemm") \
                        and single_user(x) is op and self._fold(producer, a, shift):
                    x.name_hint = op.results[0].name_hint
                    replace_op(op, [x])
                    continue
                shape = (-1,) + (1,) * (x.type.rank - 2)
                sa = make_constant(block, op, a.astype(np.float32).reshape(shape), f32,
                                   None, op.loc)
                sb = make_constant(block, op, shift.astype(np.float32).reshape(shape), f32,
                                   None, op.loc)
                mul = OP_CLASSES["Mul"]([x, sa], [x.type], loc=op.loc)
                block.insert_before(op, mul)
                add = OP_CLASSES["Add"]([mul.results[0], sb], [x.type], loc=op.loc)
                block.insert_before(op, add)
                replace_op(op, [add.results[0]])
            erase_dead(block)

    def _fold(self, producer: Operation, a: np.ndarray, shift: np.ndarray) -> bool:
        w = const_value(producer.operands[1])
        bias = const_value(producer.operands[2]) if len(producer.operands) > 2 else None
        if w is None or (len(producer.operands) > 2 and bias is None):
            return False
        block = producer.parent
        if producer.name == "graph.conv":
            w2 = w.astype(np.float64) * a.reshape((-1,) + (1,) * (w.ndim - 1))
        else:
            if producer.attr("transA", 0):
                return False
            alpha = float(producer.attr("alpha", 1.0))
            beta = float(producer.attr("beta", 1.0))
            wt = w.T if producer.attr("transB", 0) else w
            w2 = (wt.astype(np.float64) * alpha * a.reshape(1, -1))
            w2 = w2.T if producer.attr("transB", 0) else w2
            producer.set_attr("alpha", FloatAttr(1.0, f32))
            bias = None if bias is None else np.broadcast_to(bias * beta, a.shape)
            producer.set_attr("beta", FloatAttr(1.0, f32))
        old = np.zeros_like(a) if bias is None else bias.astype(np.float64).reshape(-1)
        c2 = old * a + shift
        wv = make_constant(block, producer, w2.astype(np.float32), f32, None, producer.loc)
        cv = make_constant(block, producer, c2.astype(np.float32), f32, None, producer.loc)
        operands = [producer.operands[0], wv, cv]
        producer.set_operands(operands)
        return True
