"""Bit-exact numpy execution of quantized IR: the oracle emitted code must match.

Only integer arithmetic and single IEEE float32 operations are used, each written so the
same sequence is trivial to reproduce in C:

- ACC_SCALE(acc, m): float32(acc) * float32(m) (one float32 multiply), round half to
  even, saturate to [-128, 127]; then ReLU if requested.
- Accumulators are int32 and wrap on overflow, as Gemmini's do.
- Integer division that rounds (`div_round`) rounds half away from zero:
  sign(a) * ((|a| + b // 2) // b) for b > 0.

Data-movement `graph` ops (reshape, transpose, concat, slice, ...) run on int8 arrays with
their ONNX semantics from `dlac.ir.semantics.graph`, which is exact for them. The
integer arithmetic they share with the simulator and the emitted C is in `arith`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from dlac.ir.core import Operation
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.semantics import graph as evaluate
from dlac.ir.semantics.arith import (
    acc_scale,
    div_round,
    int_matmul,
    isqrt,
    mvin_scale,
    qdiv,
    wrap_int32,
)
from dlac.ir.semantics.errors import SemanticsError

Arr = np.ndarray
QIMPLS: dict[str, Callable[[Operation, list[Any]], Arr | tuple[Arr, ...]]] = {}

# graph ops that only move data: exact on int8 with their float implementation
DATA_MOVEMENT = frozenset(f"graph.{n}" for n in (
    "reshape", "flatten", "transpose", "concat", "split", "slice", "squeeze", "unsqueeze",
    "identity", "dropout", "gather", "shape", "expand", "pad", "constant_of_shape", "cast",
    "tile", "depth_to_space", "space_to_depth", "gather_elements", "where"))


def qimpl(name: str) -> Callable:
    def deco(fn: Callable[[Operation, list[Any]], Arr]) -> Callable:
        QIMPLS[f"qgraph.{name}"] = fn
        return fn
    return deco


# -- execution -------------------------------------------------------------------------
def run_reference(func: FuncOp | Operation, inputs: list[Arr],
                  keep: Callable[[Any, Arr], None] | None = None) -> list[Arr]:
    """Execute a quantized function (or the `main` of a module) on numpy inputs."""
    if not isinstance(func, FuncOp):
        found = [op for op in func.regions[0].ops if isinstance(op, FuncOp)]
        if not found:
            raise SemanticsError("module has no function to run")
        func = found[0]
    env: dict[int, Any] = {id(a): x for a, x in zip(func.args, inputs, strict=False)}
    for op in func.body.block.ops:
        if isinstance(op, ReturnOp):
            return [env[id(v)] for v in op.operands]
        args = [env[id(v)] for v in op.operands]
        fn = QIMPLS.get(op.name)
        if fn is not None:
            found = fn(op, args)
            outs = list(found) if isinstance(found, tuple) else [found]
        elif op.name in ("graph.constant", "graph.none") or op.name in DATA_MOVEMENT:
            outs = evaluate.run_op(op, args)
        else:
            raise SemanticsError(f"{op.loc.prefix()}: '{op.name}' is not quantized; the "
                                f"reference runs only quantized IR")
        for res, out in zip(op.results, outs, strict=False):
            env[id(res)] = out
            if keep is not None:
                keep(res, out)
    raise SemanticsError("function has no return")


def _ints(op: Operation, key: str) -> list[int]:
    return [int(v) for v in op.attr(key)]


@qimpl("quantize")
def _quantize(op: Operation, a: list[Any]) -> Arr:
    return mvin_scale(a[0].astype(np.float32), op.attr("multiplier"))


@qimpl("dequantize")
def _dequantize(op: Operation, a: list[Any]) -> Arr:
    return a[0].astype(np.float32) * np.float32(op.attr("scale"))


@qimpl("conv")
def _conv(op: Operation, a: list[Any]) -> Arr:
    x, w_hwio = a[0], a[1]
    w = np.ascontiguousarray(w_hwio.transpose(3, 2, 0, 1))  # OIHW for the helper
    idil = op.attr("input_dilation")
    if idil is not None and tuple(idil) != (1, 1):
        n, c, h, wd = x.shape
        xd = np.zeros((n, c, (h - 1) * idil[0] + 1, (wd - 1) * idil[1] + 1), x.dtype)
        xd[:, :, ::idil[0], ::idil[1]] = x
        x = xd
    pads = _ints(op, "pads")
    if min(pads) < 0:  # a ConvTranspose padded wider than its kernel crops its input
        c = [max(0, -p) for p in pads]
        x = x[:, :, c[0]:x.shape[2] - c[2], c[1]:x.shape[3] - c[3]]
        pads = [max(0, p) for p in pads]
    acc = evaluate.conv2d(x, w, None, _ints(op, "strides"), pads,
                          _ints(op, "dilations"), int(op.attr("group")), np.float64)
    acc = acc.astype(np.int64)
    if len(a) > 2:
        acc = acc + a[2].astype(np.int64).reshape(1, -1, 1, 1)
    return acc_scale(wrap_int32(acc), conv_multipliers(op), op.attr("act"))


def conv_multipliers(op: Operation) -> Any:
    """The conv's multiplier, or per output channel [1, K, 1, 1] when it runs as k_splits
    calls with their own scales."""
    splits = op.attr("k_splits")
    if splits is None:
        return op.attr("multiplier")
    runs = np.diff(np.asarray(splits, np.int64))
    return np.repeat(np.asarray(op.attr("split_multipliers"), np.float32), runs
                     ).reshape(1, -1, 1, 1)


@qimpl("zero_insert")
def _zero_insert(op: Operation, a: list[Any]) -> Arr:
    x = a[0]
    fh, fw = _ints(op, "factors")
    n, c, h, w = x.shape
    out = np.zeros((n, c, (h - 1) * fh + 1, (w - 1) * fw + 1), x.dtype)
    out[:, :, ::fh, ::fw] = x
    return out


@qimpl("matmul")
def _matmul(op: Operation, a: list[Any]) -> Arr:
    acc = int_matmul(a[0], a[1])
    if len(a) > 2:
        acc = acc + a[2].astype(np.int64)
    if op.results[0].type.element.width == 32:  # the accumulator itself (full_C)
        return wrap_int32(acc)
    return acc_scale(wrap_int32(acc), op.attr("multiplier"), op.attr("act"))


@qimpl("add")
def _add(op: Operation, a: list[Any]) -> Arr:
    """Every saturation at the result's width (int16 for a host-only widened tensor)."""
    bits = op.results[0].type.element.width
    lhs = mvin_scale(a[0], op.attr("a_scale"), bits).astype(np.int32)
    rhs = mvin_scale(a[1], op.attr("b_scale"), bits).astype(np.int32)
    return acc_scale(lhs + rhs, op.attr("c_scale"), op.attr("act"), bits)


