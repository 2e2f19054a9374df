"""Compose a `loop.gather` that only feeds another gather into it.

Every data-movement op becomes its own gather (lower-data-movement), so a reshape after a
transpose, or the head split and merge of attention, copies every element twice on the
CPU. A gather reading the scratch output of a one-source gather can read that gather's
source directly through the composed index table: one copy instead of two, bit for bit
the same elements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.attributes import DenseAttr
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.loop import AllocOp, GatherOp
from dlac.ir.types import TensorType, i32
from dlac.passes.pass_base import ModulePass


def _feeder(value: Value, reader: GatherOp) -> GatherOp | None:
    """The one-source gather that alone writes scratch buffer `value`, read only by
    `reader` (buffers are written once: lower-to-loops allocates one per tensor)."""
    if not isinstance(value.owner, AllocOp):
        return None
    users = {id(op): op for op, _ in value.uses}
    writers = [op for op in users.values() if op is not reader]
    if len(users) != 2 or len(writers) != 1 or not isinstance(writers[0], GatherOp):
        return None
    feeder = writers[0]
    if len(feeder.operands) != 2 or feeder.operands[-1] is not value:
        return None
    return feeder


def compose(reader: GatherOp, index: int, feeder: GatherOp) -> None:
    """Make `reader` read `feeder`'s source where it read source `index`."""
    sources = list(reader.operands[:-1])
    sizes = [v.type.num_elements for v in sources]
    start = sum(sizes[:index])
    table = np.asarray(reader.attributes["table"].data, np.int64).reshape(-1)
    inner = np.asarray(feeder.attributes["table"].data, np.int64).reshape(-1)
    hit = (table >= start) & (table < start + sizes[index])
    new_size = feeder.operands[0].type.num_elements
    composed = table.copy()
    composed[table >= start + sizes[index]] += new_size - sizes[index]
    through = inner[table[hit] - start]
    composed[hit] = np.where(through < 0, -1, through + start)
    scratch = sources[index]
    sources[index] = feeder.operands[0]
    reader.set_operands([*sources, reader.operands[-1]])
    reader.set_attr("table", DenseAttr(composed.astype(np.int32),
                                       TensorType([composed.size], i32)))
    feeder.erase()
    scratch.owner.erase()


@dataclass(frozen=True)
class ComposeGathers(ModulePass):
    """Fold every one-source gather whose output scratch buffer only one later gather
    reads into that gather: its table entries for the buffer are looked up through the
    feeder's table (a feeder's -1, a written zero, stays -1). The reader keeps its number
    of sources, so the composed copy costs what the second copy alone did.

    Before:
        loop.gather %x, %t {table = dense<[2, 0, 1]> : tensor<3xi32>}
        loop.gather %t, %y {table = dense<[1, -1, 2, 0]> : tensor<4xi32>}
    After:
        loop.gather %x, %y {table = dense<[0, -1, 1, 2]> : tensor<4xi32>}
    """

    name = "compose-gathers"

    def apply(self, module: Operation) -> None:
        changed = True
        while changed:
            changed = False
            for op in list(module.walk()):
                if not isinstance(op, GatherOp) or op.parent is None:
                    continue
                for index, source in enumerate(op.operands[:-1]):
                    feeder = _feeder(source, op)
                    if feeder is not None:
                        compose(op, index, feeder)
                        changed = True
                        break
