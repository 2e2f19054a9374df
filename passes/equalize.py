"""Cross-layer equalisation: rescale the channels between two convs so that one int8
scale per tensor fits all of them.

With BatchNorm folded in, the output channels of a conv (and so the activations between
it and the next conv) can differ in range by orders of magnitude; per-tensor weights and
activations then round the small channels away. When conv1 feeds only conv2 through a
positively homogeneous activation (none or ReLU: relu(x / s) = relu(x) / s for s > 0),
dividing conv1's output channel k (weights and bias) by s_k and multiplying conv2's input
channel k by s_k leaves the function unchanged. The same holds through per-channel
max pooling and ReLU ops in between, and for several consumers at once (every conv the
channels reach gets the factor, as ShuffleNet's pooled stem feeding two branches): r2_k is
then the largest over the consumers. s_k = sqrt(r1_k / r2_k), r1_k and r2_k
being the largest |weight| of channel k in conv1 and conv2, makes both ranges
sqrt(r1_k * r2_k): the data-free equalisation of Nagel et al. (ICCV 2019), applied over
the chain of such pairs a few times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.core import Operation
from dlac.ir.dialects.graph import NoneOp
from dlac.ir.types import f32
from dlac.passes.graph_utils import const_value, erase_dead, functions, make_constant
from dlac.passes.pass_base import ModulePass

HOMOGENEOUS = (None, "none", "relu")
PASS_THROUGH = ("graph.max_pool", "graph.global_max_pool", "graph.relu")  # commute with s > 0
ROUNDS = 4
SCALE_LIMIT = 1e3  # s_k is clipped to [1 / limit, limit]


@dataclass(frozen=True)
class Equalize(ModulePass):
    """Equalise channel ranges of conv pairs joined by no activation or a ReLU.

    Before (the convs may also be joined through max pools and ReLUs, and conv1 may feed
    several convs):
        %a = graph.conv %x, %w1, %b1 {fused_act = "relu"}
        %y = graph.conv %a, %w2, %b2 {group = 32}
    After (same function):
        %a = graph.conv %x, %w1s, %b1s {fused_act = "relu"}   (channel k divided by s_k)
        %y = graph.conv %a, %w2s, %b2 {group = 32}            (input channel k times s_k)
    """

    name = "equalize"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            block = func.body.block
            pairs = [p for p in (_pair(op) for op in block.ops if op.name == "graph.conv")
                     if p is not None]
            for _ in range(ROUNDS):
                for first, seconds in pairs:
                    _equalize(first, seconds)
            erase_dead(block)


def _pair(first: Operation) -> tuple[Operation, list[Operation]] | None:
    """(first, convs) if `first`'s output reaches only the input of `convs`, through max
    pools and ReLUs, after an allowed activation, and all have constant weights the model
    did not quantize itself."""
    if first.attr("fused_act") not in HOMOGENEOUS or not _free_weights(first):
        return None
    seconds: list[Operation] = []
    frontier = [first.results[0]]
    while frontier:
        for user, index in frontier.pop().uses:
            if index != 0:
                return None
            if user.name in PASS_THROUGH:
                frontier.append(user.results[0])
            elif user.name == "graph.conv" and _free_weights(user):
                seconds.append(user)
            else:
                return None
    return (first, seconds) if seconds else None


def _free_weights(conv: Operation) -> bool:
    """Constant weights (and bias) that the model did not quantize itself."""
    w = conv.operands[1]
    if const_value(w) is None or w.op.attr("quant_scale") is not None or \
            any(u.attr("quant_scale") is not None for u, _ in w.uses):
        return False
    return not (len(conv.operands) > 2 and not isinstance(conv.operands[2].op, NoneOp)
                and const_value(conv.operands[2]) is None)


def _input_ranges(second: Operation, k: int) -> np.ndarray | None:
    """Largest |weight| per input channel of `second` (k channels), or None if its
    weights do not take k channels."""
    w2 = np.asarray(const_value(second.operands[1]), np.float64)
    groups = int(second.attr("group", 1))
    if w2.shape[1] * groups != k:
        return None
    per_group = w2.reshape(groups, w2.shape[0] // groups, w2.shape[1], *w2.shape[2:])
    return np.abs(per_group).max(axis=(1, *range(3, per_group.ndim))).reshape(k)


def _equalize(first: Operation, seconds: list[Operation]) -> None:
    w1 = np.asarray(const_value(first.operands[1]), np.float64)
    k = w1.shape[0]
    ranges = [_input_ranges(second, k) for second in seconds]
    if any(r is None for r in ranges):
        return
    r1 = np.abs(w1).reshape(k, -1).max(axis=1)
    r2 = np.max(np.stack(ranges), axis=0)
    ok = (r1 > 0) & (r2 > 0)
    s = np.ones(k)
    s[ok] = np.clip(np.sqrt(r1[ok] / r2[ok]), 1 / SCALE_LIMIT, SCALE_LIMIT)
    bias = None
    if len(first.operands) > 2 and not isinstance(first.operands[2].op, NoneOp):
        bias = np.asarray(const_value(first.operands[2]), np.float64).reshape(-1)
        bias = np.broadcast_to(bias, (k,)) if bias.size in (1, k) else None
        if bias is None:
            return
    if np.allclose(s, 1.0, rtol=1e-3):
        return
    _set(first, 1, w1 / s.reshape((k,) + (1,) * (w1.ndim - 1)))
    if bias is not None:
        _set(first, 2, bias / s)
    for second in seconds:
        w2 = np.asarray(const_value(second.operands[1]), np.float64)
        groups = int(second.attr("group", 1))
        per_group = w2.reshape(groups, w2.shape[0] // groups, w2.shape[1], *w2.shape[2:])
        shape2 = (groups, 1, w2.shape[1]) + (1,) * (w2.ndim - 2)
        _set(second, 1, (per_group * s.reshape(shape2)).reshape(w2.shape))


def _set(op: Operation, index: int, array: np.ndarray) -> None:
    old = op.operands[index]
    new = make_constant(op.parent, op, array.astype(np.float32), f32, old.name_hint, op.loc)
    operands = list(op.operands)
    operands[index] = new
    op.set_operands(operands)
