"""Builds one instance of any registered op from its declaration, for enumeration tests."""

from __future__ import annotations

import numpy as np
from dlac.ir.attributes import (
    AffineMapAttr,
    ArrayAttr,
    Attribute,
    BoolAttr,
    DenseAttr,
    DictAttr,
    FloatAttr,
    IntAttr,
    StringAttr,
    SymbolRefAttr,
    TypeAttr,
    UnitAttr,
)
from dlac.ir.core import Block, Operation, Region, Value
from dlac.ir.dialects.builtin import ModuleOp
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.types import (
    FloatType,
    FunctionType,
    IndexType,
    IntegerType,
    MemRefType,
    ShapedType,
    TensorType,
    Type,
    f32,
    i8,
    i32,
    index,
)

_TYPE_SAMPLES: dict[type, Type] = {
    TensorType: TensorType([2, 4], f32),
    ShapedType: TensorType([2, 4], f32),
    MemRefType: MemRefType([4, 4], i8, "dram"),
    IndexType: index,
    IntegerType: i32,
    FloatType: f32,
}

_ATTR_SAMPLES: dict[type, Attribute] = {
    IntAttr: IntAttr(3),
    FloatAttr: FloatAttr(0.25, f32),
    StringAttr: StringAttr("s"),
    BoolAttr: BoolAttr(True),
    ArrayAttr: ArrayAttr([IntAttr(1), IntAttr(2)]),
    DictAttr: DictAttr({"k": IntAttr(1)}),
    TypeAttr: TypeAttr(i32),
    AffineMapAttr: AffineMapAttr.identity(2),
    DenseAttr: DenseAttr(np.array([1, 2], dtype=np.int8), TensorType([2], i8)),
    SymbolRefAttr: SymbolRefAttr("callee"),
    UnitAttr: UnitAttr(),
}


def _first(constraint: object) -> object:
    return constraint[0] if isinstance(constraint, tuple) else constraint


def sample_type(constraint: object) -> Type:
    return _TYPE_SAMPLES.get(_first(constraint), i32)  # type: ignore[arg-type]


def sample_op(cls: type[Operation], values: dict[Type, Value]) -> Operation:
    """An instance of `cls` with one value per operand field and sample attributes."""
    spec = cls.SPEC
    operands = [values[sample_type(o.type)] for o in spec.operands if not o.optional]
    results = [sample_type(r.type) for r in spec.results]
    attrs: dict[str, Attribute] = {}
    for a in spec.attrs:
        attrs[a.name] = _ATTR_SAMPLES.get(_first(a.kind), IntAttr(1))  # type: ignore[arg-type]
    regions = []
    for _ in spec.regions:
        regions.append(Region([Block()]))
    if spec.assembly == "for":
        attrs.update(lb=IntAttr(0), ub=IntAttr(8), step=IntAttr(2))
        regions = [Region([Block([index])])]
    if spec.assembly == "symbol":
        attrs.update(sym_name=StringAttr("s"),
                     function_type=TypeAttr(FunctionType([i32], [])))
        regions = [Region([Block([i32])])]
    if spec.assembly == "region" and "sym_name" in attrs:
        attrs["sym_name"] = StringAttr("m")
    op = cls(operands, results, None, regions)
    op.attributes = attrs
    return op


def module_with_every_op(registry: dict[str, type[Operation]]) -> ModuleOp:
    """A module whose function uses one sample instance of every registered op."""
    arg_types = list(dict.fromkeys(_TYPE_SAMPLES.values()))
    module = ModuleOp.build()
    func = FuncOp.build("every_op", arg_types, [])
    values = dict(zip(arg_types, func.regions[0].block.args, strict=True))
    block = func.regions[0].block
    for name in sorted(registry):
        cls = registry[name]
        if cls in (ModuleOp, FuncOp, ReturnOp):
            continue
        block.append(sample_op(cls, values))
    block.append(ReturnOp([]))
    module.regions[0].block.append(func)
    return module
