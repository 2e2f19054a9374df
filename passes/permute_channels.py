"""Reorder a conv's output channels by weight range, so `--weight-splits` runs group alike
channels without any regrouping at run time.

`k_splits` gives each run of *consecutive* output channels its own weight scale; channels
with similar ranges are rarely consecutive. Permuting the channels of the tensors between
convs leaves the function unchanged when every producer and consumer of those tensors
takes the permutation at compile time: the producing dense convs' output rows (and biases)
and the depthwise convs' channels are permuted, the consuming dense convs' input channels
permuted back, and channel-wise ops between them (activations, pools, element-wise ops
with per-channel constants, squeeze-excite muls) carry it through. Starting from a dense
conv, the pass collects that closed region of tensors; if any use or producer in it is
something else (a reshape, a concat, a graph output, ...) it changes nothing there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.graph import NoneOp
from dlac.ir.types import f32
from dlac.passes.channel_groups import contiguous_splits
from dlac.passes.graph_utils import const_value, erase_dead, functions, make_constant
from dlac.passes.pass_base import ModulePass

UNARY = frozenset("graph." + k for k in (
    "relu", "clip", "sigmoid", "hard_sigmoid", "hard_swish", "tanh", "gelu", "leaky_relu",
    "erf", "exp", "sqrt", "neg", "abs", "softplus", "mish", "elu", "selu", "celu",
    "identity", "dropout", "global_average_pool", "average_pool", "max_pool",
    "global_max_pool"))
BINARY = frozenset(("graph.add", "graph.sub", "graph.mul", "graph.div"))


@dataclass(frozen=True)
class PermuteChannels(ModulePass):
    """Sort dense convs' output channels by weight range where the whole region of
    tensors they feed can take the permutation (same function).

    Before:
        %a = graph.conv %x, %w1 {fused_act = "relu"}    (channels 0..K-1)
        %y = graph.conv %a, %w2
    After:
        %a = graph.conv %x, %w1p {fused_act = "relu"}   (rows of w1 in range order P)
        %y = graph.conv %a, %w2p                        (input channels of w2 in order P)
    """

    name = "permute-channels"
    max_splits: int = 4

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            claimed: set[int] = set()
            for op in list(func.body.block.ops):
                if _dense(op) and id(op.results[0]) not in claimed:
                    order = self._order(op)
                    if order is not None:
                        region = _region(op.results[0], claimed)
                        if region is not None:
                            _permute(region, order)
            erase_dead(func.body.block)

    def _order(self, conv: Operation) -> np.ndarray | None:
        """The range-sorting permutation when it lets the splits cut noise further."""
        w = np.asarray(const_value(conv.operands[1]), np.float64)
        order = np.argsort(np.abs(w).reshape(w.shape[0], -1).max(axis=1), kind="stable")
        if np.array_equal(order, np.arange(order.size)):
            return None
        sorted_w = w[order]
        if len(contiguous_splits(sorted_w, self.max_splits)) <= 2:
            return None
        return order


@dataclass
class _Region:
    values: dict[int, Value]
    sources: list[Operation]    # dense convs whose output rows are permuted
    depthwise: list[Operation]  # depthwise convs permuted in and out
    absorbers: list[Operation]  # dense convs whose input channels undo it
    constants: list[tuple[Operation, int]]  # per-channel constant operands


def _dense(op: Operation) -> bool:
    """A 2-D conv with constant weights (and bias) of one group, not pre-quantized."""
    if op.name != "graph.conv" or int(op.attr("group", 1)) != 1 or \
            op.results[0].type.rank != 4:
        return False
    return _constant_weights(op)


def _constant_weights(op: Operation) -> bool:
    w = op.operands[1]
    if const_value(w) is None or w.op.attr("quant_scale") is not None or \
            any(u.attr("quant_scale") is not None for u, _ in w.uses):
        return False
    return len(op.operands) < 3 or isinstance(op.operands[2].op, NoneOp) or \
        const_value(op.operands[2]) is not None


def _depthwise(op: Operation) -> bool:
    if op.name != "graph.conv" or op.results[0].type.rank != 4:
        return False
    k = op.results[0].type.shape[1]
    return int(op.attr("group", 1)) == k > 1 and op.operands[0].type.shape[1] == k and \
        _constant_weights(op)


def _region(start: Value, claimed: set[int]) -> _Region | None:
    """The closed set of tensors that must carry `start`'s channel order, or None."""
    k = start.type.shape[1]
    region = _Region({}, [], [], [], [])
    seen_ops: set[int] = set()
    work = [start]
    while work:
        v = work.pop()
        if id(v) in region.values:
            continue
        if id(v) in claimed or v.type.rank != 4 or v.type.shape[1] != k:
            return None
        region.values[id(v)] = v
        if not _producer(v, region, work, seen_ops):
            return None
        for user, index in v.uses:
            if not _consumer(user, index, k, region, work, seen_ops):
                return None
    claimed.update(region.values)
    return region


