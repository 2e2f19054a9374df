"""`qgraph` dialect: int8 tensor ops with Gemmini's exact arithmetic.

Every scale an op needs is an f32 attribute, so the IR alone (plus an input) determines
every output bit; `dlac.ir.semantics.qgraph` is the numpy oracle for these semantics.
Tensors keep ONNX's logical layout (NCHW); conv weights are stored HWIO
([krow][kcol][in_ch][out_ch]) as Gemmini's `tiled_conv_auto` reads them. Requantisation
everywhere is ACC_SCALE: int32 -> float32 (RNE), one float32 multiply by `multiplier`,
round half to even, saturate to [-128, 127], then the activation.
"""

from __future__ import annotations

from dlac.ir.attributes import ArrayAttr, DenseAttr, FloatAttr, IntAttr, StringAttr
from dlac.ir.core import Operation
from dlac.ir.opdef import PURE, Attr, Operand, Result, register_op
from dlac.ir.types import TensorType, f32, i1, i8, i16, i32, i64

ACTIVATIONS = ("none", "relu")


def _f32(name: str, optional: bool = False, doc: str = "") -> Attr:
    return Attr(name, FloatAttr, optional=optional, doc=doc)


class _QOp(Operation):
    __slots__ = ()
    TRAITS = (PURE,)

    def _check_f32(self, *keys: str) -> None:
        for key in keys:
            found = self.attributes.get(key)
            if found is not None and found.type is not f32:
                raise self.error(f"'{key}' must be an f32 float")

    def _check_act(self) -> None:
        if self.attr("act", "none") not in ACTIVATIONS:
            raise self.error(f"act must be one of {ACTIVATIONS}")

    def _int8(self, *values: object) -> None:
        for v in values:
            if v is not None and v.type.element is not i8:
                raise self.error(f"expects int8 tensors, got {v.type}")

    def _int8_or_16(self, *values: object) -> None:
        """Host-only tensors may be int16 (passes/wide_tensors.py)."""
        for v in values:
            if v is not None and v.type.element not in (i8, i16):
                raise self.error(f"expects int8 or int16 tensors, got {v.type}")


@register_op
class QuantizeOp(_QOp):
    """f32 -> i8: sat(rne(x * multiplier)), multiplier = f32(1 / scale)."""

    __slots__ = ()
    NAME = "qgraph.quantize"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (_f32("scale"), _f32("multiplier"))

    def verify_(self) -> None:
        self._check_f32("scale", "multiplier")
        self._int8(self.results[0])


@register_op
class DequantizeOp(_QOp):
    """i8 (or a host-only i16) -> f32: float32(q) * scale."""

    __slots__ = ()
    NAME = "qgraph.dequantize"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (_f32("scale"),)

    def verify_(self) -> None:
        self._check_f32("scale")
        self._int8_or_16(self.operands[0])


@register_op
class ConvOp(_QOp):
    """Gemmini conv: out = act(ACC_SCALE(sum(x*w) + bias)); groups == C is depthwise.

    `input_dilation` (Gemmini's input_dilation) reads the input with zeros inserted between
    pixels; a ConvTranspose is quantized as such a conv with a flipped kernel.
    """

    __slots__ = ()
    NAME = "qgraph.conv"
    OPERANDS = (Operand("input", TensorType), Operand("weight", TensorType),
                Operand("bias", TensorType, optional=True))
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("strides", ArrayAttr), Attr("pads", ArrayAttr, doc="[top, left, bottom, right]"),
             Attr("dilations", ArrayAttr), Attr("group", IntAttr), _f32("multiplier"),
             Attr("act", StringAttr), _f32("in_scale"), _f32("w_scale"), _f32("out_scale"),
             Attr("input_dilation", ArrayAttr, optional=True),
             Attr("k_splits", ArrayAttr, optional=True,
                  doc="[0, .., K]: output-channel runs, each one call with its own weight "
                      "scale"),
             Attr("split_multipliers", ArrayAttr, optional=True,
                  doc="the f32 multiplier of each k_splits run (multiplier = the first)"))

    def verify_(self) -> None:
        self._check_f32("multiplier", "in_scale", "w_scale", "out_scale")
        self._check_act()
        x, w = self.operands[0].type, self.operands[1].type
        self._check_splits(w.shape[3])
        self._int8(self.operands[0], self.operands[1], self.results[0])
        if x.rank != 4 or w.rank != 4:
            raise self.error("expects a rank-4 NCHW input and an HWIO weight")
        g = self.attr("group")
        if w.shape[2] * g != x.shape[1] or w.shape[3] % g:
            raise self.error(f"weight {w} does not fit {x.shape[1]} input channels in "
                             f"{g} group(s)")
        if len(self.operands) == 3 and (self.operands[2].type.element is not i32
                                        or self.operands[2].type.shape != (w.shape[3],)):
            raise self.error("bias must be i32 with one entry per output channel")

    def _check_splits(self, k: int) -> None:
        splits, mults = self.attr("k_splits"), self.attributes.get("split_multipliers")
        if splits is None and mults is None:
            return
        bounds = [int(b) for b in splits or []]
        if len(bounds) < 2 or bounds[0] != 0 or bounds[-1] != k or \
                any(b >= c for b, c in zip(bounds, bounds[1:], strict=False)):
            raise self.error(f"k_splits {bounds} must rise from 0 to the {k} output channels")
        if self.attr("group") != 1 or mults is None or len(mults.value) != len(bounds) - 1 \
                or any(getattr(m, "type", None) is not f32 for m in mults.value):
            raise self.error("k_splits needs group 1 and one f32 split_multipliers entry per "
                             "run")