@qimpl("mul")
def _mul(op: Operation, a: list[Any]) -> Arr:
    product = a[0].astype(np.int32) * a[1].astype(np.int32)
    residual = op.attr("residual_multiplier")
    if residual is None:
        return acc_scale(product, op.attr("multiplier"))
    t = product.astype(np.float32) * np.float32(op.attr("multiplier"))
    hi = np.clip(np.rint(t), -128, 127).astype(np.float32)
    return np.clip(np.rint((t - hi) * np.float32(residual)), -128, 127).astype(np.int8)


@qimpl("div")
def _div(op: Operation, a: list[Any]) -> Arr:
    return qdiv(a[0], a[1], op.attr("multiplier"))


@qimpl("requant")
def _requant(op: Operation, a: list[Any]) -> Arr:
    return mvin_scale(a[0], op.attr("multiplier"))


@qimpl("lut")
def _lut(op: Operation, a: list[Any]) -> Arr:
    return op.attr("table")[a[0].astype(np.int16) + 128]


@qimpl("max_pool")
def _max_pool(op: Operation, a: list[Any]) -> Arr:
    win, _ = evaluate.pool_windows(a[0], _ints(op, "kernel"), _ints(op, "strides"),
                                   _ints(op, "pads"), _ints(op, "dilations"),
                                   bool(op.attr("ceil_mode")), -128)
    return win.max(axis=(4, 5)).astype(np.int8)


