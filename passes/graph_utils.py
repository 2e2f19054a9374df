"""Small rewriting helpers shared by the graph-level passes (one concept: op surgery)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from dlac.ir.attributes import DenseAttr
from dlac.ir.core import Block, Operation, Value
from dlac.ir.diagnostics import Location
from dlac.ir.dialects.func import FuncOp
from dlac.ir.dialects.graph import ConstantOp
from dlac.ir.types import TensorType


def functions(module: Operation) -> Iterator[FuncOp]:
    for op in list(module.regions[0].ops):
        if isinstance(op, FuncOp):
            yield op


def const_value(value: Value) -> np.ndarray | None:
    """The array behind a `graph.constant` result, else None."""
    owner = getattr(value, "op", None)
    if isinstance(owner, ConstantOp):
        return owner.attr("value")
    return None


def make_constant(block: Block, before: Operation, array: np.ndarray, element: object,
                  hint: str | None, loc: Location) -> Value:
    ty = TensorType(array.shape, element)
    op = ConstantOp(result_types=[ty], attributes={"value": DenseAttr(array, ty)}, loc=loc)
    op.result.name_hint = hint
    block.insert_before(before, op)
    return op.result


def single_user(value: Value) -> Operation | None:
    users = {id(op): op for op, _ in value.uses}
    return next(iter(users.values())) if len(users) == 1 else None


def replace_op(op: Operation, new_values: list[Value]) -> None:
    """Redirect all uses of `op`'s results to `new_values`, then erase `op`. A model's own
    scale for the tensor (`quant_scale`, see fold-qdq) moves to the op now computing it."""
    scale = op.attributes.get("quant_scale")
    if scale is not None and len(op.results) == len(new_values) == 1:
        owner = getattr(new_values[0], "op", None)
        if owner is not None and len(owner.results) == 1:
            owner.attributes["quant_scale"] = scale
    for old, new in zip(op.results, new_values, strict=False):
        if new.name_hint is None:
            new.name_hint = old.name_hint
        old.replace_all_uses_with(new)
    op.erase()


def erase_dead(block: Block) -> None:
    """Erase ops of `block` whose results are all unused (reverse order, to a fixpoint)."""
    for op in reversed(list(block.ops)):
        if op.results and all(not r.uses for r in op.results):
            op.erase()