@register_op
class MatmulOp(_QOp):
    """Gemmini matmul: C[.., I, J] = act(ACC_SCALE(A[.., I, K] . B[.., K, J] + bias[J])).

    An i32 result is the int32 accumulator itself, A.B + bias (Gemmini's `full_C`), for
    host ops that read it at its scale s_A s_B (passes/wide_tensors.py): then act must be
    "none" and multiplier 1.
    """

    __slots__ = ()
    NAME = "qgraph.matmul"
    OPERANDS = (Operand("a", TensorType), Operand("b", TensorType),
                Operand("bias", TensorType, optional=True))
    RESULTS = (Result("output", TensorType),)
    ATTRS = (_f32("multiplier"), Attr("act", StringAttr))

    def verify_(self) -> None:
        self._check_f32("multiplier")
        self._check_act()
        a, b = self.operands[0].type, self.operands[1].type
        self._int8(self.operands[0], self.operands[1])
        if self.results[0].type.element is i32:
            if self.attr("act", "none") != "none" or float(self.attr("multiplier")) != 1.0:
                raise self.error("an i32 (accumulator) result needs act none, multiplier 1")
        else:
            self._int8(self.results[0])
        if a.rank < 2 or b.rank < 2 or a.shape[-1] != b.shape[-2]:
            raise self.error(f"inner dimensions of {a} and {b} do not match")


@register_op
class AddOp(_QOp):
    """Gemmini resadd: act(ACC_SCALE(MVIN_SCALE(a, a_scale) + MVIN_SCALE(b, b_scale), c_scale)).

    Operands broadcast as in ONNX; a negative `b_scale` makes it a subtraction. With an
    int16 result (a host-only tensor) every saturation is to int16 and it runs on the host;
    its operands may then be int16 or a matmul's int32 accumulator (MVIN_SCALE of int32).
    """

    __slots__ = ()
    NAME = "qgraph.add"
    OPERANDS = (Operand("lhs", TensorType), Operand("rhs", TensorType))
    RESULTS = (Result("output", TensorType),)
    ATTRS = (_f32("a_scale"), _f32("b_scale"), _f32("c_scale"), Attr("act", StringAttr))

    def verify_(self) -> None:
        self._check_f32("a_scale", "b_scale", "c_scale")
        self._check_act()
        self._int8_or_16(self.results[0])
        wide = self.results[0].type.element is i16
        for v in self.operands:
            if v.type.element not in ((i8, i16, i32) if wide else (i8,)):
                raise self.error(f"operand {v.type} does not fit an "
                                 f"{self.results[0].type.element} result")


class _QBinaryOp(_QOp):
    """Two broadcasting int8 operands, one int8 result, one fp32 output multiplier."""

    __slots__ = ()
    OPERANDS = (Operand("lhs", TensorType), Operand("rhs", TensorType))
    RESULTS = (Result("output", TensorType),)
    ATTRS = (_f32("multiplier"),)

    def verify_(self) -> None:
        self._check_f32("multiplier")
        self._int8(*self.operands, self.results[0])


