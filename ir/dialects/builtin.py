"""`builtin.module`: the top-level container every IR file parses into."""

from __future__ import annotations

from dlac.ir.attributes import StringAttr
from dlac.ir.core import Block, Operation, Region
from dlac.ir.opdef import ISOLATED_FROM_ABOVE, SYMBOL, Attr, RegionSpec, register_op


@register_op
class ModuleOp(Operation):
    """A symbol table of functions (and, later, globals)."""

    __slots__ = ()
    NAME = "builtin.module"
    ATTRS = (Attr("sym_name", StringAttr, optional=True),)
    REGIONS = (RegionSpec("body"),)
    TRAITS = (ISOLATED_FROM_ABOVE, SYMBOL)
    ASSEMBLY = "region"

    @classmethod
    def build(cls, name: str | None = None) -> ModuleOp:
        attrs = {"sym_name": StringAttr(name)} if name else {}
        return cls(attributes=attrs, regions=[Region([Block()])])

    def lookup(self, symbol: str) -> Operation | None:
        for op in self.regions[0].ops:
            if op.attr("sym_name") == symbol:
                return op
        return None
