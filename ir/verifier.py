"""Structural and per-op verification; the first problem found raises a DiagnosticError."""

from __future__ import annotations

from dlac.ir.core import Block, Operation
from dlac.ir.opdef import ISOLATED_FROM_ABOVE, NEEDS_TERMINATOR, TERMINATOR, verify_spec


def verify(op: Operation) -> None:
    """Check declarations, `verify_` hooks, terminators and SSA dominance."""
    _verify_op(op, set())


def _verify_op(op: Operation, visible: set[int]) -> None:
    for i, value in enumerate(op.operands):
        if id(value) not in visible:
            raise op.error(f"operand #{i} does not dominate this use "
                           f"(defined later, or in an unrelated region)")
    verify_spec(op)
    op.verify_()
    traits = op.SPEC.traits
    inner_visible = set() if ISOLATED_FROM_ABOVE in traits else visible
    for region in op.regions:
        for block in region.blocks:
            _verify_block(op, block, set(inner_visible), NEEDS_TERMINATOR in traits)
    for res in op.results:
        visible.add(id(res))


def _verify_block(parent: Operation, block: Block, visible: set[int],
                  needs_terminator: bool) -> None:
    for arg in block.args:
        visible.add(id(arg))
    ops = block.ops
    for i, child in enumerate(ops):
        if child.parent is not block:
            raise child.error("has a stale parent link (inserted into two blocks?)")
        is_term = TERMINATOR in child.SPEC.traits
        if is_term and i != len(ops) - 1:
            raise child.error("is a terminator but is not the last op of its block")
        _verify_op(child, visible)
    if needs_terminator and (not ops or TERMINATOR not in ops[-1].SPEC.traits):
        raise parent.error("body block must end with a terminator")
