"""Rewrite the fp32 `graph` function into int8 `qgraph` ops with Gemmini's arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from dlac.ir.attributes import DenseAttr, FloatAttr
from dlac.ir.core import Operation, Value
from dlac.ir.dialects import qgraph
from dlac.ir.dialects.func import FuncOp
from dlac.ir.dialects.graph import OP_CLASSES, ConstantOp, GraphOp, NoneOp
from dlac.ir.quant_notes import add_notes
from dlac.ir.semantics import graph as evaluate
from dlac.ir.semantics.graph import conv_params, pool_params, run_op
from dlac.ir.semantics.interpolate import linear_coefficients
from dlac.ir.types import TensorType, f32, i8, i16, i32, i64
from dlac.passes import calibration
from dlac.passes.calibration import scale_of
from dlac.passes.channel_groups import channel_groups, contiguous_splits
from dlac.passes.graph_utils import const_value, erase_dead, functions
from dlac.passes.pass_base import ModulePass, PassError, failure_message
from dlac.passes.sensitivity import layer_sensitivity
from dlac.passes.wide_activations import LO_STEPS, silu_input
from dlac.passes.wide_activations import select as select_wide_activations
from dlac.passes.wide_tensors import accumulator_values, wide_values

MOVEMENT = ("reshape", "flatten", "transpose", "squeeze", "unsqueeze", "slice", "split",
            "expand", "identity", "dropout", "shape", "tile", "depth_to_space",
            "space_to_depth", "gather_elements")
LUT_OPS = ("relu", "clip", "sigmoid", "hard_sigmoid", "hard_swish", "tanh", "gelu",
           "leaky_relu", "erf", "exp", "sqrt", "neg", "softsign", "reciprocal", "log", "abs",
           "softplus", "mish", "elu", "selu", "celu", "thresholded_relu", "sin", "cos",
           "floor", "ceil", "round", "sign", "shrink")
KEEP_SCALE = (*MOVEMENT, "max_pool", "global_max_pool")  # int8 output at the input's scale
SENSITIVITY = "quant_sensitivity"  # module attribute: the --sensitivity report
WIDE_ACTIVATIONS = "quant_wide_activations"  # module attribute: the two-digit tensors
SOFTMAX_ONE = 1 << 20  # fixed-point 1.0 of the softmax exp table
LN_FRAC_BITS = 8       # fractional bits of the normalised value z in integer layer norm
LRN_TABLE_BITS = 12    # LRN factor table has at most 2**12 + 1 entries
LRN_ONE = 1 << 15      # fixed-point 1.0 of the LRN factor table
WIDE_HEADROOM = 2.0    # an int16 tensor's scale covers twice its calibrated max |x|


def f32a(x: float) -> FloatAttr:
    return FloatAttr(float(np.float32(x)), f32)


def quantize_array(w: np.ndarray, scale: float, lo: int = -128, hi: int = 127,
                   dtype: Any = np.int8) -> np.ndarray:
    """round-half-even(w / scale), saturated: how weights and biases become integers."""
    return np.clip(np.rint(np.asarray(w, np.float64) / scale), lo, hi).astype(dtype)


def weight_scale(w: np.ndarray) -> float:
    amax = float(np.abs(w).max()) if w.size else 0.0
    return (amax if amax > 0 else 1.0) / 127.0


@dataclass(frozen=True)
class Quantize(ModulePass):
    """Calibrate (see dlac.passes.calibration) and replace every float op by int8 ops.

    Before:
        %y = graph.conv %x, %w, %b {fused_act = "relu", pads = [1, 1, 1, 1], ...}
    After:
        %xq = qgraph.quantize %x {multiplier = 42.1 : f32, scale = 0.0237 : f32}
        %y = qgraph.conv %xq, %w8, %b32 {act = "relu", multiplier = 0.0031 : f32, ...}
        %r = qgraph.dequantize %y {scale = 0.021 : f32}
    """

    name = "quantize"
    calib: str = ""
    samples: int = 2
    seed: int = 0
    method: str = "minmax"
    percentile: float = 99.99
    weight_groups: int = 1
    bias_correction: bool = False
    sensitivity: int = 0
    weight_splits: int = 1
    wide: bool = True
    wide_activations: int = 0

    def apply(self, module: Operation) -> None:
        opset = int(module.attr("onnx_opset", 17))
        for func in functions(module):
            batches = (calibration.load_calibration(self.calib, func) if self.calib
                       else calibration.random_inputs(func, self.samples, self.seed))
            means: dict[int, np.ndarray] | None = {} if self.bias_correction else None
            maxima: dict[int, float] = {}
            ranges = calibration.collect_ranges(func, batches, opset, self.method,
                                                self.percentile, means, maxima)
            if self.sensitivity > 0:
                module.set_attr(SENSITIVITY, layer_sensitivity(
                    func, batches, ranges, opset, self.sensitivity,
                    tuple("graph." + k for k in KEEP_SCALE)))
            chosen = select_wide_activations(
                func, batches, ranges, opset, self.wide_activations,
                tuple("graph." + k for k in LUT_OPS), lambda v: _forced_scale(v) is not None,
                tuple("graph." + k for k in KEEP_SCALE))
            if chosen:
                module.set_attr(WIDE_ACTIVATIONS, [
                    {"node": op.loc.prefix(), "op": op.name,
                     "alone_db": round(float(10 * np.log10(1 / max(p, 1e-30))), 2)}
                    for op, p in chosen])
            quantizer = _Quantizer(func, ranges, opset, weight_groups=self.weight_groups,
                                   means=means, weight_splits=self.weight_splits,
                                   maxima=maxima if self.wide else None,
                                   digit_values={id(op.results[0]) for op, _ in chosen})
            quantizer.run()
            add_notes(module, quantizer.notes)


def quantize_problems(module: Operation, calib: str = "", samples: int = 2, seed: int = 0,
                      method: str = "minmax", weight_groups: int = 1,
                      bias_correction: bool = False, weight_splits: int = 1) -> list[str]:
    """Quantize `module` in place, collecting one line per op that cannot be quantized
    instead of stopping at the first (`dlac --check`); such an op stays float."""
    opset = int(module.attr("onnx_opset", 17))
    problems: list[str] = []
    for func in functions(module):
        try:
            batches = (calibration.load_calibration(calib, func) if calib
                       else calibration.random_inputs(func, samples, seed))
            means: dict[int, np.ndarray] | None = {} if bias_correction else None
            maxima: dict[int, float] = {}
            ranges = calibration.collect_ranges(func, batches, opset, method, 99.99, means,
                                                maxima)
        except Exception as err:  # noqa: BLE001 - reported as one line, like a pass failure
            problems.append(failure_message("quantize", err))
            continue
        quantizer = _Quantizer(func, ranges, opset, problems, weight_groups, means,
                               weight_splits, maxima)
        quantizer.run()
        add_notes(module, quantizer.notes)
    return problems


class _Quantizer:
    def __init__(self, func: FuncOp, ranges: dict[int, float], opset: int,
                 problems: list[str] | None = None, weight_groups: int = 1,
                 means: dict[int, np.ndarray] | None = None, weight_splits: int = 1,
                 maxima: dict[int, float] | None = None,
                 digit_values: set[int] | None = None) -> None:
        """`maxima` (max |x| per value) turns on int16 host-only tensors (wide_tensors);
        `digit_values` (ids of float values) are carried as two int8 digits into the convs
        and matmuls that read them (wide_activations)."""
        self.problems = problems
        self.weight_groups = weight_groups
        self.weight_splits = weight_splits
        self.means = means or {}
        self.func = func
        self.block = func.body.block
        self.ret = self.block.ops[-1]
        self.ranges = ranges
        self.opset = opset
        self.q: dict[int, tuple[Value, float | None]] = {}
        self.notes: list[dict[str, str]] = []  # changes to a pre-quantized model's arithmetic
        self.maxima = maxima or {}
        self.wide = wide_values(func, lambda v: _forced_scale(v) is not None) \
            if maxima is not None else set()
        self.accumulators = accumulator_values(func, self.wide,
                                               lambda v: _forced_scale(v) is not None)
        self.digit_values = digit_values or set()
        self.digits: dict[int, tuple[Value, float]] = {}  # old value -> (lo digit, its scale)

    # -- plumbing -----------------------------------------------------------------------
    def emit(self, op: Operation, hint: str | None = None) -> Operation:
        self.block.insert_before(self.ret, op)
        if hint is not None and op.results:
            op.results[0].name_hint = hint
        return op

    def const(self, array: np.ndarray, element: Any, hint: str | None, loc: Any) -> Value:
        ty = TensorType(array.shape, element)
        op = ConstantOp(result_types=[ty], attributes={"value": DenseAttr(array, ty)}, loc=loc)
        return self.emit(op, hint).result

    def scale(self, value: Value, act: str | None = None) -> float:
        if act == "relu6":
            return 6.0 / 127.0
        forced = _forced_scale(value)
        if forced is not None:
            return forced
        if id(value) in self.wide:
            return (self.maxima.get(id(value), 0.0) * WIDE_HEADROOM or 1.0) / 32767.0
        if id(value) not in self.ranges:
            raise PassError(f"no calibration range for '{value.name_hint}'")
        return scale_of(self.ranges[id(value)])

    def get(self, value: Value) -> tuple[Value, float | None]:
        """The int8 (or untouched integer) replacement of an old value, and its scale."""
        found = self.q.get(id(value))
        if found is not None:
            return found
        arr = const_value(value)
        if arr is not None and arr.dtype.kind == "f":
            s = _forced_scale(value) or weight_scale(arr)
            new = self.const(quantize_array(arr, s), i8, value.name_hint, value.op.loc)
            found = (new, s)
        elif isinstance(getattr(value, "op", None), NoneOp) or arr is not None:
            found = (value, None)
        elif value.type.element is f32:
            s = self.scale(value)
            op = qgraph.QuantizeOp([value], [TensorType(value.type.shape, i8)],
                                   {"scale": f32a(s), "multiplier": f32a(1.0 / s)})
            self.block.insert(0, op)
            op.result.name_hint = (value.name_hint or "x") + "_q"
            found = (op.result, s)
        else:
            found = (value, None)
        self.q[id(value)] = found
        return found

    def set(self, old: Value, new: Value, s: float | None) -> None:
        if new.name_hint is None:
            new.name_hint = old.name_hint
        self.q[id(old)] = (new, s)

    def out_type(self, old: Value) -> TensorType:
        elem = (i16 if id(old) in self.wide else i8) if old.type.element is f32 \
            else old.type.element
        return TensorType(old.type.shape, elem)

    # -- driver ----------------------------------------------------------------------------
    def run(self) -> None:
        ops = [op for op in self.block.ops if op is not self.ret]
        bad = sorted({op.name for op in ops if isinstance(op, GraphOp)
                      and not hasattr(self, "op_" + op.name.split(".", 1)[1])
                      and op.name.split(".", 1)[1] not in MOVEMENT + LUT_OPS})
        if bad and self.problems is None:
            first = next(op for op in ops if op.name in bad)
            raise PassError(f"cannot quantize op(s) {', '.join(bad)} "
                            f"(first at '{first.loc.prefix()}')")
        for op in ops:
            if not isinstance(op, GraphOp):
                continue
            if op.name in bad:
                self.problems.append(f"node '{op.loc.prefix()}' ({op.name}): no int8 form")
                continue
            try:
                self._quantize_op(op)
            except Exception as err:
                if self.problems is None:
                    raise
                self.problems.append(failure_message("quantize", err))
        outs = []
        for v in self.ret.operands:
            new, s = self.get(v)
            if s is not None:
                deq = qgraph.DequantizeOp([new], [v.type], {"scale": f32a(s)})
                new = self.emit(deq, v.name_hint).result
            outs.append(new)
        self.ret.set_operands(outs)
        erase_dead(self.block)

    def _quantize_op(self, op: Operation) -> None:
        kind = op.name.split(".", 1)[1]
        handler = getattr(self, "op_" + kind, None)
        if handler is not None:
            handler(op)
        elif kind in MOVEMENT:
            self._movement(op)
        else:
            self._lut(op)

    # -- accelerator ops -------------------------------------------------------------------
    def _requant_attrs(self, s_in: float, s_w: float, s_out: float, act: str | None
                       ) -> dict[str, Any]:
        return {"multiplier": f32a(s_in * s_w / s_out),
                "act": "relu" if act in ("relu", "relu6") else "none"}

    def _bias(self, op: Operation, index: int, s_acc: float, length: int) -> Value | None:
        vec = self._bias_vector(op, index, length)
        if vec is None:
            return None
        q = quantize_array(vec, s_acc, -(1 << 31), (1 << 31) - 1, np.int32)
        return self.const(q, i32, None, op.loc)

    def _bias_vector(self, op: Operation, index: int, length: int) -> np.ndarray | None:
        """The float bias per output channel, or None without one."""
        if len(op.operands) <= index or isinstance(getattr(op.operands[index], "op", None),
                                                   NoneOp):
            return None
        arr = const_value(op.operands[index])
        if arr is None:
            raise PassError(f"{op.loc.prefix()}: non-constant bias is not supported")
        if op.name == "graph.gemm":
            arr = arr * float(op.attr("beta", 1.0))
        if arr.size not in (1, length) or (arr.ndim > 1 and arr.shape[-1] not in (1, length)):
            raise PassError(f"{op.loc.prefix()}: bias of shape {list(arr.shape)} is not "
                            f"per output channel")
        return np.broadcast_to(np.asarray(arr, np.float64).reshape(-1), (length,))

    def op_conv(self, op: Operation) -> None:
        x, s_x = self.get(op.operands[0])
        w = const_value(op.operands[1])
        if w is None or op.operands[0].type.rank != 4:
            raise PassError(f"{op.loc.prefix()}: only 2-D convs with constant weights "
                            f"can be quantized")
        dummy = np.empty((1,) + tuple(op.operands[0].type.shape[1:]), np.int8)
        strides, pads, dil, groups = conv_params(op, dummy, w)
        self._emit_conv(op, x, s_x, w, _forced_scale(op.operands[1]) or weight_scale(w),
                        {"strides": strides, "pads": pads, "dilations": dil, "group": groups})

    def op_conv_transpose(self, op: Operation) -> None:
        """Transposed conv = conv over the stride-dilated input with the flipped kernel."""
        x, s_x = self.get(op.operands[0])
        w = const_value(op.operands[1])
        if w is None or op.operands[0].type.rank != 4:
            raise PassError(f"{op.loc.prefix()}: only 2-D ConvTranspose with constant "
                            f"weights can be quantized")
        groups = int(op.attr("group", 1))
        cin, kg, r, s = w.shape
        cg = cin // groups
        flipped = w.reshape(groups, cg, kg, r, s).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
        w_eq = np.ascontiguousarray(flipped.reshape(groups * kg, cg, r, s))
        strides, pads, dil, _ = conv_params(op, np.empty((1, 1, 1, 1)), w)
        out_pad = [int(v) for v in op.attr("output_padding", [0, 0])]
        er, es = dil[0] * (r - 1), dil[1] * (s - 1)
        conv_pads = [er - pads[0], es - pads[1], er - pads[2] + out_pad[0],
                     es - pads[3] + out_pad[1]]
        self._emit_conv(op, x, s_x, w_eq, _forced_scale(op.operands[1]) or weight_scale(w),
                        {"strides": [1, 1], "pads": conv_pads, "dilations": dil,
                         "group": groups}, {"input_dilation": strides})

    def _emit_conv(self, op: Operation, x: Value, s_x: float, w_oihw: np.ndarray, s_w: float,
                   geometry: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        """qgraph.conv of `op` over OIHW float weights quantized at `s_w` (stored HWIO),
        with its bias and requantization; `extra` attributes go last. Dense and depthwise
        convs whose channels' weight ranges differ widely run as one conv per channel group
        with its own weight scale (see dlac.passes.channel_groups)."""
        act = op.attr("fused_act")
        s_o = self.scale(op.results[0], act)
        bias = self._bias_vector(op, 2, w_oihw.shape[0])
        k, group = w_oihw.shape[0], int(geometry["group"])
        depthwise = group == k == op.operands[0].type.shape[1] and group > 1
        sets = [np.arange(k)]
        if self.weight_groups > 1 and _forced_scale(op.operands[1]) is None and \
                (group == 1 or depthwise):
            sets = channel_groups(w_oihw, self.weight_groups)
        out_type = self.out_type(op.results[0])
        # bias correction: E[x] per input channel; not through ConvTranspose's zero insertion
        mean = None if extra else self.means.get(id(op.operands[0]))
        if len(sets) == 1:
            bounds = [0, k]
            if self.weight_splits > 1 and group == 1 and _forced_scale(op.operands[1]) is None:
                bounds = contiguous_splits(w_oihw, self.weight_splits)
            digits = self.digits.get(id(op.operands[0]))
            hint = op.operands[1].name_hint
            new = self._conv_call(op, x, s_x, w_oihw, s_w, s_o, bias, geometry, extra,
                                  out_type, hint, mean, bounds, fused=digits is None)
            if digits is not None:
                low = self._conv_call(op, digits[0], digits[1], w_oihw, s_w, s_o, None,
                                      geometry, extra, out_type, hint, None, bounds,
                                      fused=False)
                new = self._combine(op, new, low, out_type)
            self.set(op.results[0], new, s_o)
            return
        parts = []
        for index, chans in enumerate(sets):
            xin = self._channels(x, chans, op) if depthwise else x
            shape = list(out_type.shape)
            shape[1] = chans.size
            w_g = w_oihw[chans]
            parts.append(self._conv_call(
                op, xin, s_x, w_g, weight_scale(w_g), s_o,
                None if bias is None else bias[chans],
                {**geometry, "group": chans.size if depthwise else 1}, extra,
                TensorType(shape, i8), f"{op.operands[1].name_hint}_g{index}",
                None if mean is None else (mean[chans] if depthwise else mean)))
        cat = self.emit(OP_CLASSES["Concat"](parts, [out_type], {"axis": 1}, loc=op.loc)).result
        inverse = np.argsort(np.concatenate(sets)).astype(np.int64)
        self.set(op.results[0], self._channels(cat, inverse, op), s_o)

    def _conv_call(self, op: Operation, x: Value, s_x: float, w_oihw: np.ndarray, s_w: float,
                   s_o: float, bias: np.ndarray | None, geometry: dict[str, Any],
                   extra: dict[str, Any] | None, out_type: TensorType, hint: str | None,
                   in_mean: np.ndarray | None = None, bounds: list[int] | None = None,
                   fused: bool = True) -> Value:
        """One qgraph.conv; `bounds` [0, .., K] with more than one run gives each run of
        output channels its own weight scale (`k_splits`, one Gemmini call per run);
        without `fused` the op's activation is left to the caller."""
        bounds = bounds or [0, w_oihw.shape[0]]
        runs = list(zip(bounds, bounds[1:], strict=False))
        run_scales = [s_w] if len(runs) == 1 else [weight_scale(w_oihw[a:b]) for a, b in runs]
        s_ch = np.repeat(run_scales, np.diff(bounds))  # weight scale per output channel
        wq = quantize_array(w_oihw, s_ch.reshape(-1, 1, 1, 1))
        hwio = np.ascontiguousarray(wq.transpose(2, 3, 1, 0))
        wv = self.const(hwio, i8, hint, op.loc)
        operands = [x, wv]
        if in_mean is not None and int(geometry["group"]) in (1, w_oihw.shape[0]) and \
                not any(int(p) for p in geometry["pads"]):
            bias = _bias_corrected(bias, wq * s_ch.reshape(-1, 1, 1, 1) - w_oihw, in_mean,
                                   int(geometry["group"]))
        if bias is not None:
            q = quantize_array(bias, s_x * s_ch, -(1 << 31), (1 << 31) - 1, np.int32)
            operands.append(self.const(q, i32, None, op.loc))
        act = op.attr("fused_act") if fused else None
        attrs = {**geometry, **self._requant_attrs(s_x, run_scales[0], s_o, act),
                 "in_scale": f32a(s_x), "w_scale": f32a(run_scales[0]), "out_scale": f32a(s_o),
                 **(extra or {})}
        if len(runs) > 1:
            attrs["k_splits"] = [int(b) for b in bounds]
            attrs["split_multipliers"] = [
                self._requant_attrs(s_x, r, s_o, act)["multiplier"] for r in run_scales]
        return self.emit(qgraph.ConvOp(operands, [out_type], attrs, loc=op.loc)).result

    def _combine(self, op: Operation, high: Value, low: Value, out_type: TensorType) -> Value:
        """act(high + low) of a two-digit conv/matmul: one resadd at unit scales (both
        halves are already at the output scale, so only the sum saturates)."""
        act = op.attr("fused_act")
        one = f32a(1.0)
        attrs = {"a_scale": one, "b_scale": one, "c_scale": one,
                 "act": "relu" if act in ("relu", "relu6") else "none"}
        return self.emit(qgraph.AddOp([high, low], [out_type], attrs, loc=op.loc)).result

    def _channels(self, x: Value, chans: np.ndarray, op: Operation) -> Value:
        """x[:, chans] as a gather with constant indices (a table on the host)."""
        shape = list(x.type.shape)
        shape[1] = chans.size
        idx = self.const(np.asarray(chans, np.int64), i64, None, op.loc)
        gather = OP_CLASSES["Gather"]([x, idx], [TensorType(shape, x.type.element)],
                                      {"axis": 1}, loc=op.loc)
        return self.emit(gather).result

    def _matmul_like(self, op: Operation, a: Value, b: Value, trans_a: bool, trans_b: bool,
                     alpha: float) -> None:
        x, s_x = self.get(a)
        if trans_a:
            x = self._swap_last(x, op)
        w = const_value(b)
        if w is not None:
            w = (w.T if trans_b else w).astype(np.float64) * alpha
            s_w = _forced_scale(b) if alpha == 1.0 and _forced_scale(b) else weight_scale(w)
            wv = self.const(np.ascontiguousarray(quantize_array(w, s_w)), i8, b.name_hint,
                            op.loc)
        else:
            if alpha != 1.0:
                raise PassError(f"{op.loc.prefix()}: Gemm alpha with a non-constant B")
            wv, s_w = self.get(b)
            if trans_b:
                wv = self._swap_last(wv, op)
        act = op.attr("fused_act")
        s_o = self.scale(op.results[0], act)
        bias = self._bias(op, 2, s_x * s_w, op.results[0].type.shape[-1])
        digits = self.digits.get(id(a)) if w is not None else None
        out_type = self.out_type(op.results[0])
        if digits is None and id(op.results[0]) in self.accumulators:
            accumulator = TensorType(out_type.shape, i32)
            new = self.emit(qgraph.MatmulOp(
                [x, wv] + ([bias] if bias is not None else []), [accumulator],
                {"multiplier": f32a(1.0), "act": "none"}, loc=op.loc)).result
            self.set(op.results[0], new, s_x * s_w)
            return
        new = self.emit(qgraph.MatmulOp(
            [x, wv] + ([bias] if bias is not None else []), [out_type],
            self._requant_attrs(s_x, s_w, s_o, act if digits is None else None),
            loc=op.loc)).result
        if digits is not None:
            lo = self._swap_last(digits[0], op) if trans_a else digits[0]
            low = self.emit(qgraph.MatmulOp([lo, wv], [out_type],
                                            self._requant_attrs(digits[1], s_w, s_o, None),
                                            loc=op.loc)).result
            new = self._combine(op, new, low, out_type)
        self.set(op.results[0], new, s_o)

    def _swap_last(self, x: Value, op: Operation) -> Value:
        shape = list(x.type.shape)
        perm = list(range(len(shape)))
        perm[-1], perm[-2] = perm[-2], perm[-1]
        ty = TensorType([shape[p] for p in perm], x.type.element)
        return self.emit(OP_CLASSES["Transpose"]([x], [ty], {"perm": perm}, loc=op.loc)).result

    def op_gemm(self, op: Operation) -> None:
        self._matmul_like(op, op.operands[0], op.operands[1], bool(op.attr("transA", 0)),
                          bool(op.attr("transB", 0)), float(op.attr("alpha", 1.0)))

    def op_matmul(self, op: Operation) -> None:
        self._matmul_like(op, op.operands[0], op.operands[1], False, False, 1.0)

    # -- element-wise ----------------------------------------------------------------------
    def op_add(self, op: Operation, negate: bool = False) -> None:
        (a, s_a), (b, s_b) = self.get(op.operands[0]), self.get(op.operands[1])
        if s_a is None or s_b is None:
            raise PassError(f"{op.loc.prefix()}: cannot quantize an add of integer tensors")
        act = op.attr("fused_act")
        s_o = self.scale(op.results[0], act)
        wide = id(op.results[0]) in self.wide  # int16 on the host: operands to s_o, in int16
        s_i = s_o if wide else max(s_a, s_b)
        if not wide:
            self._note_resadd(op, s_a, s_b)
        attrs = {"a_scale": f32a(s_a / s_i), "b_scale": f32a((-s_b if negate else s_b) / s_i),
                 "c_scale": f32a(s_i / s_o),
                 "act": "relu" if act in ("relu", "relu6") else "none"}
        new = qgraph.AddOp([a, b], [self.out_type(op.results[0])], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def _note_resadd(self, op: Operation, s_a: float, s_b: float) -> None:
        """A model's own add of tensors at different scales loses resolution: Gemmini's
        resadd scales each int8 operand to the larger scale, in int8, before the sum."""
        if s_a == s_b or _forced_scale(op.operands[0]) is None or \
                _forced_scale(op.operands[1]) is None:
            return
        fine, coarse = min(s_a, s_b), max(s_a, s_b)
        self.notes.append({
            "node": op.loc.prefix(),
            "change": f"operand at scale {fine:.6g} rounded to int8 at the other operand's "
                      f"scale {coarse:.6g} before the sum ({coarse / fine:.3g}x coarser)",
            "why": "Gemmini's resadd scales each int8 operand into int8 (by at most 1, so "
                   "it cannot saturate) before adding"})

    def op_sub(self, op: Operation) -> None:
        self.op_add(op, negate=True)

    def op_sum(self, op: Operation) -> None:
        if len(op.operands) == 1:
            self.set(op.results[0], *self.get(op.operands[0]))
            return
        if len(op.operands) != 2:
            raise PassError(f"{op.loc.prefix()}: Sum of more than two tensors")
        self.op_add(op)

    def _scalar_rescale(self, op: Operation, factor: float) -> None:
        x, s_x = self.get(op.operands[0])
        s_o = self.scale(op.results[0])
        new = qgraph.RequantOp([x], [self.out_type(op.results[0])],
                               {"multiplier": f32a(s_x * factor / s_o)}, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def op_mul(self, op: Operation) -> None:
        silu = silu_input(op)
        if silu is not None:  # x * sigmoid(x) of one int8 x: one table, one rounding
            x, s_x = self.get(silu)
            if s_x is not None:
                xs = s_x * np.arange(-128, 128, dtype=np.float64)
                with np.errstate(over="ignore"):
                    self._table(op, x, xs / (1.0 + np.exp(-xs)), "silu")
                return
        for i in (1, 0):
            c = const_value(op.operands[i])
            if c is not None and c.size == 1 and op.operands[1 - i].type == op.results[0].type:
                if i == 0:
                    op.set_operands([op.operands[1], op.operands[0]])
                self._scalar_rescale(op, float(c.reshape(())))
                return
        (a, s_a), (b, s_b) = self.get(op.operands[0]), self.get(op.operands[1])
        s_o = self.scale(op.results[0])
        m = f32a(s_a * s_b / s_o)
        new = qgraph.MulOp([a, b], [self.out_type(op.results[0])], {"multiplier": m},
                           loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)
        if id(op.results[0]) in self.digit_values:
            lo = qgraph.MulOp([a, b], [TensorType(op.results[0].type.shape, i8)],
                              {"multiplier": m, "residual_multiplier": f32a(LO_STEPS)},
                              loc=op.loc)
            self.digits[id(op.results[0])] = (self.emit(lo).result, s_o / LO_STEPS)

    def op_pow(self, op: Operation) -> None:
        """x ** c for a constant scalar c is a table; a tensor exponent has no int8 form."""
        c = const_value(op.operands[1])
        if c is None or c.size != 1:
            raise PassError(f"{op.loc.prefix()}: Pow needs a constant scalar exponent")
        self._lut(op)

    def op_div(self, op: Operation) -> None:
        c = const_value(op.operands[1])
        if c is not None and c.size == 1 and float(c.reshape(())) != 0.0 and \
                op.operands[0].type == op.results[0].type:
            self._scalar_rescale(op, 1.0 / float(c.reshape(())))
            return
        (a, s_a), (b, s_b) = self.get(op.operands[0]), self.get(op.operands[1])
        if s_a is None or s_b is None:
            raise PassError(f"{op.loc.prefix()}: cannot quantize a division of integer tensors")
        s_o = self.scale(op.results[0])
        new = qgraph.DivOp([a, b], [self.out_type(op.results[0])],
                           {"multiplier": f32a(s_a / (s_b * s_o))}, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def _lut(self, op: Operation) -> None:
        x, s_x = self.get(op.operands[0])
        if s_x is None:
            raise PassError(f"{op.loc.prefix()}: '{op.name}' on an integer tensor")
        xs = s_x * np.arange(-128, 128, dtype=np.float64)
        extra = [const_value(v) for v in op.operands[1:]]
        with np.errstate(all="ignore"):
            ys = run_op(op, [xs] + [None if e is None else e.astype(np.float64)
                                    for e in extra], self.opset)[0]
        self._table(op, x, ys, op.name[6:])

    def _table(self, op: Operation, x: Value, ys: np.ndarray, function: str) -> None:
        """op's result as the 256-entry table `ys` (its float value at each int8 input);
        a two-digit value (wide_activations) also gets the table of its low digit."""
        s_o = self.scale(op.results[0])
        ys = np.nan_to_num(np.asarray(ys, np.float64))
        high = np.clip(np.rint(ys / s_o), -128, 127)
        ty = TensorType((256,), i8)
        new = qgraph.LutOp([x], [self.out_type(op.results[0])],
                           {"table": DenseAttr(high.astype(np.int8), ty), "function": function},
                           loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)
        if id(op.results[0]) in self.digit_values:
            s_lo = s_o / LO_STEPS
            low = np.clip(np.rint((ys - high * s_o) / s_lo), -128, 127).astype(np.int8)
            lo = qgraph.LutOp([x], [TensorType(op.results[0].type.shape, i8)],
                              {"table": DenseAttr(low, ty), "function": function + "_lo"},
                              loc=op.loc)
            self.digits[id(op.results[0])] = (self.emit(lo).result, s_lo)

    # -- pooling, normalisation ------------------------------------------------------------
    def op_max_pool(self, op: Operation) -> None:
        x, s_x = self.get(op.operands[0])
        kernel, strides, pads, dil = pool_params(op, np.empty(op.operands[0].type.shape))
        attrs = {"kernel": kernel, "strides": strides, "pads": pads, "dilations": dil,
                 "ceil_mode": int(op.attr("ceil_mode", 0))}
        new = qgraph.MaxPoolOp([x], [self.out_type(op.results[0])], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_x)

    def op_global_max_pool(self, op: Operation) -> None:
        x, s_x = self.get(op.operands[0])
        shape = op.operands[0].type.shape
        attrs = {"kernel": list(shape[2:]), "strides": [1, 1], "pads": [0, 0, 0, 0],
                 "dilations": [1, 1], "ceil_mode": 0}
        new = qgraph.MaxPoolOp([x], [self.out_type(op.results[0])], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_x)

    def _avg(self, op: Operation, attrs: dict[str, Any]) -> None:
        x, s_x = self.get(op.operands[0])
        s_o = self.scale(op.results[0])
        attrs["multiplier"] = f32a(s_x / s_o)
        new = qgraph.AvgPoolOp([x], [self.out_type(op.results[0])], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def op_average_pool(self, op: Operation) -> None:
        kernel, strides, pads, dil = pool_params(op, np.empty(op.operands[0].type.shape))
        if dil != [1, 1]:
            raise PassError(f"{op.loc.prefix()}: dilated AveragePool is not supported")
        self._avg(op, {"kernel": kernel, "strides": strides, "pads": pads,
                       "ceil_mode": int(op.attr("ceil_mode", 0)),
                       "count_include_pad": int(op.attr("count_include_pad", 0))})

    def op_global_average_pool(self, op: Operation) -> None:
        shape = op.operands[0].type.shape
        if len(shape) != 4:
            raise PassError(f"{op.loc.prefix()}: GlobalAveragePool needs a rank-4 input")
        self._avg(op, {"kernel": list(shape[2:]), "strides": [1, 1], "pads": [0, 0, 0, 0],
                       "ceil_mode": 0, "count_include_pad": 1})

    def op_reduce_mean(self, op: Operation) -> None:
        x, s_x = self.get(op.operands[0])
        rank = op.operands[0].type.rank
        axes = op.attr("axes")
        if axes is None and len(op.operands) > 1:
            axes = const_value(op.operands[1]).reshape(-1).tolist()
        axes = list(range(rank)) if not axes else [int(a) % rank for a in axes]
        s_o = self.scale(op.results[0])
        attrs = {"axes": axes, "keepdims": int(op.attr("keepdims", 1)),
                 "multiplier": f32a(s_x / s_o)}
        new = qgraph.ReduceMeanOp([x], [self.out_type(op.results[0])], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def _reduce_input(self, op: Operation) -> tuple[Value, float, list[int]] | None:
        """A Reduce*'s int8 input, its scale and the reduced axes; None (the result is the
        input) when no axis is reduced."""
        x, s_x = self.get(op.operands[0])
        if s_x is None:
            raise PassError(f"{op.loc.prefix()}: '{op.name}' on an integer tensor")
        axes = list(evaluate.reduce_axes(op, np.empty(op.operands[0].type.shape),
                                         [None, *(const_value(v) for v in op.operands[1:])]))
        if not axes:
            self.set(op.results[0], x, s_x)
            return None
        return x, s_x, axes

    def _reduce(self, op: Operation, kind: str) -> None:
        reduced = self._reduce_input(op)
        if reduced is None:
            return
        x, s_x, axes = reduced
        exact = kind in ("max", "min")
        s_o = s_x if exact else self.scale(op.results[0])
        per = s_x * s_x if kind == "sum_square" else s_x
        attrs = {"reduction": kind, "axes": axes, "keepdims": int(op.attr("keepdims", 1)),
                 "multiplier": f32a(1.0 if exact else per / s_o)}
        if kind == "prod":
            attrs.update(multiplier=f32a(1.0 / s_o), in_scale=f32a(s_x))
        new = qgraph.ReduceOp([x], [self.out_type(op.results[0])], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def op_reduce_sum(self, op: Operation) -> None:
        self._reduce(op, "sum")

    def op_reduce_max(self, op: Operation) -> None:
        self._reduce(op, "max")

    def op_reduce_min(self, op: Operation) -> None:
        self._reduce(op, "min")

    def op_reduce_l1(self, op: Operation) -> None:
        self._reduce(op, "l1")

    def op_reduce_l2(self, op: Operation) -> None:
        self._reduce(op, "l2")

    def op_reduce_sum_square(self, op: Operation) -> None:
        self._reduce(op, "sum_square")

    def op_reduce_prod(self, op: Operation) -> None:
        self._reduce(op, "prod")

    def op_reduce_log_sum_exp(self, op: Operation) -> None:
        """The softmax exp table (2^20 = 1.0), then log of the sum from its top 9 bits."""
        reduced = self._reduce_input(op)
        if reduced is None:
            return
        x, s_x, axes = reduced
        s_o = self.scale(op.results[0])
        d = np.arange(-255, 1, dtype=np.float64)
        exp_table = np.rint(np.exp(s_x * d) * SOFTMAX_ONE).astype(np.int32)
        log_table = np.rint(np.log(np.arange(256, 512) / 256.0) * SOFTMAX_ONE).astype(np.int32)
        attrs = {"axes": axes, "keepdims": int(op.attr("keepdims", 1)),
                 "exp_table": DenseAttr(exp_table, TensorType((256,), i32)),
                 "log_table": DenseAttr(log_table, TensorType((256,), i32)),
                 "a": int(round(s_x * SOFTMAX_ONE)),
                 "ln2_q": int(round(np.log(2.0) * SOFTMAX_ONE)),
                 "multiplier": f32a(1.0 / (SOFTMAX_ONE * s_o))}
        new = qgraph.ReduceLogSumExpOp([x], [self.out_type(op.results[0])], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def op_softmax(self, op: Operation) -> None:
        self.set(op.results[0], self._softmax(op), 1.0 / 127.0)

    def op_log_softmax(self, op: Operation) -> None:
        """LogSoftmax = the integer softmax (scale 1/127), then a 256-entry log table to the
        calibrated output scale (probabilities below 1/254 saturate to the table minimum)."""
        p = self._softmax(op)
        s_o = self.scale(op.results[0])
        with np.errstate(all="ignore"):
            ys = np.log(np.arange(-128, 128, dtype=np.float64) / 127.0)
        table = np.clip(np.rint(np.nan_to_num(ys / s_o, nan=-128.0)), -128, 127).astype(np.int8)
        new = qgraph.LutOp([p], [self.out_type(op.results[0])],
                           {"table": DenseAttr(table, TensorType((256,), i8)),
                            "function": "log_softmax"}, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def _softmax(self, op: Operation) -> Value:
        """The integer softmax of Softmax/LogSoftmax's input along its axis (scale 1/127)."""
        x, s_x = self.get(op.operands[0])
        rank = op.operands[0].type.rank
        shape = list(op.operands[0].type.shape)
        axis = int(op.attr("axis", -1 if self.opset >= 13 else 1)) % rank
        coerce = self.opset < 13 and axis != rank - 1
        if coerce:  # opset < 13: softmax over the flattened trailing dims
            flat = [int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))]
            x = self._reshape(x, flat, op)
            axis = 1
        d = np.arange(-255, 1, dtype=np.float64)
        table = np.rint(np.exp(s_x * d) * SOFTMAX_ONE).astype(np.int32)
        attrs = {"axis": axis,
                 "exp_table": DenseAttr(table, TensorType((256,), i32))}
        new = qgraph.SoftmaxOp([x], [TensorType(x.type.shape, i8)], attrs, loc=op.loc)
        y = self.emit(new).result
        if coerce:
            y = self._reshape(y, shape, op)
        return y

    def _reshape(self, x: Value, shape: list[int], op: Operation) -> Value:
        target = self.const(np.array(shape, np.int64), i64, None, op.loc)
        new = OP_CLASSES["Reshape"]([x, target], [TensorType(shape, x.type.element)],
                                    loc=op.loc)
        return self.emit(new).result

    def op_layer_norm(self, op: Operation) -> None:
        """Integer layer norm over the trailing axes from `axis` (flattened to one)."""
        x, s_x = self.get(op.operands[0])
        shape = list(op.operands[0].type.shape)
        rank = len(shape)
        axis = int(op.attr("axis", -1)) % rank
        h = int(np.prod(shape[axis:]))
        gamma = const_value(op.operands[1])
        beta = const_value(op.operands[2]) if len(op.operands) > 2 else np.zeros(shape[axis:])
        if gamma is None or beta is None:
            raise PassError(f"{op.loc.prefix()}: LayerNormalization needs constant scale/bias")
        gamma = np.broadcast_to(gamma.astype(np.float64), shape[axis:]).reshape(-1)
        beta = np.broadcast_to(beta.astype(np.float64), shape[axis:]).reshape(-1)
        if axis != rank - 1:
            x = self._reshape(x, [int(np.prod(shape[:axis])), h], op)
        s_o = self.scale(op.results[0])
        s_g = max(float(np.abs(gamma).max()), 1e-30) / 32767.0
        z_unit = s_g * 2.0 ** -LN_FRAC_BITS
        eps_term = int(round(float(op.attr("epsilon", 1e-5)) * h ** 3 / s_x ** 2))
        span = 255 if x.type.element is i8 else 65535  # int16 input: a widened tensor
        s_max = h * (span * h) ** 2 + eps_term
        frac = int(max(0, min(12, (62 - s_max.bit_length()) // 2)))
        k = int(round(np.sqrt(h) * 2.0 ** (frac + LN_FRAC_BITS)))
        gq = self.const(quantize_array(gamma, s_g, -32767, 32767, np.int16), i16, None, op.loc)
        bq = self.const(np.rint(beta / z_unit).astype(np.int64), i64, None, op.loc)
        attrs = {"eps_term": eps_term, "sqrt_frac_bits": frac, "k": k,
                 "multiplier": f32a(z_unit / s_o)}
        new = qgraph.LayerNormOp([x, gq, bq], [TensorType(x.type.shape, i8)], attrs,
                                 loc=op.loc)
        y = self.emit(new).result
        if axis != rank - 1:
            y = self._reshape(y, shape, op)
        self.set(op.results[0], y, s_o)

    def op_lrn(self, op: Operation) -> None:
        x, s_x = self.get(op.operands[0])
        size = int(op.attr("size"))
        alpha, beta = float(op.attr("alpha", 1e-4)), float(op.attr("beta", 0.75))
        bias = float(op.attr("bias", 1.0))
        max_sq = size * 128 * 128
        shift = max(0, max_sq.bit_length() - LRN_TABLE_BITS)
        centre = (np.arange((max_sq >> shift) + 1, dtype=np.float64) + 0.5) * (1 << shift)
        centre = np.minimum(centre, max_sq) if shift else centre - 0.5
        factor = (bias + alpha / size * s_x * s_x * centre) ** -beta
        table = np.rint(factor * LRN_ONE).astype(np.int32)
        s_o = self.scale(op.results[0])
        attrs = {"size": size, "shift": shift,
                 "factor_table": DenseAttr(table, TensorType(table.shape, i32)),
                 "multiplier": f32a(s_x / (LRN_ONE * s_o))}
        new = qgraph.LrnOp([x], [self.out_type(op.results[0])], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def op_resize(self, op: Operation) -> None:
        x, s_x = self.get(op.operands[0])
        shape = op.operands[0].type.shape
        consts = [None if isinstance(getattr(v, "op", None), NoneOp) else const_value(v)
                  for v in op.operands[1:]]
        if op.attr("mode", "nearest") == "linear":
            self._resize_linear(op, x, s_x, [None, *consts])
            return
        if op.attr("mode", "nearest") != "nearest":
            raise PassError(f"{op.loc.prefix()}: only nearest and linear Resize can be "
                            f"quantized")
        scales, sizes = evaluate.resize_plan(op, np.empty(shape), [None, *consts])
        mode = op.attr("coordinate_transformation_mode", "half_pixel")
        nearest = op.attr("nearest_mode", "round_prefer_floor")
        if op.name == "graph.upsample":
            mode, nearest = "asymmetric", "floor"
        idx = [evaluate.resize_nearest_index(d, o, s, mode, nearest).tolist()
               for d, o, s in zip(shape, sizes, scales, strict=False)]
        new = qgraph.ResizeOp([x], [self.out_type(op.results[0])], {"indices": idx},
                              loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_x)

    op_upsample = op_resize

    def _resize_linear(self, op: Operation, x: Value, s_x: float, args: list[Any]) -> None:
        """Integer weights with F fractional bits per resized axis (F * axes <= 16, so the
        accumulator stays exact in float32); the output keeps the input scale."""
        shape = op.operands[0].type.shape
        evaluate.check_linear(op)
        scales, sizes = evaluate.resize_plan(op, np.empty(shape), args)
        axes = evaluate.resized_axes(shape, scales, sizes)
        frac = 16 // max(1, len(axes))
        mode = op.attr("coordinate_transformation_mode", "half_pixel")
        rows = []
        for axis, size in enumerate(sizes):
            if axis not in axes:
                o = np.arange(size)
                rows.append(np.stack([o, o, np.ones(size), np.zeros(size)], 1))
                continue
            i0, i1, w1 = linear_coefficients(shape[axis], size, scales[axis], mode)
            w1q = np.rint(w1 * (1 << frac))
            rows.append(np.stack([i0, i1, (1 << frac) - w1q, w1q], 1))
        coef = np.concatenate(rows).astype(np.int32)
        attrs = {"coefficients": DenseAttr(coef, TensorType(coef.shape, i32)),
                 "multiplier": f32a(2.0 ** -(frac * len(axes)))}
        new = qgraph.ResizeLinearOp([x], [self.out_type(op.results[0])], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_x)

    # -- selection -------------------------------------------------------------------------
    def _arg(self, op: Operation, largest: bool) -> None:
        x, s_x = self.get(op.operands[0])
        if s_x is None:
            raise PassError(f"{op.loc.prefix()}: '{op.name}' on an integer tensor")
        attrs = {"axis": int(op.attr("axis", 0)) % op.operands[0].type.rank,
                 "keepdims": int(op.attr("keepdims", 1)), "largest": int(largest),
                 "select_last_index": int(op.attr("select_last_index", 0))}
        new = qgraph.ArgMaxOp([x], [op.results[0].type], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, None)

    def op_arg_max(self, op: Operation) -> None:
        self._arg(op, True)

    def op_arg_min(self, op: Operation) -> None:
        self._arg(op, False)

    def op_top_k(self, op: Operation) -> None:
        x, s_x = self.get(op.operands[0])
        k = const_value(op.operands[1])
        if s_x is None or k is None:
            raise PassError(f"{op.loc.prefix()}: TopK needs a float input and a constant K")
        shape = list(op.operands[0].type.shape)
        axis = int(op.attr("axis", -1)) % len(shape)
        shape[axis] = int(k.reshape(-1)[0])
        attrs = {"axis": axis, "k": shape[axis], "largest": int(op.attr("largest", 1))}
        new = self.emit(qgraph.TopKOp([x], [TensorType(shape, i8), TensorType(shape, i64)],
                                      attrs, loc=op.loc))
        for old, res, s in zip(op.results, new.results, (s_x, None), strict=False):
            self.set(old, res, s)

    # -- data movement ---------------------------------------------------------------------
    def op_identity(self, op: Operation) -> None:
        """An identity (what fold-qdq leaves of a Q/DQ pair) is its input: no copy."""
        self.set(op.results[0], *self.get(op.operands[0]))

    def _movement(self, op: Operation) -> None:
        x, s_x = self.get(op.operands[0])
        rest = [self.get(v)[0] for v in op.operands[1:]]
        new = type(op)([x, *rest], [self.out_type(r) for r in op.results],
                       dict(op.attributes), loc=op.loc)
        self.emit(new)
        for old, res in zip(op.results, new.results, strict=False):
            self.set(old, res, None if old.type.element is not f32 else s_x)

    def op_concat(self, op: Operation) -> None:
        s_o = self.scale(op.results[0])
        parts = []
        for v in op.operands:
            x, s_x = self.get(v)
            if s_x is not None and np.float32(s_x / s_o) != np.float32(1.0):
                rq = qgraph.RequantOp([x], [x.type], {"multiplier": f32a(s_x / s_o)},
                                      loc=op.loc)
                x = self.emit(rq).result
            parts.append(x)
        new = type(op)(parts, [self.out_type(op.results[0])], dict(op.attributes), loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def op_where(self, op: Operation) -> None:
        """Where selects elements: both branches are requantised to the output scale (as
        Concat's inputs); with a constant condition it is a gather, else a host select."""
        cond = self.get(op.operands[0])[0]
        s_o = self.scale(op.results[0])
        parts = []
        for v in op.operands[1:]:
            x, s_x = self.get(v)
            if s_x is None:
                raise PassError(f"{op.loc.prefix()}: Where of integer tensors")
            if np.float32(s_x / s_o) != np.float32(1.0):
                x = self.emit(qgraph.RequantOp([x], [x.type], {"multiplier": f32a(s_x / s_o)},
                                               loc=op.loc)).result
            parts.append(x)
        if const_value(op.operands[0]) is None:
            new = qgraph.SelectOp([cond, *parts], [self.out_type(op.results[0])], loc=op.loc)
        else:
            new = type(op)([cond, *parts], [self.out_type(op.results[0])],
                           dict(op.attributes), loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_o)

    def _compare(self, op: Operation) -> None:
        (a, s_a), (b, s_b) = self.get(op.operands[0]), self.get(op.operands[1])
        if s_a is None or s_b is None:
            raise PassError(f"{op.loc.prefix()}: cannot quantize a comparison of integer "
                            f"tensors")
        attrs = {"predicate": op.name.split(".", 1)[1], "a_scale": f32a(s_a),
                 "b_scale": f32a(s_b)}
        new = qgraph.CompareOp([a, b], [op.results[0].type], attrs, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, None)

    op_equal = op_less = op_greater = op_less_or_equal = op_greater_or_equal = _compare

    def _logic(self, op: Operation) -> None:
        new = qgraph.LogicOp([self.get(v)[0] for v in op.operands], [op.results[0].type],
                             {"function": op.name.split(".", 1)[1]}, loc=op.loc)
        self.set(op.results[0], self.emit(new).result, None)

    op_not = op_and = op_or = op_xor = _logic

    def op_pad(self, op: Operation) -> None:
        value = const_value(op.operands[2]) if len(op.operands) > 2 and not isinstance(
            getattr(op.operands[2], "op", None), NoneOp) else None
        if (value is not None and float(value.reshape(())) != 0.0) or \
                float(op.attr("value", 0.0)) != 0.0:
            raise PassError(f"{op.loc.prefix()}: Pad with a non-zero value")
        if value is not None:
            op.set_operands(list(op.operands[:2]))
        self._movement(op)

    def op_gather(self, op: Operation) -> None:
        table = const_value(op.operands[0])
        if table is None:
            self._movement(op)
            return
        s_t = weight_scale(table)
        tq = self.const(quantize_array(table, s_t), i8, op.operands[0].name_hint, op.loc)
        idx, _ = self.get(op.operands[1])
        new = type(op)([tq, idx], [self.out_type(op.results[0])], dict(op.attributes),
                       loc=op.loc)
        self.set(op.results[0], self.emit(new).result, s_t)


def _bias_corrected(bias: np.ndarray | None, w_error: np.ndarray, in_mean: np.ndarray,
                    group: int) -> np.ndarray:
    """The bias minus the mean output shift that rounding the weights causes: sum over
    taps and input channels of (quantized - float weight) * E[input channel] (a dense
    conv, group 1, or a depthwise one); padding is ignored."""
    taps = np.asarray(w_error, np.float64).sum(axis=(2, 3))  # [K, C / group]
    mean = np.asarray(in_mean, np.float64)
    shift = taps @ mean if group == 1 else taps[:, 0] * mean
    return (np.zeros(w_error.shape[0]) if bias is None else bias) - shift


def _forced_scale(value: Value) -> float | None:
    """A scale fixed by the model itself (QDQ), recorded as `quant_scale` by fold-qdq."""
    owner = getattr(value, "op", None)
    if owner is not None and owner.attr("quant_scale") is not None:
        return float(owner.attr("quant_scale"))
    for user, _ in value.uses:
        if user.name == "graph.identity" and user.attr("quant_scale") is not None:
            return float(user.attr("quant_scale"))
    return None