def _count_scaled(acc: Arr, count: Arr | int, multiplier: float) -> Arr:
    """ACC_SCALE with per-element float32(multiplier / float32(count))."""
    per = np.float32(multiplier) / np.asarray(count).astype(np.float32)
    y = acc.astype(np.float32) * per.astype(np.float32)
    return np.clip(np.rint(y), -128, 127).astype(np.int8)


@qimpl("avg_pool")
def _avg_pool(op: Operation, a: list[Any]) -> Arr:
    kernel = _ints(op, "kernel")
    win, mask = evaluate.pool_windows(a[0].astype(np.int32), kernel, _ints(op, "strides"),
                                      _ints(op, "pads"), [1, 1], bool(op.attr("ceil_mode")),
                                      0)
    acc = win.sum(axis=(4, 5), dtype=np.int64).astype(np.int32)
    count = kernel[0] * kernel[1] if op.attr("count_include_pad") else mask.sum(axis=(2, 3))
    return _count_scaled(acc, count, op.attr("multiplier"))


@qimpl("reduce_mean")
def _reduce_mean(op: Operation, a: list[Any]) -> Arr:
    x = a[0]
    axes = tuple(int(i) % x.ndim for i in op.attr("axes"))
    acc = x.astype(np.int64).sum(axis=axes, keepdims=bool(op.attr("keepdims")))
    count = int(np.prod([x.shape[i] for i in axes]))
    return _count_scaled(acc.astype(np.int32), count, op.attr("multiplier"))


@qimpl("reduce")
def _reduce(op: Operation, a: list[Any]) -> Arr:
    x = a[0].astype(np.int64)
    axes = tuple(int(i) % x.ndim for i in op.attr("axes"))
    keep = bool(op.attr("keepdims"))
    kind = op.attr("reduction")
    if kind in ("max", "min"):
        return (x.max if kind == "max" else x.min)(axis=axes, keepdims=keep).astype(np.int8)
    if kind == "prod":
        return _reduce_prod(a[0], axes, keep, op.attr("in_scale"), op.attr("multiplier"))
    term = {"sum": x, "l1": np.abs(x)}.get(kind, x * x)
    acc = term.sum(axis=axes, keepdims=keep)
    if kind == "l2":
        acc = np.sqrt(acc.astype(np.float32))
    return acc_scale(acc, op.attr("multiplier"))


