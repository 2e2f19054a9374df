"""Run a per-element host nest before the gather that feeds it, on the gather's source.

A gather only copies elements (`out[e] = src[table[e]]`), so a function applied to every
element commutes with it. U-Net requantises each nearest-neighbour upsample's output
before concatenating it: applied to the upsample's source instead, the requantisation
touches a quarter of the elements, and the upsample's gather then composes with the
concatenation's (compose-gathers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.loop import AllocOp, ForOp, GatherOp, LoadOp, StoreOp
from dlac.ir.types import MemRefType
from dlac.passes.pass_base import ModulePass

ZERO_PRESERVING = ("loop.requant",)
"""Scalar ops that map 0 to 0 (ACC_SCALE of 0 is 0, also after ReLU), so a gather's
zero-filled (-1) positions stay zero when the op runs first."""


def _levels(nest: ForOp) -> list[ForOp] | None:
    """The loops of a perfect nest counting 0..ub-1 by 1, outermost first."""
    levels = [nest]
    while True:
        loop = levels[-1]
        if loop.attr("lb") != 0 or loop.attr("step") != 1:
            return None
        ops = loop.regions[0].block.ops
        if len(ops) == 1 and isinstance(ops[0], ForOp):
            levels.append(ops[0])
        else:
            return levels


def _identity(op: LoadOp | StoreOp, ivs: list[Value], indices: list[Value]) -> bool:
    amap = op.attributes["map"]
    return [v is iv for v, iv in zip(indices, ivs, strict=False)] == [True] * len(ivs) and \
        len(indices) == len(ivs) and amap.results == tuple(
            (0, ((i, 1),)) for i in range(len(ivs)))


def elementwise(nest: ForOp) -> tuple[LoadOp, StoreOp, list[Operation]] | None:
    """(load, store, scalar ops) of a nest computing store[i] = f(load[i]) over the whole
    loaded buffer with a chain of one-operand ops, else None."""
    levels = _levels(nest)
    if levels is None:
        return None
    body = levels[-1].regions[0].block.ops
    ivs = [loop.iv for loop in levels]
    if len(body) < 2 or not isinstance(body[0], LoadOp) or not isinstance(body[-1], StoreOp):
        return None
    load, store, chain = body[0], body[-1], body[1:-1]
    value = load.results[0]
    for op in chain:
        if len(op.operands) != 1 or op.operands[0] is not value or len(op.results) != 1:
            return None
        value = op.results[0]
    shape = list(load.operands[0].type.shape)
    if store.operands[0] is not value or [loop.attr("ub") for loop in levels] != shape or \
            list(store.operands[1].type.shape) != shape or \
            not _identity(load, ivs, list(load.operands[1:])) or \
            not _identity(store, ivs, list(store.operands[2:])):
        return None
    return load, store, list(chain)


def _feeder(buffer: Value, nest: ForOp) -> GatherOp | None:
    """The one-source gather writing scratch `buffer`, which only `nest` reads."""
    if not isinstance(buffer.owner, AllocOp) or len(buffer.uses) != 2:
        return None
    writers = [op for op, _ in buffer.uses if not op.is_within(nest)]
    if len(writers) != 1 or not isinstance(writers[0], GatherOp) or \
            len(writers[0].operands) != 2 or writers[0].operands[-1] is not buffer:
        return None
    return writers[0]


def hoist(nest: ForOp, load: LoadOp, store: StoreOp, chain: list[Operation],
          gather: GatherOp) -> bool:
    """Run `nest` on `gather`'s source and gather its result into the nest's output."""
    source, scratch, out = gather.operands[0], load.operands[0], store.operands[1]
    if source.type.rank != scratch.type.rank or source.type.element is not scratch.type.element \
            or out.type.element is not source.type.element \
            or source.type.num_elements > scratch.type.num_elements:
        return False  # the gather keeps its element type: host gathers copy int8 only
    table = np.asarray(gather.attributes["table"].data)
    if (table < 0).any() and any(op.name not in ZERO_PRESERVING for op in chain):
        return False
    block = gather.parent
    label = out.owner.attr("label") if isinstance(out.owner, AllocOp) else None
    name = f"{out.name_hint or label or 'staged'}_pre"
    staged = AllocOp(result_types=[MemRefType(source.type.shape, out.type.element,
                                              out.type.space)],
                     attributes={"label": name}, loc=nest.loc)
    staged.results[0].name_hint = name
    block.insert_before(gather, staged)
    early = nest.clone()
    block.insert_before(gather, early)
    levels = _levels(early)
    for loop, size in zip(levels, source.type.shape, strict=True):
        loop.set_attr("ub", int(size))
    body = levels[-1].regions[0].block.ops
    body[0].set_operand(0, source)
    body[-1].set_operand(1, staged.results[0])
    if isinstance(out.owner, AllocOp) and out.owner.parent is block:
        block.insert_before(gather, block.detach(out.owner))  # defined before its writer
    gather.set_operands([staged.results[0], out])
    nest.erase()
    scratch.owner.erase()
    return True


@dataclass(frozen=True)
class HoistElementwise(ModulePass):
    """Move every per-element host nest (store[i] = f(load[i]) over a whole buffer) that
    reads only the output of a one-source gather in front of that gather, applied to the
    gather's source, when the source has no more elements than the gather's output and f
    keeps the element type (a dequantisation to f32 stays after the gather); the
    gather then copies f's results. A gather that zero-fills (-1 entries) is hoisted over
    only by ops that keep 0 at 0 (requantisation).

    Before:
        loop.gather %x, %up {table = ...}                  (x: 1x2x2x8, up: 1x4x4x8)
        loop.for ... { %v = loop.load %up ...; %r = loop.requant %v ...; loop.store %r, %t }
    After:
        %t_pre = loop.alloc : () -> memref<1x2x2x8xi8, "dram">
        loop.for ... { %v = loop.load %x ...; %r = loop.requant %v ...; loop.store %r, %t_pre }
        loop.gather %t_pre, %t {table = ...}
    """

    name = "hoist-elementwise"

    def apply(self, module: Operation) -> None:
        for op in list(module.walk()):
            if not isinstance(op, ForOp) or op.parent is None or op.parent_op is None or \
                    isinstance(op.parent_op, ForOp):
                continue
            found = elementwise(op)
            if found is None:
                continue
            load, store, chain = found
            gather = _feeder(load.operands[0], op)
            if gather is not None:
                hoist(op, load, store, chain, gather)
