"""Float numpy semantics of the `graph` dialect (ONNX semantics, fp32).

Used for constant folding, calibration and for checking the importer against
onnxruntime. It is not the bit-exact oracle: that is `dlac.ir.semantics.qgraph`, which runs
the quantized `qgraph` ops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.semantics import recurrent
from dlac.ir.semantics.errors import SemanticsError
from dlac.ir.semantics.interpolate import linear_coefficients

Arr = np.ndarray
Impl = Callable[[Operation, list[Any], int], list[Arr]]
IMPLS: dict[str, Impl] = {}


def impl(*names: str) -> Callable[[Impl], Impl]:
    def deco(fn: Impl) -> Impl:
        for n in names:
            IMPLS[f"graph.{n}"] = fn
        return fn
    return deco


def evaluate_func(func: FuncOp, inputs: list[Arr], opset: int = 17,
                  keep: Callable[[Value, Arr], None] | None = None) -> list[Arr]:
    """Run `func` on numpy inputs; `keep(value, array)` sees every intermediate result."""
    env: dict[int, Any] = {}
    for arg, x in zip(func.args, inputs, strict=False):
        env[id(arg)] = x
    for op in func.body.block.ops:
        if isinstance(op, ReturnOp):
            return [env[id(v)] for v in op.operands]
        outs = run_op(op, [env[id(v)] for v in op.operands], opset)
        for res, out in zip(op.results, outs, strict=False):
            env[id(res)] = out
            if keep is not None:
                keep(res, out)
    raise SemanticsError("function has no return")


def run_op(op: Operation, args: list[Any], opset: int = 17) -> list[Arr]:
    if op.name == "graph.constant":
        return [op.attr("value")]
    if op.name == "graph.none":
        return [None]
    fn = IMPLS.get(op.name)
    if fn is None:
        raise SemanticsError(f"{op.loc.prefix()}: no float semantics for '{op.name}'")
    outs = [np.asarray(o) for o in fn(op, args, opset)]
    act = op.attr("fused_act")
    if act is not None:
        outs[0] = np.maximum(outs[0], 0) if act == "relu" else np.clip(outs[0], 0, 6)
    return outs


def _ints(op: Operation, key: str, default: Any = None) -> Any:
    v = op.attr(key)
    return default if v is None else [int(x) for x in v]


def _operand_or_attr(op: Operation, args: list[Any], index: int, key: str) -> Any:
    if len(args) > index and args[index] is not None:
        return [int(x) for x in np.asarray(args[index]).reshape(-1)]
    return _ints(op, key)


# -- convolution and matmul ------------------------------------------------------------
def conv2d(x: Arr, w: Arr, b: Arr | None, strides: list[int], pads: list[int],
           dil: list[int], groups: int, acc_dtype: Any = np.float32) -> Arr:
    """NCHW x OIHW conv via im2col + matmul; `acc_dtype` int64 gives exact integer sums."""
    n, c, _, _ = x.shape
    k, cg, r, s = w.shape
    if r == s == 1 and not any(pads) and groups == 1:
        # pointwise conv: a plain matmul over channels, no im2col copy
        xs = x[:, :, ::strides[0], ::strides[1]]
        p, q = xs.shape[2], xs.shape[3]
        cols = xs.reshape(n, c, p * q).astype(acc_dtype, copy=False)
        out = np.matmul(w.reshape(k, c).astype(acc_dtype, copy=False), cols)
        out = out.reshape(n, k, p, q)
        if b is not None:
            out += b.astype(acc_dtype).reshape(1, -1, 1, 1)
        return out
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    er, es = dil[0] * (r - 1) + 1, dil[1] * (s - 1) + 1
    p = (xp.shape[2] - er) // strides[0] + 1
    q = (xp.shape[3] - es) // strides[1] + 1
    if p <= 0 or q <= 0:
        raise SemanticsError(f"conv kernel ({er}x{es} dilated) larger than its padded input "
                             f"({xp.shape[2]}x{xp.shape[3]})")
    # im2col as [N, C, R, S, P, Q]: each (r, s) plane is one strided copy
    cols = np.empty((n, c, r, s, p, q), dtype=acc_dtype)
    for i in range(r):
        for j in range(s):
            r0, s0 = i * dil[0], j * dil[1]
            cols[:, :, i, j] = xp[:, :, r0:r0 + strides[0] * (p - 1) + 1:strides[0],
                                  s0:s0 + strides[1] * (q - 1) + 1:strides[1]]
    kg = k // groups
    if cg == 1 and kg == 1:  # depthwise: one small dot per channel, as one einsum
        out = np.einsum("cj,ncjl->ncl", w.reshape(k, r * s).astype(acc_dtype, copy=False),
                        cols.reshape(n, c, r * s, p * q))
        out = out.reshape(n, k, p, q)
        if b is not None:
            out += b.astype(acc_dtype).reshape(1, -1, 1, 1)
        return out
    out = np.empty((n, k, p * q), dtype=acc_dtype)
    for g in range(groups):
        gcols = cols[:, g * cg:(g + 1) * cg].reshape(n, cg * r * s, p * q)
        wg = w[g * kg:(g + 1) * kg].reshape(kg, -1).astype(acc_dtype, copy=False)
        out[:, g * kg:(g + 1) * kg] = np.matmul(wg, gcols)
    out = out.reshape(n, k, p, q)
    if b is not None:
        out += b.astype(acc_dtype).reshape(1, -1, 1, 1)
    return out


def conv_transpose2d(x: Arr, w: Arr, b: Arr | None, strides: list[int], pads: list[int],
                     dil: list[int], groups: int, out_pad: list[int],
                     acc_dtype: Any = np.float32) -> Arr:
    """ConvTranspose as a conv over the stride-dilated input with the flipped kernel."""
    n, c, h, wd = x.shape
    _, kg, r, s = w.shape
    xd = np.zeros((n, c, (h - 1) * strides[0] + 1, (wd - 1) * strides[1] + 1), x.dtype)
    xd[:, :, ::strides[0], ::strides[1]] = x
    cg = c // groups
    wf = w.reshape(groups, cg, kg, r, s).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    wf = wf.reshape(groups * kg, cg, r, s)
    er, es = dil[0] * (r - 1), dil[1] * (s - 1)
    cp = [er - pads[0], es - pads[1], er - pads[2] + out_pad[0], es - pads[3] + out_pad[1]]
    lo = [max(0, v) for v in cp]
    xd = np.pad(xd, ((0, 0), (0, 0), (lo[0], lo[2]), (lo[1], lo[3])))
    xd = xd[:, :, max(0, -cp[0]):xd.shape[2] - max(0, -cp[2]),
            max(0, -cp[1]):xd.shape[3] - max(0, -cp[3])]
    return conv2d(xd, np.ascontiguousarray(wf), b, [1, 1], [0, 0, 0, 0], dil, groups,
                  acc_dtype)


def conv_params(op: Operation, x: Arr, w: Arr) -> tuple[list[int], list[int], list[int], int]:
    nd = x.ndim - 2
    strides = _ints(op, "strides", [1] * nd)
    dil = _ints(op, "dilations", [1] * nd)
    pads = _ints(op, "pads", [0] * (2 * nd))
    auto = op.attr("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0] * (2 * nd)
        for i in range(nd):
            k = dil[i] * (w.shape[2 + i] - 1) + 1
            out = -(-x.shape[2 + i] // strides[i])
            total = max(0, (out - 1) * strides[i] + k - x.shape[2 + i])
            small, big = total // 2, total - total // 2
            pads[i], pads[i + nd] = (small, big) if auto == "SAME_UPPER" else (big, small)
    return strides, pads, dil, int(op.attr("group", 1))


def _as2d(x: Arr) -> tuple[Arr, bool]:
    return (x[:, :, None, :], True) if x.ndim == 3 else (x, False)


@impl("conv")
def _conv(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x, w = a[0], a[1]
    b = a[2] if len(a) > 2 else None
    x2, squeeze = _as2d(x)
    w2 = w[:, :, None, :] if squeeze else w
    strides, pads, dil, groups = conv_params(op, x2, w2)
    if squeeze:
        strides, dil, pads = [1, *strides], [1, *dil], [0, pads[0], 0, pads[1]]
    y = conv2d(x2.astype(np.float32), w2.astype(np.float32), b, strides, pads, dil, groups)
    return [y[:, :, 0, :] if squeeze else y]


@impl("conv_transpose")
def _conv_t(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x, w = a[0], a[1]
    b = a[2] if len(a) > 2 else None
    strides, pads, dil, groups = conv_params(op, x, w)
    return [conv_transpose2d(x, w, b, strides, pads, dil, groups,
                             _ints(op, "output_padding", [0, 0]))]


@impl("gemm")
def _gemm(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x = a[0].T if op.attr("transA", 0) else a[0]
    w = a[1].T if op.attr("transB", 0) else a[1]
    y = np.float32(op.attr("alpha", 1.0)) * (x @ w)
    if len(a) > 2 and a[2] is not None:
        y = y + np.float32(op.attr("beta", 1.0)) * a[2]
    return [y.astype(np.float32)]


@impl("matmul")
def _matmul(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    y = np.matmul(a[0], a[1])
    return [y + a[2] if len(a) > 2 else y]


# -- element-wise ----------------------------------------------------------------------
def _div(x: Arr, y: Arr) -> Arr:
    if np.issubdtype(np.result_type(x, y), np.integer):
        return (np.trunc(x / y)).astype(np.result_type(x, y))
    return x / y


COMPARISONS: dict[str, Callable[[Arr, Arr], Arr]] = {
    "equal": np.equal, "less": np.less, "greater": np.greater, "less_or_equal": np.less_equal,
    "greater_or_equal": np.greater_equal}
for _n, _c in COMPARISONS.items():
    impl(_n)(lambda op, a, opset, c=_c: [np.asarray(c(a[0], a[1]))])

LOGIC: dict[str, Callable[..., Arr]] = {
    "not": np.logical_not, "and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}
for _n, _l in LOGIC.items():
    impl(_n)(lambda op, a, opset, f=_l: [np.asarray(f(*[x.astype(bool) for x in a]))])

_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": _div, "pow": np.power}
for _n, _f in _BINARY.items():
    impl(_n)(lambda op, a, opset, f=_f: [f(a[0], a[1]).astype(np.result_type(a[0], a[1]))])


def _erf(x: Arr) -> Arr:
    from scipy.special import erf

    return erf(x).astype(x.dtype)


def _gelu(x: Arr, approximate: str = "none") -> Arr:
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / np.sqrt(np.float32(2))))


_UNARY: dict[str, Callable[[Operation, Arr], Arr]] = {
    "sqrt": lambda op, x: np.sqrt(x), "exp": lambda op, x: np.exp(x),
    "neg": lambda op, x: -x, "erf": lambda op, x: _erf(x),
    "relu": lambda op, x: np.maximum(x, 0),
    "sigmoid": lambda op, x: 1 / (1 + np.exp(-x)), "tanh": lambda op, x: np.tanh(x),
    "hard_sigmoid": lambda op, x: np.clip(op.attr("alpha", 0.2) * x + op.attr("beta", 0.5),
                                          0, 1),
    "hard_swish": lambda op, x: x * np.clip(x / 6 + 0.5, 0, 1),
    "leaky_relu": lambda op, x: np.where(x >= 0, x, op.attr("alpha", 0.01) * x),
    "gelu": lambda op, x: _gelu(x, op.attr("approximate", "none")),
    "identity": lambda op, x: x, "dropout": lambda op, x: x,
    "softsign": lambda op, x: x / (1 + np.abs(x)),
    "reciprocal": lambda op, x: 1 / x, "log": lambda op, x: np.log(x),
    "abs": lambda op, x: np.abs(x), "softplus": lambda op, x: np.logaddexp(0, x),
    "mish": lambda op, x: x * np.tanh(np.logaddexp(0, x)),
    "elu": lambda op, x: np.where(x >= 0, x, op.attr("alpha", 1.0) * np.expm1(x)),
    "selu": lambda op, x: op.attr("gamma", 1.0507009873554805) * np.where(
        x > 0, x, op.attr("alpha", 1.6732632423543772) * np.expm1(x)),
    "celu": lambda op, x: np.maximum(x, 0) + np.minimum(
        0, op.attr("alpha", 1.0) * np.expm1(x / op.attr("alpha", 1.0))),
    "thresholded_relu": lambda op, x: np.where(x > op.attr("alpha", 1.0), x, 0),
    "sin": lambda op, x: np.sin(x), "cos": lambda op, x: np.cos(x),
    "floor": lambda op, x: np.floor(x), "ceil": lambda op, x: np.ceil(x),
    "round": lambda op, x: np.rint(x), "sign": lambda op, x: np.sign(x),
    "shrink": lambda op, x: np.where(x < -op.attr("lambd", 0.5), x + op.attr("bias", 0.0),
                                     np.where(x > op.attr("lambd", 0.5),
                                              x - op.attr("bias", 0.0), 0)),
}
for _n, _u in _UNARY.items():
    impl(_n)(lambda op, a, opset, u=_u: [np.asarray(u(op, a[0])).astype(a[0].dtype)])


@impl("sum")
def _sum(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    out = a[0]
    for x in a[1:]:
        out = out + x
    return [out]


@impl("clip")
def _clip(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    lo = a[1] if len(a) > 1 and a[1] is not None else op.attr("min")
    hi = a[2] if len(a) > 2 and a[2] is not None else op.attr("max")
    x = a[0]
    if lo is not None:
        x = np.maximum(x, np.asarray(lo, x.dtype))
    if hi is not None:
        x = np.minimum(x, np.asarray(hi, x.dtype))
    return [x]


@impl("batch_norm")
def _bn(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x, g, b, m, v = a[:5]
    shape = (1, -1) + (1,) * (x.ndim - 2)
    eps = np.float32(op.attr("epsilon", 1e-5))
    inv = (g / np.sqrt(v + eps)).reshape(shape)
    return [((x - m.reshape(shape)) * inv + b.reshape(shape)).astype(np.float32)]


@impl("layer_norm")
def _ln(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x = a[0]
    axis = int(op.attr("axis", -1)) % x.ndim
    axes = tuple(range(axis, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + np.float32(op.attr("epsilon", 1e-5))) * a[1]
    if len(a) > 2 and a[2] is not None:
        y = y + a[2]
    return [y.astype(np.float32)]


@impl("instance_norm")
def _instance_norm(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x = a[0]
    axes = tuple(range(2, x.ndim))
    per_c = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + np.float32(op.attr("epsilon", 1e-5)))
    return [(y * a[1].reshape(per_c) + a[2].reshape(per_c)).astype(np.float32)]


@impl("softmax")
def _softmax(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x = a[0]
    axis = int(op.attr("axis", -1 if opset >= 13 else 1)) % x.ndim
    if opset < 13:
        flat = x.reshape(int(np.prod(x.shape[:axis])), -1)
        e = np.exp(flat - flat.max(axis=1, keepdims=True))
        return [(e / e.sum(axis=1, keepdims=True)).reshape(x.shape)]
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return [e / e.sum(axis=axis, keepdims=True)]


@impl("log_softmax")
def _log_softmax(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x = a[0]
    axis = int(op.attr("axis", -1 if opset >= 13 else 1)) % x.ndim
    if opset < 13:
        flat = x.reshape(int(np.prod(x.shape[:axis])), -1)
        z = flat - flat.max(axis=1, keepdims=True)
        return [(z - np.log(np.exp(z).sum(axis=1, keepdims=True))).reshape(x.shape)]
    z = x - x.max(axis=axis, keepdims=True)
    return [z - np.log(np.exp(z).sum(axis=axis, keepdims=True))]


# -- pooling and reductions ------------------------------------------------------------
def pool_windows(x: Arr, kernel: list[int], strides: list[int], pads: list[int],
                 dil: list[int], ceil_mode: bool, fill: float) -> tuple[Arr, Arr]:
    """Strided windows `[N, C, P, Q, R, S]` over a padded input, plus a validity mask."""
    h, w = x.shape[2], x.shape[3]
    outs = []
    extra = []
    for i, size in enumerate((h, w)):
        span = size + pads[i] + pads[i + 2] - (dil[i] * (kernel[i] - 1) + 1)
        out = (-(-span // strides[i]) if ceil_mode else span // strides[i]) + 1
        if ceil_mode and (out - 1) * strides[i] >= size + pads[i]:
            out -= 1
        outs.append(out)
        need = (out - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1
        extra.append(max(0, need - (size + pads[i] + pads[i + 2])))
    padw = ((0, 0), (0, 0), (pads[0], pads[2] + extra[0]), (pads[1], pads[3] + extra[1]))
    xp = np.pad(x, padw, constant_values=fill)
    mask = np.pad(np.ones((h, w), np.int64), padw[2:])
    er, es = dil[0] * (kernel[0] - 1) + 1, dil[1] * (kernel[1] - 1) + 1
    win = np.lib.stride_tricks.sliding_window_view(xp, (er, es), axis=(2, 3))
    win = win[:, :, ::strides[0], ::strides[1], ::dil[0], ::dil[1]][:, :, :outs[0], :outs[1]]
    mwin = np.lib.stride_tricks.sliding_window_view(mask, (er, es))
    mwin = mwin[::strides[0], ::strides[1], ::dil[0], ::dil[1]][:outs[0], :outs[1]]
    return win, mwin


def pool_params(op: Operation, x: Arr) -> tuple[list[int], list[int], list[int], list[int]]:
    kernel = _ints(op, "kernel_shape")
    strides = _ints(op, "strides", [1, 1])
    pads = _ints(op, "pads", [0, 0, 0, 0])
    dil = _ints(op, "dilations", [1, 1])
    if op.attr("auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0] * 4
        for i in range(2):
            out = -(-x.shape[2 + i] // strides[i])
            total = max(0, (out - 1) * strides[i] + kernel[i] - x.shape[2 + i])
            pads[i], pads[i + 2] = total // 2, total - total // 2
    if any(p >= kernel[i % 2] for i, p in enumerate(pads)):
        raise SemanticsError(f"{op.loc.prefix()}: pool pads {pads} must be smaller than the "
                             f"kernel {kernel} (ONNX)")
    return kernel, strides, pads, dil


@impl("max_pool")
def _maxpool(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    kernel, strides, pads, dil = pool_params(op, a[0])
    win, _ = pool_windows(a[0], kernel, strides, pads, dil, bool(op.attr("ceil_mode", 0)),
                          -np.inf)
    return [win.max(axis=(4, 5))]


@impl("average_pool")
def _avgpool(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    kernel, strides, pads, dil = pool_params(op, a[0])
    win, mask = pool_windows(a[0], kernel, strides, pads, dil, bool(op.attr("ceil_mode", 0)),
                             0.0)
    total = win.sum(axis=(4, 5))
    if op.attr("count_include_pad", 0):
        count = np.float32(kernel[0] * kernel[1])
    else:
        count = mask.sum(axis=(2, 3)).astype(np.float32)
    return [(total / count).astype(np.float32)]


@impl("global_average_pool")
def _gap(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    return [a[0].mean(axis=tuple(range(2, a[0].ndim)), keepdims=True)]


@impl("global_max_pool")
def _gmp(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    return [a[0].max(axis=tuple(range(2, a[0].ndim)), keepdims=True)]


def reduce_axes(op: Operation, x: Arr, args: list[Any]) -> tuple[int, ...]:
    """The axes a Reduce* op reduces (attribute or operand; none = all, or none at all
    with noop_with_empty_axes)."""
    axes = _operand_or_attr(op, args, 1, "axes")
    if not axes:
        return () if op.attr("noop_with_empty_axes", 0) else tuple(range(x.ndim))
    return tuple(sorted(int(i) % x.ndim for i in axes))


REDUCERS: dict[str, Callable[..., Arr]] = {
    "reduce_mean": np.mean, "reduce_sum": np.sum, "reduce_max": np.max,
    "reduce_min": np.min, "reduce_prod": np.prod,
    "reduce_l1": lambda x, axis, keepdims: np.abs(x).sum(axis=axis, keepdims=keepdims),
    "reduce_l2": lambda x, axis, keepdims: np.sqrt((x * x).sum(axis=axis, keepdims=keepdims)),
    "reduce_sum_square": lambda x, axis, keepdims: (x * x).sum(axis=axis, keepdims=keepdims),
    "reduce_log_sum_exp": lambda x, axis, keepdims: np.log(np.exp(x).sum(
        axis=axis, keepdims=keepdims)),
}


@impl(*REDUCERS)
def _reduce(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    fn = REDUCERS[op.name.split(".", 1)[1]]
    axes = reduce_axes(op, a[0], a)
    if not axes:
        return [a[0]]
    return [np.asarray(fn(a[0], axis=axes, keepdims=bool(op.attr("keepdims", 1))))
            .astype(a[0].dtype)]


@impl("lrn")
def _lrn(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x = a[0]
    size = int(op.attr("size"))
    sq = np.pad(x * x, ((0, 0), ((size - 1) // 2, size // 2), (0, 0), (0, 0)))
    acc = sum(sq[:, i:i + x.shape[1]] for i in range(size))
    scale = op.attr("bias", 1.0) + op.attr("alpha", 1e-4) / size * acc
    return [(x / scale ** op.attr("beta", 0.75)).astype(np.float32)]


# -- recurrent ---------------------------------------------------------------------------
def _arg(a: list[Any], index: int) -> Any:
    return a[index] if len(a) > index else None


def rnn_attrs(op: Operation) -> dict[str, Any]:
    """The LSTM/GRU attributes `recurrent.unsupported` checks, as plain values."""
    return {k: op.attr(k) for k in ("direction", "activations", "clip", "input_forget")}


@impl("lstm", "gru")
def _rnn(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    kind = op.name.split(".", 1)[1]
    batch_first = int(op.attr("layout", 0)) == 1
    x = a[0].transpose(1, 0, 2) if batch_first else a[0]
    states = [_arg(a, 5), _arg(a, 6) if kind == "lstm" else None]
    if batch_first:
        states = [None if s is None else s.transpose(1, 0, 2) for s in states]
    why = recurrent.unsupported(kind, rnn_attrs(op), _arg(a, 4),
                                _arg(a, 7) if kind == "lstm" else None, x.shape[0])
    if why is not None:
        raise SemanticsError(f"{op.loc.prefix()}: {op.name} with {why} is not supported")
    direction = str(op.attr("direction", "forward"))
    if kind == "lstm":
        outs = list(recurrent.lstm(x, a[1], a[2], _arg(a, 3), states[0], states[1], direction))
    else:
        outs = list(recurrent.gru(x, a[1], a[2], _arg(a, 3), states[0], direction,
                                  bool(op.attr("linear_before_reset", 0))))
    if batch_first:
        outs = [outs[0].transpose(2, 0, 1, 3)] + [s.transpose(1, 0, 2) for s in outs[1:]]
    return outs[:len(op.results)]


# -- selection -----------------------------------------------------------------------------
def arg_extreme(x: Arr, axis: int, largest: bool, last: bool, keepdims: bool) -> Arr:
    """Index of the max (or min) along `axis`: the first one, or the last if `last`."""
    y = np.flip(x, axis) if last else x
    idx = np.argmax(y, axis=axis) if largest else np.argmin(y, axis=axis)
    if last:
        idx = x.shape[axis] - 1 - idx
    return np.expand_dims(idx, axis).astype(np.int64) if keepdims else idx.astype(np.int64)


def top_k(x: Arr, k: int, axis: int, largest: bool) -> tuple[Arr, Arr]:
    """The k largest (or smallest) along `axis`, sorted; equal values by lower index."""
    key = x.astype(np.int64) if np.issubdtype(x.dtype, np.integer) else x
    key = -key if largest else key
    idx = np.take(np.argsort(key, axis=axis, kind="stable"), np.arange(k), axis=axis)
    return np.take_along_axis(x, idx, axis), idx.astype(np.int64)


@impl("arg_max", "arg_min")
def _arg_extreme(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    axis = int(op.attr("axis", 0)) % a[0].ndim
    return [arg_extreme(a[0], axis, op.name == "graph.arg_max",
                        bool(op.attr("select_last_index", 0)), bool(op.attr("keepdims", 1)))]


@impl("top_k")
def _top_k(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    k = int(np.asarray(a[1]).reshape(-1)[0]) if len(a) > 1 else int(op.attr("k"))
    axis = int(op.attr("axis", -1)) % a[0].ndim
    values, idx = top_k(a[0], k, axis, bool(op.attr("largest", 1)))
    return [values, idx][:len(op.results)]


# -- shape manipulation ----------------------------------------------------------------
@impl("flatten")
def _flatten(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    axis = int(op.attr("axis", 1)) % (a[0].ndim + 1) if a[0].ndim else 0
    return [a[0].reshape(int(np.prod(a[0].shape[:axis])), -1)]


@impl("reshape")
def _reshape(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    shape = [int(s) for s in (a[1] if len(a) > 1 else op.attr("shape"))]
    if not op.attr("allowzero", 0):
        shape = [a[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return [a[0].reshape(shape)]


@impl("transpose")
def _transpose(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    perm = _ints(op, "perm", list(range(a[0].ndim))[::-1])
    return [a[0].transpose(perm)]


@impl("concat")
def _concat(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    return [np.concatenate(a, axis=int(op.attr("axis")))]


@impl("split")
def _split(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    axis = int(op.attr("axis", 0)) % a[0].ndim
    sizes = _operand_or_attr(op, a, 1, "split")
    if not sizes:
        n = len(op.results)
        size = -(-a[0].shape[axis] // n)
        sizes = [min(size, a[0].shape[axis] - i * size) for i in range(n)]
    return list(np.split(a[0], np.cumsum(sizes)[:-1], axis=axis))


@impl("slice")
def _slice(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x = a[0]
    if op.attr("starts") is not None:
        starts, ends = _ints(op, "starts"), _ints(op, "ends")
        axes, steps = _ints(op, "axes"), None
    else:
        starts, ends = _operand_or_attr(op, a, 1, ""), _operand_or_attr(op, a, 2, "")
        axes, steps = _operand_or_attr(op, a, 3, ""), _operand_or_attr(op, a, 4, "")
    axes = axes or list(range(len(starts)))
    steps = steps or [1] * len(starts)
    index = [slice(None)] * x.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps, strict=False):
        index[ax % x.ndim] = slice(*slice(s, e, st).indices(x.shape[ax % x.ndim]))
    return [x[tuple(index)]]


@impl("squeeze")
def _squeeze(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    axes = _operand_or_attr(op, a, 1, "axes")
    if not axes:
        return [np.squeeze(a[0])]
    return [np.squeeze(a[0], axis=tuple(i % a[0].ndim for i in axes))]


@impl("unsqueeze")
def _unsqueeze(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    axes = _operand_or_attr(op, a, 1, "axes")
    rank = a[0].ndim + len(axes)
    return [np.expand_dims(a[0], tuple(sorted(i % rank for i in axes)))]


@impl("shape")
def _shape(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    return [np.array(a[0].shape, np.int64)[op.attr("start", 0):op.attr("end")]]


_CAST = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64,
         9: np.bool_, 10: np.float16, 11: np.float64}


@impl("cast")
def _cast(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    return [a[0].astype(_CAST[int(op.attr("to"))])]


@impl("constant_of_shape")
def _const_of_shape(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    value = op.attr("value")
    fill = np.zeros((), np.float32) if value is None else np.asarray(value).reshape(())
    return [np.broadcast_to(fill, tuple(int(d) for d in a[0]))]


@impl("expand")
def _expand(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    shape = np.broadcast_shapes(a[0].shape, tuple(int(d) for d in a[1]))
    return [np.broadcast_to(a[0], shape)]


@impl("where")
def _where(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    return [np.where(a[0].astype(bool), a[1], a[2])]


@impl("tile")
def _tile(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    return [np.tile(a[0], [int(r) for r in a[1]])]


@impl("gather_elements")
def _gather_elements(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    axis = int(op.attr("axis", 0)) % a[0].ndim
    idx = a[1].astype(np.int64)
    return [np.take_along_axis(a[0], np.where(idx < 0, idx + a[0].shape[axis], idx), axis)]


@impl("depth_to_space")
def _depth_to_space(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x, b = a[0], int(op.attr("blocksize"))
    n, c, h, w = x.shape
    if op.attr("mode", "DCR") == "DCR":
        y = x.reshape(n, b, b, c // b ** 2, h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        y = x.reshape(n, c // b ** 2, b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return [y.reshape(n, c // b ** 2, h * b, w * b)]


@impl("space_to_depth")
def _space_to_depth(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x, b = a[0], int(op.attr("blocksize"))
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)
    return [y.reshape(n, c * b * b, h // b, w // b)]


@impl("range")
def _range(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    start, limit, delta = (np.asarray(v).reshape(()) for v in a[:3])
    return [np.arange(start, limit, delta).astype(np.result_type(start, limit, delta))]


@impl("gather")
def _gather(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    return [np.take(a[0], a[1].astype(np.int64), axis=int(op.attr("axis", 0)))]


@impl("pad")
def _pad(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x = a[0]
    pads = _operand_or_attr(op, a, 1, "pads")
    value = a[2] if len(a) > 2 and a[2] is not None else op.attr("value", 0.0)
    axes = _operand_or_attr(op, a, 3, "") or list(range(x.ndim))
    width = [(0, 0)] * x.ndim
    for i, ax in enumerate(axes):
        width[ax % x.ndim] = (pads[i], pads[i + len(axes)])
    mode = op.attr("mode", "constant")
    if mode != "constant":
        return [np.pad(x, width, mode={"reflect": "reflect", "edge": "edge"}[mode])]
    return [np.pad(x, width, constant_values=np.asarray(value).reshape(()))]


def resize_nearest_index(in_size: int, out_size: int, scale: float, mode: str,
                         nearest: str) -> Arr:
    """Source index per output index for nearest resize (ONNX coordinate modes)."""
    o = np.arange(out_size, dtype=np.float64)
    if mode == "asymmetric":
        src = o / scale
    elif mode == "align_corners":
        src = o * (in_size - 1) / max(out_size - 1, 1)
    else:  # half_pixel, pytorch_half_pixel
        src = (o + 0.5) / scale - 0.5
    if nearest == "floor":
        idx = np.floor(src)
    elif nearest == "ceil":
        idx = np.ceil(src)
    elif nearest == "round_prefer_ceil":
        idx = np.floor(src + 0.5)
    else:
        idx = np.ceil(src - 0.5)
    return np.clip(idx, 0, in_size - 1).astype(np.int64)


def resize_plan(op: Operation, x: Arr, args: list[Any]) -> tuple[list[float], list[int]]:
    scales = None
    sizes = None
    if op.name == "graph.upsample":
        scales = [float(s) for s in (args[1] if len(args) > 1 else op.attr("scales"))]
    else:
        if len(args) > 2 and args[2] is not None and np.asarray(args[2]).size:
            scales = [float(s) for s in np.asarray(args[2]).reshape(-1)]
        if len(args) > 3 and args[3] is not None:
            sizes = [int(s) for s in np.asarray(args[3]).reshape(-1)]
    if sizes is None:
        sizes = [int(np.floor(d * s)) for d, s in zip(x.shape, scales, strict=False)]
    if scales is None:
        scales = [o / i for o, i in zip(sizes, x.shape, strict=False)]
    return scales, sizes


def resized_axes(x_shape: tuple[int, ...], scales: list[float], sizes: list[int]) -> list[int]:
    return [ax for ax in range(len(x_shape)) if sizes[ax] != x_shape[ax] or scales[ax] != 1.0]


def check_linear(op: Operation) -> None:
    """Reject the linear Resize variants dlac does not run (one line, naming the node)."""
    if int(op.attr("antialias", 0)):
        raise SemanticsError(f"{op.loc.prefix()}: antialiased linear Resize is not supported")


@impl("resize", "upsample")
def _resize(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    x = a[0]
    mode = op.attr("mode", "nearest")
    if mode == "linear":
        check_linear(op)
        scales, sizes = resize_plan(op, x, a)
        coord = op.attr("coordinate_transformation_mode", "half_pixel")
        for ax in resized_axes(x.shape, scales, sizes):
            try:
                i0, i1, w1 = linear_coefficients(x.shape[ax], sizes[ax], scales[ax], coord)
            except ValueError as err:
                raise SemanticsError(f"{op.loc.prefix()}: {err}") from None
            shape = [1] * x.ndim
            shape[ax] = -1
            w1 = w1.reshape(shape)
            x = np.take(x, i0, axis=ax) * (1 - w1) + np.take(x, i1, axis=ax) * w1
        return [x.astype(np.float32)]
    if mode != "nearest":
        raise SemanticsError(f"{op.loc.prefix()}: {mode} Resize is not supported")
    scales, sizes = resize_plan(op, x, a)
    mode = op.attr("coordinate_transformation_mode", "half_pixel")
    if op.name == "graph.upsample":
        mode = "asymmetric"
    nearest = op.attr("nearest_mode", "round_prefer_floor")
    if op.name == "graph.upsample":
        nearest = "floor"
    for ax in range(x.ndim):
        if sizes[ax] != x.shape[ax] or scales[ax] != 1.0:
            idx = resize_nearest_index(x.shape[ax], sizes[ax], scales[ax], mode, nearest)
            x = np.take(x, idx, axis=ax)
    return [x]


@impl("quantize_linear")
def _quantize(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    zp = a[2] if len(a) > 2 and a[2] is not None else np.zeros((), np.int8)
    q = np.rint(a[0] / a[1]) + zp.astype(np.float32)
    lo, hi = (0, 255) if zp.dtype == np.int16 else (-128, 127)
    return [np.clip(q, lo, hi).astype(np.int16 if zp.dtype == np.int16 else np.int8)]


@impl("dequantize_linear")
def _dequantize(op: Operation, a: list[Any], opset: int) -> list[Arr]:
    zp = a[2] if len(a) > 2 and a[2] is not None else np.zeros((), np.int32)
    scale = a[1]
    axis = int(op.attr("axis", 1))
    if np.ndim(scale) == 1 and a[0].ndim > 1:
        shape = [1] * a[0].ndim
        shape[axis] = -1
        scale = scale.reshape(shape)
        zp = np.reshape(zp, shape) if np.ndim(zp) == 1 else zp
    return [((a[0].astype(np.int32) - zp.astype(np.int32)) * scale).astype(np.float32)]
