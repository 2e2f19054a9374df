"""`func` dialect: functions, calls and returns."""

from __future__ import annotations

from dlac.ir.attributes import StringAttr, SymbolRefAttr, TypeAttr
from dlac.ir.core import Block, Operation, Region, Value
from dlac.ir.opdef import (
    ISOLATED_FROM_ABOVE,
    NEEDS_TERMINATOR,
    SYMBOL,
    TERMINATOR,
    Attr,
    Operand,
    RegionSpec,
    Result,
    register_op,
)
from dlac.ir.types import FunctionType, Type


@register_op
class FuncOp(Operation):
    """A function; its entry block arguments are the parameters."""

    __slots__ = ()
    NAME = "func.func"
    ATTRS = (Attr("sym_name", StringAttr), Attr("function_type", TypeAttr))
    REGIONS = (RegionSpec("body"),)
    TRAITS = (ISOLATED_FROM_ABOVE, NEEDS_TERMINATOR, SYMBOL)
    ASSEMBLY = "symbol"

    @classmethod
    def build(cls, name: str, inputs: list[Type], results: list[Type],
              arg_names: list[str | None] | None = None) -> FuncOp:
        ftype = FunctionType(inputs, results)
        block = Block(inputs, arg_names)
        return cls(attributes={"sym_name": StringAttr(name), "function_type": TypeAttr(ftype)},
                   regions=[Region([block])])

    @property
    def type(self) -> FunctionType:
        return self.attributes["function_type"].data

    @property
    def args(self) -> list[Value]:
        return list(self.regions[0].block.args)

    def verify_(self) -> None:
        ftype = self.attributes["function_type"].data
        if not isinstance(ftype, FunctionType):
            raise self.error(f"function_type must be a function type, got {ftype}")
        blocks = self.regions[0].blocks
        if not blocks:
            raise self.error("body has no entry block")
        if tuple(a.type for a in blocks[0].args) != ftype.inputs:
            raise self.error("entry block arguments do not match the function type")


@register_op
class ReturnOp(Operation):
    __slots__ = ()
    NAME = "func.return"
    OPERANDS = (Operand("values", variadic=True),)
    TRAITS = (TERMINATOR,)

    def verify_(self) -> None:
        func = self.parent_op
        if not isinstance(func, FuncOp):
            raise self.error("must be inside a 'func.func'")
        want = func.attributes["function_type"].data.results
        got = tuple(v.type for v in self.operands)
        if got != want:
            raise self.error(f"returns ({', '.join(map(str, got))}) but the function "
                             f"declares ({', '.join(map(str, want))})")


@register_op
class CallOp(Operation):
    __slots__ = ()
    NAME = "func.call"
    OPERANDS = (Operand("args", variadic=True),)
    RESULTS = (Result("outs", variadic=True),)
    ATTRS = (Attr("callee", SymbolRefAttr),)