def _producer(v: Value, region: _Region, work: list[Value], seen: set[int]) -> bool:
    op = getattr(v, "op", None)
    if op is None or id(op) in seen:
        return op is not None
    seen.add(id(op))
    if _dense(op):
        region.sources.append(op)
        return True
    if _depthwise(op):
        region.depthwise.append(op)
        work.append(op.operands[0])
        return True
    if op.name in UNARY and _scalars(op.operands[1:]):
        work.append(op.operands[0])
        return True
    if op.name in BINARY:
        return _binary(op, v.type.shape[1], region, work)
    return False


def _consumer(user: Operation, index: int, k: int, region: _Region, work: list[Value],
              seen: set[int]) -> bool:
    if user.name == "graph.conv" and index == 0 and _dense(user):
        if all(user is not op for op in region.absorbers):
            region.absorbers.append(user)
        return True
    if _depthwise(user) and index == 0 or user.name in UNARY and index == 0 and \
            _scalars(user.operands[1:]) or user.name in BINARY:
        work.append(user.results[0])  # its producer check records the op
        return True
    return False


def _binary(op: Operation, k: int, region: _Region, work: list[Value]) -> bool:
    if op.results[0].type.rank != 4:
        return False
    for index, operand in enumerate(op.operands):
        arr = const_value(operand)
        if arr is None:
            if operand.type.rank != 4 or operand.type.shape[1] != k:
                return False
            work.append(operand)
        elif arr.ndim >= 3 and arr.shape[arr.ndim - 3] == k:
            region.constants.append((op, index))
        elif arr.ndim >= 3 and arr.shape[arr.ndim - 3] != 1:
            return False
    return True


def _scalars(values: tuple[Value, ...] | list[Value]) -> bool:
    return all(isinstance(getattr(v, "op", None), NoneOp) or
               (const_value(v) is not None and np.size(const_value(v)) == 1) for v in values)


def _permute(region: _Region, order: np.ndarray) -> None:
    for op in region.sources + region.depthwise:
        _set(op, 1, np.asarray(const_value(op.operands[1]))[order])
        if len(op.operands) > 2 and not isinstance(op.operands[2].op, NoneOp):
            bias = np.asarray(const_value(op.operands[2]))
            if bias.size == order.size:
                _set(op, 2, bias.reshape(-1)[order])
    for op in region.absorbers:
        _set(op, 1, np.asarray(const_value(op.operands[1]))[:, order])
    for op, index in region.constants:
        arr = np.asarray(const_value(op.operands[index]))
        _set(op, index, np.take(arr, order, axis=arr.ndim - 3))


def _set(op: Operation, index: int, array: np.ndarray) -> None:
    old = op.operands[index]
    new = make_constant(op.parent, op, np.ascontiguousarray(array).astype(np.float32), f32,
                        old.name_hint, op.loc)
    operands = list(op.operands)
    operands[index] = new
    op.set_operands(operands)
