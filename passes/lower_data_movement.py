"""Turn data-movement host ops into explicit gathers with compile-time index tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from dlac.ir.attributes import Attribute, DenseAttr
from dlac.ir.core import Operation, Value
from dlac.ir.diagnostics import UNKNOWN_LOC
from dlac.ir.dialects import loop_host as lh
from dlac.ir.dialects.loop import GatherOp
from dlac.ir.semantics.graph import run_op
from dlac.ir.semantics.qgraph import QIMPLS
from dlac.ir.types import TensorType, i32
from dlac.passes.pass_base import ModulePass

#: Host op kinds that only move data; each is a gather on static shapes.
MOVEMENT = frozenset({"layout", "copy", "qgraph.resize", "qgraph.zero_insert"} | {
    f"graph.{n}" for n in (
    "reshape", "flatten", "transpose", "concat", "split", "slice", "squeeze", "unsqueeze",
    "identity", "dropout", "expand", "pad", "tile", "depth_to_space", "space_to_depth",
    "gather", "gather_elements", "where")})


class _OpView:
    """Just enough of an op (name, attributes) for the frontend's semantics functions."""

    def __init__(self, name: str, attributes: dict[str, Attribute], n_results: int = 1) -> None:
        self.name = name
        self.attributes = attributes
        self.loc = UNKNOWN_LOC
        self.results = [None] * n_results

    def attr(self, key: str, default: object = None) -> object:
        found = self.attributes.get(key)
        return default if found is None else found.data


def _to_logical(arr: np.ndarray, layout: str) -> np.ndarray:
    return arr.transpose(0, 3, 1, 2) if layout == "nhwc" and arr.ndim == 4 else arr


def _to_physical(arr: np.ndarray, layout: str) -> np.ndarray:
    return arr.transpose(0, 2, 3, 1) if layout == "nhwc" and arr.ndim == 4 else arr


def _constant_value(value: Value) -> np.ndarray | None:
    owner = getattr(value, "op", None)
    if isinstance(owner, lh.ConstantBufferOp):
        return np.asarray(owner.attributes["value"].data)
    return None


def _run_semantics(kind: str, attrs: dict[str, Attribute], args: list[Any], n_out: int
                   ) -> list[np.ndarray]:
    view = _OpView(kind, attrs, n_out)
    if kind.startswith("qgraph."):
        return [QIMPLS[kind](view, args)]  # type: ignore[arg-type]
    return run_op(view, args)  # type: ignore[arg-type]


def _runtime_indices(op: lh.HostOp) -> bool:
    """A Gather whose indices are computed at run time (an embedding lookup) is not a
    fixed permutation, so it cannot become a table."""
    return op.attr("kind") == "graph.gather" and _constant_value(op.operands[1]) is None


def gather_tables(op: lh.HostOp) -> tuple[list[Value], list[Value], list[np.ndarray]]:
    """(data inputs, outputs, one int32 table per output) for a data-movement host op."""
    kind = str(op.attr("kind"))
    buffers = list(op.operands)
    layouts = list(op.attr("layouts") or ["nchw"] * len(buffers))
    elem = buffers[-1].type.element
    n_out = 1
    if kind == "graph.split":
        n_out = sum(1 for v in buffers[1:] if _constant_value(v) is None)
    ins, outs = buffers[:-n_out], buffers[-n_out:]
    data: list[Value] = []
    args: list[Any] = []
    offset = 1
    for value, layout in zip(ins, layouts, strict=False):
        const = _constant_value(value)
        if value.type.element is not elem and const is not None:
            args.append(const)
            continue
        size = value.type.num_elements
        idx = np.arange(offset, offset + size, dtype=np.int64).reshape(value.type.shape)
        args.append(_to_logical(idx, layout))
        data.append(value)
        offset += size
    if kind in ("layout", "copy"):
        results = [args[0]]
    else:
        results = _run_semantics(kind, dict(op.attributes), args, n_out)
    tables = []
    for out, layout, res in zip(outs, layouts[len(ins):], results, strict=True):
        phys = np.ascontiguousarray(_to_physical(np.asarray(res, np.int64), layout))
        if phys.size != out.type.num_elements:
            raise op.error(f"'{kind}' produced {phys.size} elements for a "
                           f"{out.type.num_elements}-element buffer")
        tables.append((phys.reshape(-1) - 1).astype(np.int32))
    return data, outs, tables


@dataclass(frozen=True)
class LowerDataMovement(ModulePass):
    """Replace every data-movement `loop.host` op by `loop.gather` ops.

    The table is computed by running the op's own semantics on an array of source indices,
    so the gather is exact by construction; a padded position gets -1 (writes zero).

    Before:
        loop.host %x, %y {kind = "graph.transpose", perm = [1, 0], layouts = [...]}
            : memref<2x3xi8, "dram">, memref<3x2xi8, "dram">
    After:
        loop.gather %x, %y {table = dense<[0, 3, 1, 4, 2, 5]> : tensor<6xi32>}
            : memref<2x3xi8, "dram">, memref<3x2xi8, "dram">
    """

    name = "lower-data-movement"

    def apply(self, module: Operation) -> None:
        hosts = [op for op in module.walk()
                 if isinstance(op, lh.HostOp) and op.attr("kind") in MOVEMENT
                 and not _runtime_indices(op)]
        for op in hosts:
            data, outs, tables = gather_tables(op)
            block = op.parent
            assert block is not None
            for out, table in zip(outs, tables, strict=True):
                attr = DenseAttr(table, TensorType([table.size], i32))
                block.insert_before(op, GatherOp([*data, out], [], {"table": attr}, loc=op.loc))
            op.erase()
