"""C for host-side work: scalar ops in element-wise nests, gathers, and `loop.host` calls.

Each call goes to a function of runtime/dlac_host.h that reproduces the frontend's
reference arithmetic exactly; this module only marshals attributes into C arguments.
"""

from __future__ import annotations

import numpy as np
from dlac.backends.c_literals import c_float as _f
from dlac.backends.c_literals import strides
from dlac.backends.c_scope import CScope
from dlac.backends.errors import BackendError
from dlac.ir.attributes import DenseAttr
from dlac.ir.core import Operation, Value
from dlac.ir.dialects import loop_host as lh
from dlac.ir.dialects.loop import GatherOp
from dlac.ir.types import TensorType, i16, i32

#: `loop.host` kinds `host_call` has C for (data movement becomes gathers before emission).
HOST_KINDS = frozenset({"qgraph.max_pool", "qgraph.avg_pool", "qgraph.reduce_mean",
                        "qgraph.softmax", "qgraph.layer_norm", "qgraph.lrn",
                        "qgraph.reduce", "graph.gather", "qgraph.arg_max", "qgraph.top_k",
                        "qgraph.resize_linear", "qgraph.reduce_log_sum_exp"})
_PREDICATE = {"equal": 0, "less": 1, "greater": 2, "less_or_equal": 3, "greater_or_equal": 4}
_REDUCE_KIND = {"sum": 0, "max": 1, "min": 2, "l1": 3, "sum_square": 4, "l2": 5}


def _relu(op: Operation) -> str:
    return "1" if op.attr("act", "none") == "relu" else "0"


def scalar_expr(op: Operation, args: list[str], emitter: CScope) -> str:
    """The C expression computing a scalar host op from its operands' C names."""
    if isinstance(op, lh.RequantOp):
        return f"dlac_requant({args[0]}, {_f(op.attr('multiplier'))}, {_relu(op)})"
    if isinstance(op, lh.QuantizeScalarOp):
        return f"dlac_quantize({args[0]}, {_f(op.attr('multiplier'))})"
    if isinstance(op, lh.DequantizeScalarOp):
        return f"dlac_dequantize({args[0]}, {_f(op.attr('scale'))})"
    if isinstance(op, lh.ResaddScalarOp):
        fn = "dlac_resadd16" if op.results[0].type is i16 else "dlac_resadd"
        return (f"{fn}({args[0]}, {args[1]}, {_f(op.attr('a_scale'))}, "
                f"{_f(op.attr('b_scale'))}, {_f(op.attr('c_scale'))}, {_relu(op)})")
    if isinstance(op, lh.QmulScalarOp):
        if op.attr("residual_multiplier") is not None:
            return (f"dlac_qmul_lo({args[0]}, {args[1]}, {_f(op.attr('multiplier'))}, "
                    f"{_f(op.attr('residual_multiplier'))})")
        return f"dlac_qmul({args[0]}, {args[1]}, {_f(op.attr('multiplier'))})"
    if isinstance(op, lh.QdivScalarOp):
        return f"dlac_qdiv({args[0]}, {args[1]}, {_f(op.attr('multiplier'))})"
    if isinstance(op, lh.CompareScalarOp):
        pred = _PREDICATE[str(op.attr("predicate"))]
        return (f"dlac_compare({args[0]}, {args[1]}, {_f(op.attr('a_scale'))}, "
                f"{_f(op.attr('b_scale'))}, {pred})")
    if isinstance(op, lh.LogicScalarOp):
        fn = str(op.attr("function"))
        if fn == "not":
            return f"(uint8_t)!{args[0]}"
        c_op = {"and": "&&", "or": "||", "xor": "!="}[fn]
        return f"(uint8_t)(!!{args[0]} {c_op} !!{args[1]})"
    if isinstance(op, lh.SelectScalarOp):
        return f"({args[0]} ? {args[1]} : {args[2]})"
    if isinstance(op, lh.LutScalarOp):
        table = emitter.constant_table(op.attributes["table"], "lut")
        return f"{table}[(int)({args[0]}) + 128]"
    raise BackendError(f"{op.loc.prefix()}: no C for scalar op '{op.name}'")


def _view(value: Value, layout: str) -> str:
    """A dlac_view4 initialiser: logical NCHW dims with the buffer's physical strides."""
    shape = list(value.type.shape)
    phys = strides(tuple(shape))
    if layout == "nhwc" and len(shape) == 4:
        dims = [shape[0], shape[3], shape[1], shape[2]]
        st = [phys[0], phys[3], phys[1], phys[2]]
    else:
        pad = 4 - len(shape)
        if pad < 0:
            raise BackendError(f"host op on a rank-{len(shape)} tensor (at most 4 supported)")
        dims = [1] * pad + shape
        st = [0] * pad + phys
    return _view_text(dims, st)