@qimpl("softmax")
def _softmax(op: Operation, a: list[Any]) -> Arr:
    x = a[0].astype(np.int64)
    axis = int(op.attr("axis")) % x.ndim
    table = op.attr("exp_table").astype(np.int64)
    e = table[x - x.max(axis=axis, keepdims=True) + 255]
    s = e.sum(axis=axis, keepdims=True)
    return ((254 * e + s) // (2 * s)).astype(np.int8)


@qimpl("layer_norm")
def _layer_norm(op: Operation, a: list[Any]) -> Arr:
    x = a[0].astype(np.int64)
    h = x.shape[-1]
    c = h * x - x.sum(axis=-1, keepdims=True)
    s = (c * c).sum(axis=-1, keepdims=True) + int(op.attr("eps_term"))
    r = isqrt(s << (2 * int(op.attr("sqrt_frac_bits"))))
    r = np.maximum(r, 1)
    z = div_round(c * int(op.attr("k")), r)
    acc = z * a[1].astype(np.int64) + a[2].astype(np.int64)
    return acc_scale(acc, op.attr("multiplier"))


@qimpl("resize")
def _resize(op: Operation, a: list[Any]) -> Arr:
    x = a[0]
    for axis, idx in enumerate(op.attr("indices")):
        if len(idx) != x.shape[axis] or list(idx) != list(range(x.shape[axis])):
            x = np.take(x, np.asarray(idx, np.int64), axis=axis)
    return x


@qimpl("lrn")
def _lrn(op: Operation, a: list[Any]) -> Arr:
    x = a[0].astype(np.int32)
    size = int(op.attr("size"))
    sq = np.pad(x * x, ((0, 0), ((size - 1) // 2, size // 2), (0, 0), (0, 0)))
    acc = np.zeros_like(x)
    for i in range(size):
        acc += sq[:, i:i + x.shape[1]]
    factor = op.attr("factor_table").astype(np.int64)[acc >> int(op.attr("shift"))]
    return acc_scale(x.astype(np.int64) * factor, op.attr("multiplier"))


@qimpl("arg_max")
def _arg_max(op: Operation, a: list[Any]) -> Arr:
    x = a[0].astype(np.int64)
    return evaluate.arg_extreme(x, int(op.attr("axis")) % x.ndim, bool(op.attr("largest")),
                                bool(op.attr("select_last_index")), bool(op.attr("keepdims")))


@qimpl("top_k")
def _top_k(op: Operation, a: list[Any]) -> tuple[Arr, Arr]:
    return evaluate.top_k(a[0], int(op.attr("k")), int(op.attr("axis")) % a[0].ndim,
                          bool(op.attr("largest")))


@qimpl("resize_linear")
def _resize_linear(op: Operation, a: list[Any]) -> Arr:
    """Separable in exact integers: the same sum as the C's loop over corners."""
    acc = a[0].astype(np.int64)
    coef = np.asarray(op.attr("coefficients"), np.int64)
    row = 0
    for axis, size in enumerate(op.results[0].type.shape):
        i0, i1, w0, w1 = coef[row:row + size].T
        row += size
        shape = [1] * acc.ndim
        shape[axis] = -1
        acc = np.take(acc, i0, axis=axis) * w0.reshape(shape) + \
            np.take(acc, i1, axis=axis) * w1.reshape(shape)
    return acc_scale(acc, op.attr("multiplier"))


@qimpl("compare")
def _compare(op: Operation, a: list[Any]) -> Arr:
    lhs = a[0].astype(np.float32) * np.float32(op.attr("a_scale"))
    rhs = a[1].astype(np.float32) * np.float32(op.attr("b_scale"))
    return evaluate.COMPARISONS[str(op.attr("predicate"))](lhs, rhs)


@qimpl("select")
def _select(op: Operation, a: list[Any]) -> Arr:
    return np.where(a[0].astype(bool), a[1], a[2]).astype(np.int8)


@qimpl("reduce_log_sum_exp")
def _reduce_log_sum_exp(op: Operation, a: list[Any]) -> Arr:
    x = a[0].astype(np.int64)
    axes = tuple(int(i) % x.ndim for i in op.attr("axes"))
    m = x.max(axis=axes, keepdims=True)
    e = op.attr("exp_table").astype(np.int64)[x - m + 255]
    s = e.sum(axis=axes, keepdims=True)
    k = np.vectorize(lambda v: int(v).bit_length(), otypes=[np.int64])(s) - 9
    log = op.attr("log_table").astype(np.int64)[(s >> k) - 256] + (k - 12) * int(op.attr("ln2_q"))
    acc = m * int(op.attr("a")) + log
    if not op.attr("keepdims"):
        acc = acc.reshape(op.results[0].type.shape)
    return acc_scale(acc, op.attr("multiplier"))


def _reduce_prod(x: Arr, axes: tuple[int, ...], keep: bool, in_scale: float,
                 multiplier: float) -> Arr:
    """float32 product of the real values, in row-major order of the reduced axes (the C
    loop's order), then MVIN_SCALE."""
    rest = [d for d in range(x.ndim) if d not in axes]
    moved = np.transpose(x, rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    p = np.ones(flat.shape[:-1], np.float32)
    for r in range(flat.shape[-1]):
        p = (p * (flat[..., r].astype(np.float32) * np.float32(in_scale))).astype(np.float32)
    if keep:
        p = p.reshape([1 if d in axes else x.shape[d] for d in range(x.ndim)])
    return mvin_scale(p, multiplier)


@qimpl("logic")
def _logic(op: Operation, a: list[Any]) -> Arr:
    return evaluate.LOGIC[str(op.attr("function"))](*[x.astype(bool) for x in a])
