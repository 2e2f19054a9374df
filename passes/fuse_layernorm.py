"""Recognise layer normalisation written as separate ops and replace it by one
`graph.layer_norm`, so it quantizes to the integer layer norm (one rounding at the end)
instead of a chain of int8 steps that each lose precision; InstanceNormalization becomes
the same op over a [N*C, H*W] view, followed by its per-channel scale and bias."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.graph import OP_CLASSES
from dlac.ir.types import TensorType, f32, i64
from dlac.passes.graph_utils import (
    const_value,
    erase_dead,
    functions,
    make_constant,
    replace_op,
    single_user,
)
from dlac.passes.pass_base import ModulePass


def _scalar(value: Value) -> float | None:
    arr = const_value(value)
    return None if arr is None or arr.size != 1 else float(np.asarray(arr).reshape(()))


def _producer(value: Value, name: str) -> Operation | None:
    op = getattr(value, "op", None)
    return op if op is not None and op.name == name else None


def _last_axis_mean(op: Operation | None, rank: int) -> bool:
    """A keepdims ReduceMean over the last axis only (attribute or operand axes)."""
    if op is None or not op.attr("keepdims", 1):
        return False
    axes = op.attr("axes")
    if axes is None and len(op.operands) > 1:
        arr = const_value(op.operands[1])
        axes = None if arr is None else arr.reshape(-1).tolist()
    return axes is not None and [int(a) % rank for a in axes] == [rank - 1]


@dataclass(frozen=True)
class FuseLayerNorm(ModulePass):
    """(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) [* gamma] [+ beta] -> layer_norm.

    Before:
        %m = graph.reduce_mean %x {axes = [-1]}
        %d = graph.sub %x, %m
        %p = graph.pow %d, %two
        %v = graph.reduce_mean %p {axes = [-1]}
        %e = graph.add %v, %eps
        %r = graph.sqrt %e
        %n = graph.div %d, %r
        %y = graph.mul %n, %gamma
    After:
        %y = graph.layer_norm %x, %gamma, %zeros {axis = -1, epsilon = 1e-5}
    """

    name = "fuse-layernorm"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            block = func.body.block
            for div in [op for op in block.ops if op.name == "graph.div"]:
                _match(div)
            for op in [op for op in block.ops if op.name == "graph.instance_norm"]:
                _instance_norm(op)
            erase_dead(block)


def _match(div: Operation) -> None:
    d, sqrt = div.operands[0], _producer(div.operands[1], "graph.sqrt")
    sub = _producer(d, "graph.sub")
    if sqrt is None or sub is None:
        return
    x = sub.operands[0]
    rank = x.type.rank
    mean = _producer(sub.operands[1], "graph.reduce_mean")
    if not _last_axis_mean(mean, rank) or mean.operands[0] is not x:
        return
    add = _producer(sqrt.operands[0], "graph.add")
    if add is None:
        return
    eps = _scalar(add.operands[1])
    var = _producer(add.operands[0], "graph.reduce_mean")
    if eps is None or not _last_axis_mean(var, rank):
        return
    sq = getattr(var.operands[0], "op", None)
    if sq is None or not ((sq.name == "graph.pow" and _scalar(sq.operands[1]) == 2.0
                           and sq.operands[0] is d) or
                          (sq.name == "graph.mul" and sq.operands[0] is d
                           and sq.operands[1] is d)):
        return
    h = x.type.shape[-1]
    last, gamma, beta = div, np.ones(h, np.float32), np.zeros(h, np.float32)
    for kind in ("graph.mul", "graph.add"):
        user = single_user(last.results[0])
        c = None if user is None or user.name != kind else const_value(user.operands[1])
        if c is None or c.size not in (1, h) or user.results[0].type != x.type:
            break
        vec = np.broadcast_to(c.astype(np.float32).reshape(-1), (h,))
        if kind == "graph.mul":
            gamma = vec.copy()
        else:
            beta = vec.copy()
        last = user
    block = div.parent
    g = make_constant(block, last, gamma, f32, None, div.loc)
    b = make_constant(block, last, beta, f32, None, div.loc)
    ln = OP_CLASSES["LayerNormalization"]([x, g, b], [x.type],
                                          {"axis": -1, "epsilon": float(eps)}, loc=div.loc)
    block.insert_before(last, ln)
    replace_op(last, [ln.results[0]])


def _instance_norm(op: Operation) -> None:
    """InstanceNormalization(x, s, b) = layer_norm over each [H*W] row, then s, b per C."""
    x = op.operands[0]
    scale, bias = const_value(op.operands[1]), const_value(op.operands[2])
    if scale is None or bias is None or x.type.rank < 3:
        return
    n, c = x.type.shape[:2]
    hw = x.type.num_elements // (n * c)
    block, loc = op.parent, op.loc

    def emit(kind: str, operands: list[Value], shape: list[int], attrs: dict | None = None
             ) -> Value:
        new = OP_CLASSES[kind](operands, [TensorType(shape, f32)], attrs or {}, loc=loc)
        block.insert_before(op, new)
        return new.results[0]

    def const(arr: np.ndarray, elem: object = f32) -> Value:
        return make_constant(block, op, arr, elem, None, loc)

    rows = emit("Reshape", [x, const(np.array([n * c, hw], np.int64), i64)], [n * c, hw])
    norm = emit("LayerNormalization", [rows, const(np.ones(hw, np.float32)),
                                       const(np.zeros(hw, np.float32))], [n * c, hw],
                {"axis": -1, "epsilon": float(op.attr("epsilon", 1e-5))})
    shape = list(x.type.shape)
    back = emit("Reshape", [norm, const(np.array(shape, np.int64), i64)], shape)
    per_c = [c] + [1] * (len(shape) - 2)
    scaled = emit("Mul", [back, const(scale.astype(np.float32).reshape(per_c))], shape)
    out = emit("Add", [scaled, const(bias.astype(np.float32).reshape(per_c))], shape)
    replace_op(op, [out])