@register_op
class MulOp(_QBinaryOp):
    """Host element-wise product: ACC_SCALE(int32(a) * int32(b), multiplier), broadcasting.

    With `residual_multiplier` r it is the product's low digit instead (a two-digit
    activation, passes/wide_activations.py): t = float32(a * b) * multiplier,
    hi = sat(rne(t)), result sat(rne(float32(t - hi) * r)).
    """

    __slots__ = ()
    NAME = "qgraph.mul"
    ATTRS = (_f32("multiplier"), _f32("residual_multiplier", optional=True))

    def verify_(self) -> None:
        super().verify_()
        self._check_f32("residual_multiplier")


@register_op
class DivOp(_QBinaryOp):
    """Host element-wise quotient of two int8 tensors, broadcasting (see arith.qdiv)."""

    __slots__ = ()
    NAME = "qgraph.div"


@register_op
class RequantOp(_QOp):
    """MVIN_SCALE: sat(rne(float32(x) * multiplier)); rescales between int8 scales."""

    __slots__ = ()
    NAME = "qgraph.requant"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (_f32("multiplier"),)

    def verify_(self) -> None:
        self._check_f32("multiplier")
        self._int8(self.operands[0], self.results[0])


@register_op
class LutOp(_QOp):
    """Element-wise unary function as a 256-entry table: y = table[x + 128]."""

    __slots__ = ()
    NAME = "qgraph.lut"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("table", DenseAttr), Attr("function", StringAttr, optional=True))

    def verify_(self) -> None:
        table = self.attributes["table"]
        if table.type is not TensorType((256,), i8):
            raise self.error("table must be dense<...> : tensor<256xi8>")
        self._int8(self.operands[0], self.results[0])


@register_op
class MaxPoolOp(_QOp):
    """Max over windows of an int8 NCHW tensor (padding never wins: it is -128)."""

    __slots__ = ()
    NAME = "qgraph.max_pool"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("kernel", ArrayAttr), Attr("strides", ArrayAttr), Attr("pads", ArrayAttr),
             Attr("dilations", ArrayAttr), Attr("ceil_mode", IntAttr))

    def verify_(self) -> None:
        self._int8(self.operands[0], self.results[0])


@register_op
class AvgPoolOp(_QOp):
    """Window mean: int32 sum, then ACC_SCALE with f32(multiplier / f32(count)).

    `count_include_pad` = 0 divides by the number of in-bounds elements per window.
    Global average pooling is a window covering the whole plane.
    """

    __slots__ = ()
    NAME = "qgraph.avg_pool"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("kernel", ArrayAttr), Attr("strides", ArrayAttr), Attr("pads", ArrayAttr),
             Attr("ceil_mode", IntAttr), Attr("count_include_pad", IntAttr), _f32("multiplier"))

    def verify_(self) -> None:
        self._check_f32("multiplier")
        self._int8(self.operands[0], self.results[0])


@register_op
class ReduceMeanOp(_QOp):
    """Mean over `axes`: int32 sum, ACC_SCALE with f32(multiplier / f32(count))."""

    __slots__ = ()
    NAME = "qgraph.reduce_mean"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("axes", ArrayAttr), Attr("keepdims", IntAttr), _f32("multiplier"))

    def verify_(self) -> None:
        self._check_f32("multiplier")
        self._int8(self.operands[0], self.results[0])


REDUCE_KINDS = ("sum", "max", "min", "l1", "sum_square", "l2", "prod")


@register_op
class ReduceOp(_QOp):
    """Reduction over `axes` in int64 (`reduction`): sum, max, min, l1 (sum |x|),
    sum_square (sum x^2), l2 (float32 sqrt of float32(sum x^2)); then ACC_SCALE by
    `multiplier` (max and min keep the input scale and are exact); prod multiplies the
    real values float32(x) * in_scale in float32, one element after the other in row-major
    order of the reduced axes, then MVIN_SCALE by `multiplier`."""

    __slots__ = ()
    NAME = "qgraph.reduce"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("reduction", StringAttr), Attr("axes", ArrayAttr), Attr("keepdims", IntAttr),
             _f32("multiplier"), _f32("in_scale", optional=True))

    def verify_(self) -> None:
        self._check_f32("multiplier")
        if self.attr("reduction") not in REDUCE_KINDS:
            raise self.error(f"reduction must be one of {REDUCE_KINDS}")
        self._int8(self.operands[0], self.results[0])


