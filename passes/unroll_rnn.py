"""Unroll LSTM and GRU over their static sequence length into matmuls and element-wise ops.

Each direction's input projection is one Gemm over all time steps (on the accelerator);
every step adds the recurrent Gemm of the previous hidden state, slices out the gates and
applies Sigmoid/Tanh/Mul/Add (host tables and element-wise ops after quantization), so
every intermediate gets its own calibrated scale. A zero (or absent) initial state drops
the first step's recurrent terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.graph import OP_CLASSES, NoneOp
from dlac.ir.semantics import recurrent
from dlac.ir.semantics.graph import rnn_attrs
from dlac.ir.types import TensorType, f32, i64
from dlac.passes.graph_utils import const_value, erase_dead, functions, make_constant, replace_op
from dlac.passes.pass_base import ModulePass, PassError


class _Builder:
    """Emits float `graph` ops before `anchor`, each with the anchor's location; equal
    constants (slice bounds, shapes) are emitted once."""

    def __init__(self, anchor: Operation) -> None:
        self.anchor = anchor
        self.block = anchor.parent
        self.consts: dict[tuple, Value] = {}

    def const(self, array: np.ndarray) -> Value:
        elem = i64 if array.dtype.kind == "i" else f32
        arr = np.ascontiguousarray(array, np.int64 if elem is i64 else np.float32)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self.consts:
            self.consts[key] = make_constant(self.block, self.anchor, arr, elem, None,
                                             self.anchor.loc)
        return self.consts[key]

    def op(self, onnx_type: str, operands: list[Value], shape: list[int] | tuple[int, ...],
           **attrs: object) -> Value:
        new = OP_CLASSES[onnx_type](operands, [TensorType(list(shape), f32)], attrs,
                                    loc=self.anchor.loc)
        self.block.insert_before(self.anchor, new)
        return new.results[0]

    def rows(self, x: Value, start: int, stop: int, axis: int = 0) -> Value:
        shape = list(x.type.shape)
        shape[axis] = stop - start
        return self.op("Slice", [x, self.const(np.array([start])), self.const(np.array([stop])),
                                 self.const(np.array([axis]))], shape)

    def reshape(self, x: Value, shape: list[int]) -> Value:
        return self.op("Reshape", [x, self.const(np.array(shape))], shape)

    def gemm(self, x: Value, w: np.ndarray, bias: np.ndarray | None) -> Value:
        """x [M, K] @ w.T for a constant w [N, K], plus a constant bias [N]."""
        operands = [x, self.const(w)] + ([self.const(bias)] if bias is not None else [])
        return self.op("Gemm", operands, [x.type.shape[0], w.shape[0]], transB=1)

    def binary(self, onnx_type: str, a: Value, b: Value) -> Value:
        return self.op(onnx_type, [a, b], a.type.shape)

    def unary(self, onnx_type: str, a: Value) -> Value:
        return self.op(onnx_type, [a], a.type.shape)


def _present(op: Operation, index: int) -> Value | None:
    if len(op.operands) <= index or isinstance(getattr(op.operands[index], "op", None), NoneOp):
        return None
    return op.operands[index]


def _constant(op: Operation, index: int, what: str) -> np.ndarray | None:
    value = _present(op, index)
    if value is None:
        return None
    arr = const_value(value)
    if arr is None:
        raise PassError(f"{op.loc.prefix()}: {op.name} needs constant {what}")
    return np.asarray(arr, np.float64)


class _Rnn:
    """One LSTM/GRU node: its weights, states and the unrolled steps."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.kind = op.name.split(".", 1)[1]
        self.gates = 4 if self.kind == "lstm" else 3
        self.batch_first = int(op.attr("layout", 0)) == 1
        self.b = _Builder(op)
        x = op.operands[0]
        t_len = x.type.shape[1 if self.batch_first else 0]
        why = recurrent.unsupported(self.kind, rnn_attrs(op), _constant(op, 4, "sequence_lens"),
                                    _constant(op, 7, "peepholes") if self.kind == "lstm"
                                    else None, t_len)
        if why is not None:
            raise PassError(f"{op.loc.prefix()}: {op.name} with {why} is not supported")
        self.w = _constant(op, 1, "weights W")
        self.r = _constant(op, 2, "weights R")
        if self.w is None or self.r is None:
            raise PassError(f"{op.loc.prefix()}: {op.name} needs W and R")
        self.hidden = self.r.shape[-1]
        bias = _constant(op, 3, "bias B")
        self.bias = np.zeros((self.w.shape[0], 2 * self.gates * self.hidden)) \
            if bias is None else bias
        self.backwards = recurrent.directions(str(op.attr("direction", "forward")))
        if self.batch_first:
            x = self.b.op("Transpose", [x], [t_len, x.type.shape[0], x.type.shape[2]],
                          perm=[1, 0, 2])
        self.t_len, self.batch, self.inputs = x.type.shape
        self.x2d = self.b.reshape(x, [self.t_len * self.batch, self.inputs])

    def state(self, index: int, d: int) -> Value | None:
        """Direction d's initial state [B, H], or None when it is absent or zero."""
        value = _present(self.op, index)
        if value is None:
            return None
        arr = const_value(value)
        if arr is not None and not np.any(arr):
            return None
        axis = 1 if self.batch_first else 0
        if arr is not None:
            return self.b.const(np.take(arr, d, axis=axis))
        return self.b.reshape(self.b.rows(value, d, d + 1, axis), [self.batch, self.hidden])

    def run(self) -> None:
        finals: list[list[Value]] = []
        seqs = []
        for d, backwards in enumerate(self.backwards):
            steps, last = (self._lstm(d, backwards) if self.kind == "lstm"
                           else self._gru(d, backwards))
            seqs.append(self._sequence(steps))
            finals.append(last)
        b, t, n, h = self.b, self.t_len, len(self.backwards), self.hidden
        y = seqs[0] if n == 1 else b.op("Concat", seqs, [t, n, self.batch, h], axis=1)
        outs = [y] + [self._stack([s[k] for s in finals]) for k in range(len(finals[0]))]
        if self.batch_first:
            outs = [b.op("Transpose", [outs[0]], [self.batch, t, n, h], perm=[2, 0, 1, 3])] + [
                b.op("Transpose", [v], [self.batch, n, h], perm=[1, 0, 2]) for v in outs[1:]]
        replace_op(self.op, outs[:len(self.op.results)])

    def _sequence(self, steps: list[Value]) -> Value:
        """Hidden states in time order, [B, H] each -> [T, 1, B, H]."""
        flat = self.b.op("Concat", steps, [self.t_len * self.batch, self.hidden], axis=0)
        return self.b.reshape(flat, [self.t_len, 1, self.batch, self.hidden])

    def _stack(self, finals: list[Value]) -> Value:
        """Final states of every direction, [B, H] each -> [D, B, H]."""
        parts = [self.b.reshape(v, [1, self.batch, self.hidden]) for v in finals]
        if len(parts) == 1:
            return parts[0]
        return self.b.op("Concat", parts, [len(parts), self.batch, self.hidden], axis=0)

    def _order(self, backwards: bool) -> list[int]:
        return list(range(self.t_len - 1, -1, -1)) if backwards else list(range(self.t_len))

    def _split(self, x: Value, parts: int) -> list[Value]:
        return [self.b.rows(x, k * self.hidden, (k + 1) * self.hidden, axis=1)
                for k in range(parts)]

    def _lstm(self, d: int, backwards: bool) -> tuple[list[Value], list[Value]]:
        b, hid = self.b, 4 * self.hidden
        proj = b.gemm(self.x2d, self.w[d], self.bias[d, :hid] + self.bias[d, hid:])
        h, c = self.state(5, d), self.state(6, d)
        steps: dict[int, Value] = {}
        for t in self._order(backwards):
            gates = b.rows(proj, t * self.batch, (t + 1) * self.batch)
            if h is not None:
                gates = b.binary("Add", gates, b.gemm(h, self.r[d], None))
            i, o, f, g = self._split(gates, 4)
            new = b.binary("Mul", b.unary("Sigmoid", i), b.unary("Tanh", g))
            if c is not None:
                new = b.binary("Add", b.binary("Mul", b.unary("Sigmoid", f), c), new)
            c = new
            h = b.binary("Mul", b.unary("Sigmoid", o), b.unary("Tanh", c))
            steps[t] = h
        return [steps[t] for t in range(self.t_len)], [h, c]

    def _gru(self, d: int, backwards: bool) -> tuple[list[Value], list[Value]]:
        b, hid = self.b, self.hidden
        lbr = bool(self.op.attr("linear_before_reset", 0))
        wb, rb = self.bias[d, :3 * hid], self.bias[d, 3 * hid:]
        # z, r take both biases in the projection; h takes Rbh there unless it is reset
        proj_bias = wb + np.concatenate([rb[:2 * hid], np.zeros(hid) if lbr else rb[2 * hid:]])
        proj = b.gemm(self.x2d, self.w[d], proj_bias)
        r_zr, r_h = self.r[d, :2 * hid], self.r[d, 2 * hid:]
        h = self.state(5, d)
        steps: dict[int, Value] = {}
        for t in self._order(backwards):
            x_t = b.rows(proj, t * self.batch, (t + 1) * self.batch)
            xz, xr, xh = self._split(x_t, 3)
            if h is not None:
                hz, hr = self._split(b.gemm(h, r_zr, None), 2)
                xz, xr = b.binary("Add", xz, hz), b.binary("Add", xr, hr)
            z, reset = b.unary("Sigmoid", xz), b.unary("Sigmoid", xr)
            if lbr:
                rec = b.gemm(h, r_h, rb[2 * hid:]) if h is not None else \
                    b.const(np.broadcast_to(rb[2 * hid:], (self.batch, hid)))
                xh = b.binary("Add", xh, b.binary("Mul", reset, rec))
            elif h is not None:
                xh = b.binary("Add", xh, b.gemm(b.binary("Mul", reset, h), r_h, None))
            n = b.unary("Tanh", xh)
            # h = (1 - z) * n + z * h = n + z * (h - n); with h = 0, n - z * n
            if h is None:
                h = b.binary("Sub", n, b.binary("Mul", z, n))
            else:
                h = b.binary("Add", n, b.binary("Mul", z, b.binary("Sub", h, n)))
            steps[t] = h
        return [steps[t] for t in range(self.t_len)], [h]


@dataclass(frozen=True)
class UnrollRnn(ModulePass):
    """Replace every LSTM/GRU (constant weights) by its steps over the sequence.

    Before:
        %y = graph.lstm %x, %w, %r, %b {direction = "forward", hidden_size = 4}
            : (tensor<3x1x2xf32>, ...) -> tensor<3x1x1x4xf32>
    After (per step t, zero initial state):
        %p = graph.gemm %x2d, %w, %bias {transB = 1}   (all steps at once)
        %g = graph.add (graph.slice %p rows t), (graph.gemm %h_prev, %r {transB = 1})
        %c = graph.add (graph.mul (sigmoid f), %c_prev), (graph.mul (sigmoid i), (tanh g))
        %h = graph.mul (sigmoid o), (tanh %c)
        %y = graph.reshape (graph.concat %h0, %h1, %h2)
    """

    name = "unroll-rnn"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            block = func.body.block
            for op in [op for op in block.ops if op.name in ("graph.lstm", "graph.gru")]:
                _Rnn(op).run()
            erase_dead(block)
