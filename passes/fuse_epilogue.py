"""Fuse what Gemmini applies on an accelerator op's output: bias add and ReLU/ReLU6."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.types import f32
from dlac.passes.graph_utils import (
    const_value,
    erase_dead,
    functions,
    make_constant,
    replace_op,
    single_user,
)
from dlac.passes.pass_base import ModulePass

ACCEL = ("graph.conv", "graph.conv_transpose", "graph.gemm", "graph.matmul")
ACT_PRODUCERS = (*ACCEL, "graph.add", "graph.sum")
FUSED_ACT = "fused_act"


def _bias_vector(op: Operation, other: Value) -> np.ndarray | None:
    """`other` as a per-output-channel vector if adding it is a bias add for `op`."""
    arr = const_value(other)
    if arr is None or arr.dtype != np.float32:
        return None
    out = op.results[0].type.shape
    channel_axis = 1 if op.name in ("graph.conv", "graph.conv_transpose") else len(out) - 1
    if arr.ndim > len(out):
        return None
    full = (1,) * (len(out) - arr.ndim) + arr.shape
    for axis, d in enumerate(full):
        if d != 1 and axis != channel_axis:
            return None
    return np.broadcast_to(arr.reshape(-1), (out[channel_axis],)).astype(np.float64)


def _relu_kind(op: Operation) -> str | None:
    if op.name == "graph.relu":
        return "relu"
    if op.name == "graph.clip":
        lo = op.operands[1] if len(op.operands) > 1 else None
        hi = op.operands[2] if len(op.operands) > 2 else None
        lo_v = _const_scalar(lo) if lo is not None else op.attr("min")
        hi_v = _const_scalar(hi) if hi is not None else op.attr("max")
        if lo_v == 0.0 and hi_v == 6.0:
            return "relu6"
        if lo_v == 0.0 and hi_v is None:
            return "relu"
    return None


def _const_scalar(value: Value) -> float | None:
    arr = const_value(value)
    return None if arr is None or arr.size != 1 else float(arr.reshape(()))


@dataclass(frozen=True)
class FuseEpilogue(ModulePass):
    """Merge `add`-of-constant into the bias of Conv/Gemm/MatMul, and ReLU or
    Clip(0, 6) into the producing Conv/Gemm/MatMul/Add as `fused_act = "relu"|"relu6"`.

    Before:
        %y = graph.matmul %x, %w : ...
        %z = graph.add %y, %b : ...
        %r = graph.relu %z : ...
    After:
        %r = graph.matmul %x, %w, %b {fused_act = "relu"} : ...
    """

    name = "fuse-epilogue"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            block = func.body.block
            for op in list(block.ops):
                if op.parent is None:
                    continue
                if op.name in ACCEL:
                    self._fuse_bias(op)
                if op.name in ACT_PRODUCERS and op.attr(FUSED_ACT) is None:
                    self._fuse_act(op)
            erase_dead(block)

    def _fuse_bias(self, op: Operation) -> None:
        while True:
            add = single_user(op.results[0])
            if add is None or add.name != "graph.add" or op.attr(FUSED_ACT):
                return
            other = add.operands[1] if add.operands[0] is op.results[0] else add.operands[0]
            vec = _bias_vector(op, other)
            if vec is None:
                return
            if op.name == "graph.gemm" and len(op.operands) > 2:
                old = const_value(op.operands[2])
                if old is None or float(op.attr("beta", 1.0)) != 1.0:
                    return
                old = np.broadcast_to(old.astype(np.float64).reshape(-1), vec.shape)
            elif len(op.operands) > 2:
                old = const_value(op.operands[2])
                if old is None:
                    return
                old = old.astype(np.float64)
            else:
                old = np.zeros_like(vec)
            bias = make_constant(op.parent, op, (old + vec).astype(np.float32), f32, None,
                                 op.loc)
            op.set_operands([op.operands[0], op.operands[1], bias])
            out_type = add.results[0].type
            if out_type is not op.results[0].type:
                return
            op.results[0].name_hint = add.results[0].name_hint
            replace_op(add, [op.results[0]])

    def _fuse_act(self, op: Operation) -> None:
        act = single_user(op.results[0])
        if act is None:
            return
        kind = _relu_kind(act)
        if kind is None:
            return
        op.set_attr(FUSED_ACT, kind)
        op.results[0].name_hint = act.results[0].name_hint  # the fused op now computes it
        replace_op(act, [op.results[0]])