def _view_text(dims: list[int], st: list[int]) -> str:
    return f"{{{{{', '.join(map(str, dims))}}}, {{{', '.join(map(str, st))}}}}}"


def _arr(values: list[int] | tuple[int, ...]) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def gather_call(op: GatherOp, emitter: CScope) -> list[str]:
    *srcs, out = op.operands
    table = emitter.constant_table(op.attributes["table"], "gather")
    names = ", ".join(emitter.name_of(v) for v in srcs)
    lens = ", ".join(str(v.type.num_elements) for v in srcs)
    return [f"  {{ const elem_t *const src[] = {{{names}}};",
            f"    const int64_t len[] = {{{lens}}};",
            f"    dlac_gather({emitter.name_of(out)}, {out.type.num_elements}, {table}, "
            f"{len(srcs)}, src, len); }}"]


def host_call(op: lh.HostOp, emitter: CScope) -> list[str]:
    kind = str(op.attr("kind"))
    bufs = list(op.operands)
    layouts = list(op.attr("layouts") or ["nchw"] * len(bufs))
    names = [emitter.name_of(v) for v in bufs]
    if kind in ("qgraph.max_pool", "qgraph.avg_pool"):
        kernel = list(op.attr("kernel"))
        stride = list(op.attr("strides") or [1, 1])
        pads = list(op.attr("pads") or [0, 0, 0, 0])
        lines = [f"  {{ const dlac_view4 xv = {_view(bufs[0], layouts[0])};",
                 f"    const dlac_view4 yv = {_view(bufs[-1], layouts[-1])};",
                 f"    const int64_t k[2] = {_arr(kernel)}, s[2] = {_arr(stride)}, "
                 f"p[2] = {_arr(pads[:2])};"]
        if kind == "qgraph.max_pool":
            dil = list(op.attr("dilations") or [1, 1])
            lines.append(f"    const int64_t d[2] = {_arr(dil)};")
            lines.append(f"    dlac_max_pool({names[0]}, &xv, {names[-1]}, &yv, k, s, p, d); }}")
        else:
            include = 1 if op.attr("count_include_pad") else 0
            lines.append(f"    dlac_avg_pool({names[0]}, &xv, {names[-1]}, &yv, k, s, p, "
                         f"{include}, {_f(op.attr('multiplier'))}); }}")
        return lines
    if kind in ("qgraph.reduce_mean", "qgraph.reduce", "qgraph.reduce_log_sum_exp"):
        rank = len(bufs[0].type.shape)
        axes = {int(a) % rank + (4 - rank) for a in op.attr("axes")}
        logical_out = list(bufs[0].type.shape)
        if layouts[0] == "nhwc" and rank == 4:  # the buffer is NHWC, the axes are logical
            logical_out = [logical_out[0], logical_out[3], logical_out[1], logical_out[2]]
        flags = [1 if d in axes else 0 for d in range(4)]
        yv = _keepdims_view(bufs[-1], [s if (i + 4 - rank) not in axes else 1
                                       for i, s in enumerate(logical_out)])
        head = [f"  {{ const dlac_view4 xv = {_view(bufs[0], layouts[0])}, yv = {yv};",
                f"    const int r[4] = {_arr(flags)};"]
        if op.attr("reduction") == "prod":
            return head + [f"    dlac_reduce_prod({names[0]}, &xv, {names[-1]}, &yv, r, "
                           f"{_f(op.attr('in_scale'))}, {_f(op.attr('multiplier'))}); }}"]
        if kind == "qgraph.reduce_log_sum_exp":
            exp_t = emitter.constant_table(op.attributes["exp_table"], "exp")
            log_t = emitter.constant_table(op.attributes["log_table"], "log")
            return head + [f"    dlac_reduce_log_sum_exp({names[0]}, &xv, {names[-1]}, &yv, r, "
                           f"{exp_t}, {log_t}, {int(op.attr('a'))}LL, "
                           f"{int(op.attr('ln2_q'))}LL, {_f(op.attr('multiplier'))}); }}"]
        return head + [f"    {_reduce_call(op)}({names[0]}, &xv, {names[-1]}, &yv, r, "
                       f"{_f(op.attr('multiplier'))}); }}"]
    if kind == "qgraph.softmax":
        shape = list(bufs[0].type.shape)
        axis = int(op.attr("axis")) % len(shape)
        if layouts[0] != "nchw" or layouts[-1] != "nchw":
            raise BackendError(f"{op.loc.prefix()}: softmax needs row-major buffers")
        table = emitter.constant_table(op.attributes["exp_table"], "exp")
        outer = 1
        for d in shape[:axis]:
            outer *= d
        inner = bufs[0].type.num_elements // (outer * shape[axis])
        block = shape[axis] * inner
        # one call per outer index: `inner` rows of `shape[axis]` elements, stride `inner`
        return [f"  for (int64_t o = 0; o < {outer}; o++)",
                f"    dlac_softmax({names[0]} + o * {block}, {names[-1]} + o * {block}, "
                f"{inner}, {shape[axis]}, 1, {inner}, {table});"]
    if kind == "qgraph.layer_norm":
        shape = list(bufs[0].type.shape)
        rows = bufs[0].type.num_elements // shape[-1]
        wide = int(bufs[0].type.element is i16)
        return [f"  dlac_layer_norm({names[0]}, {wide}, {names[1]}, {names[2]}, {names[-1]}, "
                f"{rows}, {shape[-1]}, {int(op.attr('eps_term'))}LL, "
                f"{int(op.attr('sqrt_frac_bits'))}, {int(op.attr('k'))}LL, "
                f"{_f(op.attr('multiplier'))});"]
    if kind == "qgraph.lrn":
        table = emitter.constant_table(op.attributes["factor_table"], "lrn")
        return [f"  {{ const dlac_view4 xv = {_view(bufs[0], layouts[0])};",
                f"    const dlac_view4 yv = {_view(bufs[-1], layouts[-1])};",
                f"    dlac_lrn({names[0]}, &xv, {names[-1]}, &yv, {int(op.attr('size'))}, "
                f"{int(op.attr('shift'))}, {table}, {_f(op.attr('multiplier'))}); }}"]
    if kind in ("qgraph.arg_max", "qgraph.top_k"):
        if any(layout != "nchw" for layout in layouts):
            raise BackendError(f"{op.loc.prefix()}: {kind} needs row-major buffers")
        shape = list(bufs[0].type.shape)
        axis = int(op.attr("axis"))
        outer = int(np.prod(shape[:axis], dtype=np.int64))
        inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
        rows = f"{names[0]}, {outer}, {shape[axis]}, {inner}, {int(op.attr('largest'))}"
        if kind == "qgraph.arg_max":
            return [f"  dlac_arg_max({rows}, {int(op.attr('select_last_index'))}, "
                    f"{names[-1]});"]
        return [f"  dlac_top_k({rows}, {int(op.attr('k'))}, {names[-2]}, {names[-1]});"]
    if kind == "qgraph.resize_linear":
        rank = len(bufs[0].type.shape)
        coef = np.asarray(op.attr("coefficients"), np.int32)
        lead = np.array([[0, 0, 1, 0]] * (4 - rank), np.int32).reshape(-1, 4)
        flat = np.concatenate([lead, coef]).reshape(-1)
        table = emitter.constant_table(DenseAttr(flat, TensorType((flat.size,), i32)), "lerp")
        return [f"  {{ const dlac_view4 xv = {_view(bufs[0], layouts[0])};",
                f"    const dlac_view4 yv = {_view(bufs[-1], layouts[-1])};",
                f"    dlac_resize_linear({names[0]}, &xv, {names[-1]}, &yv, {table}, "
                f"{_f(op.attr('multiplier'))}); }}"]
    if kind == "graph.gather":  # run-time indices (constant ones became a gather table)
        if any(layout != "nchw" for layout in layouts):
            raise BackendError(f"{op.loc.prefix()}: gather needs row-major buffers")
        shape = list(bufs[0].type.shape)
        axis = int(op.attr("axis", 0)) % len(shape)
        outer = int(np.prod(shape[:axis], dtype=np.int64))
        inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
        return [f"  dlac_gather_rows({names[0]}, {outer}, {shape[axis]}, {inner}, {names[1]}, "
                f"{bufs[1].type.num_elements}, {names[-1]});"]
    raise BackendError(f"{op.loc.prefix()}: no C implementation for host op '{kind}'")


def _reduce_call(op: lh.HostOp) -> str:
    """The C call of a reduction host op up to its reduce flags (mean, or one of dlac_reduce's
    kinds, passed through a one-line wrapper so both take the same arguments)."""
    if op.attr("kind") == "qgraph.reduce_mean":
        return "dlac_reduce_mean"
    return f"dlac_reduce{_REDUCE_KIND[str(op.attr('reduction'))]}"


def _keepdims_view(value: Value, logical: list[int]) -> str:
    """View of a reduce output as the input's rank with reduced dims of extent 1."""
    total = 1
    for d in logical:
        total *= d
    if total != value.type.num_elements:
        raise BackendError("reduce_mean output does not match its reduced shape")
    dims = [1] * (4 - len(logical)) + list(logical)
    return _view_text(dims, strides(tuple(dims)))