@register_op
class SoftmaxOp(_QOp):
    """Integer softmax along `axis` (output scale 1/127).

    e = exp_table[x - max(x) + 255] (int32 fixed point, built at compile time from the
    input scale), s = sum(e) in int64, y = floor((254 * e + s) / (2 * s)).
    """

    __slots__ = ()
    NAME = "qgraph.softmax"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("axis", IntAttr), Attr("exp_table", DenseAttr))

    def verify_(self) -> None:
        if self.attributes["exp_table"].type is not TensorType((256,), i32):
            raise self.error("exp_table must be tensor<256xi32>")
        self._int8(self.operands[0], self.results[0])


@register_op
class LayerNormOp(_QOp):
    """Integer layer norm over the last axis (length H); see reference.layer_norm.

    c = H*x - sum(x); S = sum(c^2) + eps_term; r = isqrt(S << 2F);
    z = div_round(c * k, r); acc = z * gamma[i] + beta[i]; y = ACC_SCALE(acc, multiplier).
    The input may be int16 (a host-only tensor); the output is int8.
    """

    __slots__ = ()
    NAME = "qgraph.layer_norm"
    OPERANDS = (Operand("input", TensorType), Operand("gamma", TensorType),
                Operand("beta", TensorType))
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("eps_term", IntAttr), Attr("sqrt_frac_bits", IntAttr), Attr("k", IntAttr),
             _f32("multiplier"))

    def verify_(self) -> None:
        self._check_f32("multiplier")
        self._int8_or_16(self.operands[0])
        self._int8(self.results[0])


@register_op
class ResizeOp(_QOp):
    """Nearest resize as a gather: `indices` holds the source index per output index, per axis."""

    __slots__ = ()
    NAME = "qgraph.resize"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("indices", ArrayAttr),)

    def verify_(self) -> None:
        idx = self.attr("indices")
        out = self.results[0].type.shape
        if len(idx) != len(out) or any(len(i) != o for i, o in zip(idx, out, strict=False)):
            raise self.error("one index list per axis, as long as the output axis")


@register_op
class LrnOp(_QOp):
    """Integer LRN across channels (axis 1) of an NCHW tensor.

    sq = sum of x^2 over the `size` channel window; y = ACC_SCALE(x * factor_table[sq >>
    shift], multiplier), where the table holds (bias + alpha/size * s^2 * sq)^-beta in
    fixed point, built at compile time.
    """

    __slots__ = ()
    NAME = "qgraph.lrn"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("size", IntAttr), Attr("shift", IntAttr), Attr("factor_table", DenseAttr),
             _f32("multiplier"))

    def verify_(self) -> None:
        self._check_f32("multiplier")
        self._int8(self.operands[0], self.results[0])
        table = self.attributes["factor_table"].type
        if table.element is not i32 or table.rank != 1:
            raise self.error("factor_table must be a 1-D i32 tensor")


@register_op
class ZeroInsertOp(_QOp):
    """Zeros between pixels: out[n, c, i * fh, j * fw] = x[n, c, i, j], zero elsewhere.

    The input of a transposed convolution run as a stride-1 conv (any element type).
    """

    __slots__ = ()
    NAME = "qgraph.zero_insert"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("factors", ArrayAttr, doc="[rows, cols]"),)

    def verify_(self) -> None:
        (n, c, h, w), (fh, fw) = self.operands[0].type.shape, self.attr("factors")
        want = (n, c, (h - 1) * fh + 1, (w - 1) * fw + 1)
        if self.results[0].type.shape != want:
            raise self.error(f"result shape must be {list(want)}")


@register_op
class ArgMaxOp(_QOp):
    """Index (i64) of the largest (`largest` = 1) or smallest int8 element along `axis`:
    the first such, or the last with `select_last_index`; ArgMax/ArgMin on int8 values."""

    __slots__ = ()
    NAME = "qgraph.arg_max"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("axis", IntAttr), Attr("keepdims", IntAttr), Attr("largest", IntAttr),
             Attr("select_last_index", IntAttr))

    def verify_(self) -> None:
        self._int8(self.operands[0])
        if self.results[0].type.element is not i64:
            raise self.error("result must be an i64 tensor")


@register_op
class TopKOp(_QOp):
    """The `k` largest (or smallest) int8 values along `axis`, sorted, equal values by
    lower index; values keep the input scale, indices are i64."""

    __slots__ = ()
    NAME = "qgraph.top_k"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("values", TensorType), Result("indices", TensorType))
    ATTRS = (Attr("axis", IntAttr), Attr("k", IntAttr), Attr("largest", IntAttr))

    def verify_(self) -> None:
        self._int8(self.operands[0], self.results[0])
        if self.results[1].type.element is not i64:
            raise self.error("indices must be an i64 tensor")


