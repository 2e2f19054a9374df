"""`loop` dialect: affine-style loop nests over buffers.

Accelerated layers lower to a `loop.kernel` whose body is a perfect nest of `loop.for`
ops around one `loop.mac`; mapping passes read and rewrite that nest. Host-side ops lower
to nests of plain loads, stores and arithmetic.
"""

from __future__ import annotations

from dlac.ir.attributes import AffineMapAttr, DenseAttr, DictAttr, IntAttr, StringAttr
from dlac.ir.core import Block, Operation, Region
from dlac.ir.opdef import PURE, Attr, Operand, RegionSpec, Result, register_op
from dlac.ir.types import IndexType, MemRefType

ITERATOR_KINDS = ("parallel", "reduction")


@register_op
class ForOp(Operation):
    """`loop.for %i = lb to ub step s { ... }`: the induction variable is the block argument."""

    __slots__ = ()
    NAME = "loop.for"
    ATTRS = (Attr("lb", IntAttr), Attr("ub", IntAttr), Attr("step", IntAttr),
             Attr("dim", StringAttr, optional=True, doc="problem dimension, e.g. 'K'"),
             Attr("iter", StringAttr, optional=True, doc="'parallel' or 'reduction'"),
             Attr("level", StringAttr, optional=True,
                  doc="'dram' (loop over tiles), 'tile' (inside a tile) or 'array' (spatial)"),
             Attr("spatial", StringAttr, optional=True,
                  doc="'rows' or 'cols': the loop is unrolled across the PE array"),
             Attr("extent", IntAttr, optional=True,
                  doc="size of the whole dimension: iterations whose full index reaches it "
                      "are skipped (the partial tile at a dimension's edge)"))
    REGIONS = (RegionSpec("body"),)
    ASSEMBLY = "for"

    @classmethod
    def build(cls, lb: int, ub: int, step: int = 1, dim: str | None = None,
              iter: str | None = None, iv_name: str | None = None) -> ForOp:
        attrs: dict[str, object] = {"lb": lb, "ub": ub, "step": step}
        if dim is not None:
            attrs["dim"] = dim
        if iter is not None:
            attrs["iter"] = iter
        block = Block([IndexType()], [iv_name])
        return cls(attributes=attrs, regions=[Region([block])])

    @property
    def iv(self):  # noqa: ANN201
        return self.regions[0].block.args[0]

    @property
    def trip_count(self) -> int:
        lb, ub, step = self.attr("lb"), self.attr("ub"), self.attr("step")
        return max(0, -(-(ub - lb) // step))

    def verify_(self) -> None:
        if self.attr("step") <= 0:
            raise self.error(f"step must be positive, got {self.attr('step')}")
        if self.attr("ub") < self.attr("lb"):
            raise self.error("upper bound is below the lower bound")
        kind = self.attr("iter")
        if kind is not None and kind not in ITERATOR_KINDS:
            raise self.error(f"iter must be one of {ITERATOR_KINDS}, got '{kind}'")
        blocks = self.regions[0].blocks
        if len(blocks) != 1 or len(blocks[0].args) != 1 or \
                not isinstance(blocks[0].args[0].type, IndexType):
            raise self.error("body must be one block with a single index argument")


def _check_map(op: Operation, key: str, buffer_operand: int, n_indices: int) -> None:
    amap = op.attributes.get(key)
    if not isinstance(amap, AffineMapAttr):
        raise op.error(f"attribute '{key}' must be an affine map")
    buf = op.operands[buffer_operand].type
    if amap.num_dims + amap.num_symbols != n_indices:
        raise op.error(f"'{key}' takes {amap.num_dims + amap.num_symbols} indices, "
                       f"got {n_indices}")
    if isinstance(buf, MemRefType) and len(amap.results) != buf.rank:
        raise op.error(f"'{key}' yields {len(amap.results)} subscripts for a rank-{buf.rank} "
                       f"buffer")


@register_op
class ApplyOp(Operation):
    """`map(operands)` as one index, like affine.apply: e.g. a tile base plus an offset."""

    __slots__ = ()
    NAME = "loop.apply"
    OPERANDS = (Operand("args", IndexType, variadic=True),)
    RESULTS = (Result("value", IndexType),)
    ATTRS = (Attr("map", AffineMapAttr),
             Attr("dim_of", StringAttr, optional=True,
                  doc="the problem dimension this index reconstructs after tiling"))
    TRAITS = (PURE,)

    def verify_(self) -> None:
        amap = self.attributes["map"]
        if amap.num_dims + amap.num_symbols != len(self.operands) or len(amap.results) != 1:
            raise self.error("map must take one index per operand and yield one result")


@register_op
class AllocOp(Operation):
    __slots__ = ()
    NAME = "loop.alloc"
    RESULTS = (Result("buffer", MemRefType),)
    TRAITS = (PURE,)
    ATTRS = (Attr("label", StringAttr, optional=True),)


@register_op
class LoadOp(Operation):
    """`buffer[map(indices)]`."""

    __slots__ = ()
    NAME = "loop.load"
    OPERANDS = (Operand("buffer", MemRefType), Operand("indices", IndexType, variadic=True))
    RESULTS = (Result("value"),)
    TRAITS = (PURE,)
    ATTRS = (Attr("map", AffineMapAttr),)

    def verify_(self) -> None:
        _check_map(self, "map", 0, len(self.operands) - 1)
        if self.results[0].type is not self.operands[0].type.element:
            raise self.error("result type must be the buffer's element type")


@register_op
class StoreOp(Operation):
    __slots__ = ()
    NAME = "loop.store"
    OPERANDS = (Operand("value"), Operand("buffer", MemRefType),
                Operand("indices", IndexType, variadic=True))
    ATTRS = (Attr("map", AffineMapAttr),)

    def verify_(self) -> None:
        _check_map(self, "map", 1, len(self.operands) - 2)


@register_op
class MacOp(Operation):
    """`out[o] += a[x] * b[y]` with int32 accumulation: the body of an accelerated nest."""

    __slots__ = ()
    NAME = "loop.mac"
    OPERANDS = (Operand("out", MemRefType), Operand("a", MemRefType), Operand("b", MemRefType),
                Operand("indices", IndexType, variadic=True))
    ATTRS = (Attr("out_map", AffineMapAttr), Attr("a_map", AffineMapAttr),
             Attr("b_map", AffineMapAttr))

    def verify_(self) -> None:
        n = len(self.operands) - 3
        for key, pos in (("out_map", 0), ("a_map", 1), ("b_map", 2)):
            _check_map(self, key, pos, n)


@register_op
class GatherOp(Operation):
    """`out[e] = src[table[e]]` over the inputs laid end to end; -1 writes zero.

    Every data-movement op (reshape, transpose, concat, slice, pad, nearest resize, layout
    changes) on static shapes is such a gather, with the table computed at compile time.
    """

    __slots__ = ()
    NAME = "loop.gather"
    OPERANDS = (Operand("buffers", MemRefType, variadic=True),)
    ATTRS = (Attr("table", DenseAttr),)

    def verify_(self) -> None:
        if len(self.operands) < 2:
            raise self.error("needs at least one input and the output buffer")
        table = self.attributes["table"]
        out = self.operands[-1].type
        if str(table.type.element) != "i32" or table.type.num_elements != out.num_elements:
            raise self.error(f"table must be i32 with one entry per output element "
                             f"({out.num_elements})")
        total = sum(v.type.num_elements for v in self.operands[:-1])
        if table.data.size and (int(table.data.max()) >= total or int(table.data.min()) < -1):
            raise self.error(f"table entries must lie in [-1, {total})")
        elems = {v.type.element for v in self.operands}
        if len(elems) != 1:
            raise self.error("inputs and output must share an element type")


@register_op
class KernelOp(Operation):
    """One accelerated layer: its buffers, problem dims and (after mapping) its mapping."""

    __slots__ = ()
    NAME = "loop.kernel"
    OPERANDS = (Operand("buffers", MemRefType, variadic=True),)
    ATTRS = (Attr("sym_name", StringAttr), Attr("kind", StringAttr), Attr("dims", DictAttr))
    REGIONS = (RegionSpec("body"),)
