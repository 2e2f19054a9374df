"""Rewrite every `qgraph.conv` into the form Gemmini's conv runs: one stride, one padding,
one dilation and a square kernel, no input dilation.

Each rewrite is exact on int8 (zero point 0, so a zero weight or a zero pixel adds
nothing), which keeps the quantized reference and the emitted C bit for bit equal:

- input dilation (a transposed conv): the zeros are inserted on the host
  (`qgraph.zero_insert`, a gather) and the conv runs at stride 1;
- negative pads (ConvTranspose padding wider than its kernel): the input is cropped;
- unequal dilations: the dilation is written into the kernel (zero taps);
- a non-square kernel: zero taps pad it square, with matching extra bottom/right padding;
- unequal pads: the input is padded explicitly by the difference;
- unequal strides: the conv runs at their gcd and a strided slice keeps every output
  the original strides produce.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.dialects import qgraph
from dlac.ir.dialects.graph import OP_CLASSES
from dlac.ir.types import TensorType, i64
from dlac.passes.graph_utils import const_value, erase_dead, functions, make_constant
from dlac.passes.pass_base import ModulePass, PassError


@dataclass(frozen=True)
class LegalizeConv(ModulePass):
    """Make every qgraph.conv Gemmini-expressible (see the module docstring).

    Before:
        %y = qgraph.conv %x, %w {strides = [2, 1], pads = [1, 0, 1, 2], ...}
    After:
        %p = graph.pad %x, %pads        (explicit [0, 0, 1, 0, 0, 0, 1, 2] - min pads)
        %c = qgraph.conv %p, %w {strides = [1, 1], pads = [0, 0, 0, 0], ...}
        %y = graph.slice %c, %starts, %ends, %axes, %steps    (steps [2, 1])
    """

    name = "legalize-conv"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            block = func.body.block
            for op in [o for o in block.ops if isinstance(o, qgraph.ConvOp)]:
                _legalize(op)
            erase_dead(block)


def _ints(op: Operation, key: str) -> list[int]:
    return [int(v) for v in op.attr(key)]


def _i64(op: Operation, values: list[int]) -> Value:
    assert op.parent is not None
    return make_constant(op.parent, op, np.array(values, np.int64), i64, None, op.loc)


def _insert(op: Operation, new: Operation) -> Value:
    assert op.parent is not None
    op.parent.insert_before(op, new)
    return new.results[0]


def _pad(op: Operation, x: Value, pads: list[int]) -> Value:
    """graph.pad of an NCHW tensor by [top, left, bottom, right]."""
    n, c, h, w = x.type.shape
    shape = [n, c, h + pads[0] + pads[2], w + pads[1] + pads[3]]
    full = [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]]
    return _insert(op, OP_CLASSES["Pad"]([x, _i64(op, full)], [TensorType(shape, x.type.element)],
                                         {"mode": "constant"}, loc=op.loc))


def _slice(op: Operation, x: Value, starts: list[int], ends: list[int], steps: list[int]
           ) -> Value:
    """graph.slice of axes 2 and 3."""
    shape = list(x.type.shape)
    for ax, (s, e, st) in enumerate(zip(starts, ends, steps, strict=True)):
        shape[2 + ax] = len(range(s, e, st))
    args = [x, _i64(op, starts), _i64(op, ends), _i64(op, [2, 3]), _i64(op, steps)]
    return _insert(op, OP_CLASSES["Slice"](args, [TensorType(shape, x.type.element)],
                                           loc=op.loc))


def _legalize(op: Operation) -> None:
    x = op.operands[0]
    strides, pads, dil = _ints(op, "strides"), _ints(op, "pads"), _ints(op, "dilations")
    idil = [int(v) for v in (op.attr("input_dilation") or [1, 1])]
    w = const_value(op.operands[1])
    r, s = (w.shape[:2]) if w is not None else (0, 0)
    if idil == [1, 1] and min(pads) >= 0 and len(set(pads)) == 1 and dil[0] == dil[1] and \
            r == s and strides[0] == strides[1]:
        return
    if w is None:
        raise PassError(f"{op.loc.prefix()}: conv weights must be constant")
    if idil != [1, 1]:
        n, c, h, wd = x.type.shape
        shape = [n, c, (h - 1) * idil[0] + 1, (wd - 1) * idil[1] + 1]
        x = _insert(op, qgraph.ZeroInsertOp([x], [TensorType(shape, x.type.element)],
                                            {"factors": idil}, loc=op.loc))
        del op.attributes["input_dilation"]
    if min(pads) < 0:
        h, wd = x.type.shape[2:]
        crop = [max(0, -p) for p in pads]
        x = _slice(op, x, crop[:2], [h - crop[2], wd - crop[3]], [1, 1])
        pads = [max(0, p) for p in pads]
    if dil[0] != dil[1] or (r != s and max(dil) > 1):
        er, es = dil[0] * (r - 1) + 1, dil[1] * (s - 1) + 1
        wide = np.zeros((er, es, *w.shape[2:]), w.dtype)
        wide[::dil[0], ::dil[1]] = w
        w, dil, (r, s) = wide, [1, 1], (er, es)
    if r != s:
        k = max(r, s)
        square = np.zeros((k, k, *w.shape[2:]), w.dtype)
        square[:r, :s] = w
        pads = [pads[0], pads[1], pads[2] + k - r, pads[3] + k - s]
        w = square
    if len(set(pads)) != 1:
        low = min(pads)
        x = _pad(op, x, [p - low for p in pads])
        pads = [low] * 4
    step = math.gcd(*strides)
    out = op.results[0].type
    h, wd = x.type.shape[2:]
    ext = (w.shape[0] - 1) * dil[0] + 1
    rows = (h + 2 * pads[0] - ext) // step + 1
    cols = (wd + 2 * pads[0] - ext) // step + 1
    if rows <= 0 or cols <= 0:
        raise PassError(f"{op.loc.prefix()}: conv kernel larger than its padded input")
    if w is not const_value(op.operands[1]):
        new_w = make_constant(op.parent, op, np.ascontiguousarray(w), op.operands[1].type.element,
                              op.operands[1].name_hint, op.loc)
    else:
        new_w = op.operands[1]
    conv_ty = TensorType([out.shape[0], out.shape[1], rows, cols], out.element)
    attrs = dict(op.attributes, strides=[step, step], pads=pads, dilations=dil)
    conv = qgraph.ConvOp([x, new_w, *op.operands[2:]], [conv_ty], attrs, loc=op.loc)
    y = _insert(op, conv)
    if [step, step] != strides:
        y = _slice(op, y, [0, 0], [rows, cols], [strides[0] // step, strides[1] // step])
    if y.type != out:
        raise PassError(f"{op.loc.prefix()}: legalized conv gives {y.type}, not {out}")
    y.name_hint = op.results[0].name_hint
    op.results[0].replace_all_uses_with(y)
    op.erase()