@register_op
class ResizeLinearOp(_QOp):
    """Linear Resize in integers: per output index o of every axis, `coefficients` holds
    (i0, i1, w0, w1) (rows in axis order), acc = sum over the 2^rank corners of the product
    of weights times x, y = ACC_SCALE(acc, multiplier); the weights of a resized axis sum
    to 2^F (multiplier 2^-sum F), those of an untouched axis are (o, o, 1, 0)."""

    __slots__ = ()
    NAME = "qgraph.resize_linear"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("coefficients", DenseAttr), _f32("multiplier"))

    def verify_(self) -> None:
        self._check_f32("multiplier")
        self._int8(self.operands[0], self.results[0])
        coef = self.attributes["coefficients"].type
        if coef.element is not i32 or coef.shape != (sum(self.results[0].type.shape), 4):
            raise self.error("coefficients must be i32 [sum of output dims, 4]")


PREDICATES = ("equal", "less", "greater", "less_or_equal", "greater_or_equal")


@register_op
class CompareOp(_QOp):
    """Element-wise comparison of two int8 tensors (broadcasting) by their real values:
    float32(a) * a_scale `predicate` float32(b) * b_scale, each product one float32
    multiply; the result is i1."""

    __slots__ = ()
    NAME = "qgraph.compare"
    OPERANDS = (Operand("lhs", TensorType), Operand("rhs", TensorType))
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("predicate", StringAttr), _f32("a_scale"), _f32("b_scale"))

    def verify_(self) -> None:
        self._check_f32("a_scale", "b_scale")
        self._int8(*self.operands)
        if self.attr("predicate") not in PREDICATES:
            raise self.error(f"predicate must be one of {PREDICATES}")
        if self.results[0].type.element is not i1:
            raise self.error("result must be an i1 tensor")


@register_op
class SelectOp(_QOp):
    """Where with a run-time condition: cond ? a : b, element-wise with broadcasting, a
    and b already at the output scale."""

    __slots__ = ()
    NAME = "qgraph.select"
    OPERANDS = (Operand("cond", TensorType), Operand("lhs", TensorType),
                Operand("rhs", TensorType))
    RESULTS = (Result("output", TensorType),)

    def verify_(self) -> None:
        self._int8(*self.operands[1:], self.results[0])


@register_op
class ReduceLogSumExpOp(_QOp):
    """log(sum(exp(x))) over `axes` in integers: m = max(x), S = sum(exp_table[x - m +
    255]) (2^20 = 1.0, as softmax's table), k = bitlength(S) - 9, L = log_table[(S >> k) -
    256] + (k - 12) * ln2_q (log of S / 2^20 in units of 2^-20), acc = m * a + L with
    a = rne(s_x 2^20), y = ACC_SCALE(acc, multiplier)."""

    __slots__ = ()
    NAME = "qgraph.reduce_log_sum_exp"
    OPERANDS = (Operand("input", TensorType),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("axes", ArrayAttr), Attr("keepdims", IntAttr), Attr("exp_table", DenseAttr),
             Attr("log_table", DenseAttr), Attr("a", IntAttr), Attr("ln2_q", IntAttr),
             _f32("multiplier"))

    def verify_(self) -> None:
        self._check_f32("multiplier")
        self._int8(self.operands[0], self.results[0])
        for key in ("exp_table", "log_table"):
            if self.attributes[key].type is not TensorType((256,), i32):
                raise self.error(f"{key} must be tensor<256xi32>")


@register_op
class LogicOp(_QOp):
    """Boolean not / and / or / xor of i1 tensors (broadcasting); exact."""

    __slots__ = ()
    NAME = "qgraph.logic"
    OPERANDS = (Operand("inputs", TensorType, variadic=True),)
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("function", StringAttr),)

    def verify_(self) -> None:
        arity = 1 if self.attr("function") == "not" else 2
        if self.attr("function") not in ("not", "and", "or", "xor") or \
                len(self.operands) != arity:
            raise self.error("function must be not (one operand) or and/or/xor (two)")
        if any(v.type.element is not i1 for v in (*self.operands, self.results[0])):
            raise self.error("operands and result must be i1 tensors")
