"""Frontend additions to the `loop` dialect: constant buffers, host calls, and the scalar
int8 operations host loop nests are made of.

Scalar ops mirror `qgraph` arithmetic exactly (see dlac.ir.semantics.qgraph): e.g.
`loop.requant` is ACC_SCALE - float32(x) * multiplier, round half to even, saturate to
int8, then the activation.
"""

from __future__ import annotations

from dlac.ir.attributes import DenseAttr, FloatAttr, StringAttr
from dlac.ir.core import Operation
from dlac.ir.opdef import PURE, Attr, Operand, Result, register_op
from dlac.ir.types import FloatType, IntegerType, MemRefType, f32, i8


class _ScalarOp(Operation):
    __slots__ = ()
    TRAITS = (PURE,)

    def _act(self) -> None:
        if self.attr("act", "none") not in ("none", "relu"):
            raise self.error("act must be 'none' or 'relu'")
        for key in ("multiplier", "scale", "a_scale", "b_scale", "c_scale"):
            found = self.attributes.get(key)
            if found is not None and found.type is not f32:
                raise self.error(f"'{key}' must be an f32 float")


@register_op
class ConstantBufferOp(Operation):
    """A read-only buffer initialised from a dense constant (weights, biases, tables)."""

    __slots__ = ()
    NAME = "loop.constant"
    RESULTS = (Result("buffer", MemRefType),)
    ATTRS = (Attr("value", DenseAttr),)
    TRAITS = (PURE,)

    def verify_(self) -> None:
        value = self.attributes["value"].type
        buf = self.results[0].type
        if value.shape != buf.shape or value.element is not buf.element:
            raise self.error(f"value {value} does not match buffer {buf}")


@register_op
class HostOp(Operation):
    """A host (CPU) computation over whole buffers: `kind` names the `qgraph`/`graph` op
    whose semantics it has; the last buffer is the output; `layouts` gives each buffer's
    layout ("nchw" logical row-major or "nhwc")."""

    __slots__ = ()
    NAME = "loop.host"
    OPERANDS = (Operand("buffers", MemRefType, variadic=True),)
    ATTRS = (Attr("kind", StringAttr),)

    def verify_(self) -> None:
        layouts = self.attr("layouts")
        if layouts is not None and len(layouts) != len(self.operands):
            raise self.error("'layouts' needs one entry per buffer")


@register_op
class RequantOp(_ScalarOp):
    """ACC_SCALE(x, multiplier) then act: int32 or int8 scalar -> int8."""

    __slots__ = ()
    NAME = "loop.requant"
    OPERANDS = (Operand("input", IntegerType),)
    RESULTS = (Result("output", IntegerType),)
    ATTRS = (Attr("multiplier", FloatAttr), Attr("act", StringAttr, optional=True))

    def verify_(self) -> None:
        self._act()


@register_op
class QuantizeScalarOp(_ScalarOp):
    """f32 -> i8: sat(rne(x * multiplier))."""

    __slots__ = ()
    NAME = "loop.quantize"
    OPERANDS = (Operand("input", FloatType),)
    RESULTS = (Result("output", IntegerType),)
    ATTRS = (Attr("multiplier", FloatAttr),)

    def verify_(self) -> None:
        self._act()
        if self.results[0].type is not i8:
            raise self.error("result must be i8")


@register_op
class DequantizeScalarOp(_ScalarOp):
    """i8 -> f32: float32(x) * scale."""

    __slots__ = ()
    NAME = "loop.dequantize"
    OPERANDS = (Operand("input", IntegerType),)
    RESULTS = (Result("output", FloatType),)
    ATTRS = (Attr("scale", FloatAttr),)

    def verify_(self) -> None:
        self._act()


@register_op
class LutScalarOp(_ScalarOp):
    """table[x + 128] for an int8 x."""

    __slots__ = ()
    NAME = "loop.lut"
    OPERANDS = (Operand("input", IntegerType),)
    RESULTS = (Result("output", IntegerType),)
    ATTRS = (Attr("table", DenseAttr),)


@register_op
class ResaddScalarOp(_ScalarOp):
    """Gemmini resadd on scalars: act(ACC_SCALE(MVIN_SCALE(a) + MVIN_SCALE(b), c_scale))."""

    __slots__ = ()
    NAME = "loop.resadd"
    OPERANDS = (Operand("lhs", IntegerType), Operand("rhs", IntegerType))
    RESULTS = (Result("output", IntegerType),)
    ATTRS = (Attr("a_scale", FloatAttr), Attr("b_scale", FloatAttr), Attr("c_scale", FloatAttr),
             Attr("act", StringAttr, optional=True))

    def verify_(self) -> None:
        self._act()


@register_op
class QmulScalarOp(_ScalarOp):
    """ACC_SCALE(int32(a) * int32(b), multiplier) on int8 scalars; with
    `residual_multiplier`, the product's low digit (see qgraph.mul)."""

    __slots__ = ()
    NAME = "loop.qmul"
    OPERANDS = (Operand("lhs", IntegerType), Operand("rhs", IntegerType))
    RESULTS = (Result("output", IntegerType),)
    ATTRS = (Attr("multiplier", FloatAttr), Attr("residual_multiplier", FloatAttr, optional=True))

    def verify_(self) -> None:
        self._act()


@register_op
class QdivScalarOp(_ScalarOp):
    """a / b on int8 scalars: sat(rne(float32(float32(a) * multiplier) / float32(b)));
    b = 0 gives the sign of a saturated (0 for 0 / 0)."""

    __slots__ = ()
    NAME = "loop.qdiv"
    OPERANDS = (Operand("lhs", IntegerType), Operand("rhs", IntegerType))
    RESULTS = (Result("output", IntegerType),)
    ATTRS = (Attr("multiplier", FloatAttr),)

    def verify_(self) -> None:
        self._act()


@register_op
class CompareScalarOp(_ScalarOp):
    """float32(a) * a_scale `predicate` float32(b) * b_scale on int8 scalars -> i1."""

    __slots__ = ()
    NAME = "loop.compare"
    OPERANDS = (Operand("lhs", IntegerType), Operand("rhs", IntegerType))
    RESULTS = (Result("output", IntegerType),)
    ATTRS = (Attr("predicate", StringAttr), Attr("a_scale", FloatAttr),
             Attr("b_scale", FloatAttr))

    def verify_(self) -> None:
        self._act()


@register_op
class SelectScalarOp(_ScalarOp):
    """cond ? a : b on scalars (cond nonzero is true)."""

    __slots__ = ()
    NAME = "loop.select"
    OPERANDS = (Operand("cond", IntegerType), Operand("lhs", IntegerType),
                Operand("rhs", IntegerType))
    RESULTS = (Result("output", IntegerType),)


@register_op
class LogicScalarOp(_ScalarOp):
    """not / and / or / xor on i1 scalars (nonzero is true)."""

    __slots__ = ()
    NAME = "loop.logic"
    OPERANDS = (Operand("inputs", IntegerType, variadic=True),)
    RESULTS = (Result("output", IntegerType),)
    ATTRS = (Attr("function", StringAttr),)
