"""Reading and rebuilding the perfect loop nest inside a `loop.kernel`.

Mapping passes change loop structure (split, permute, mark spatial) but never the body:
they describe the nest they want as a list of `LoopSpec`s plus, for every original
induction variable, how to recompute it from the new ones; `rebuild_nest` then builds the
new loops, moves the body in, and inserts one `loop.apply` per original index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dlac.ir.attributes import AffineMapAttr
from dlac.ir.core import Block, Operation, Value
from dlac.ir.dialects.builtin import ModuleOp
from dlac.ir.dialects.loop import ApplyOp, ForOp, KernelOp
from dlac.ir.target import Target
from dlac.passes.pass_base import PassError

TARGET_ATTR = "dlac.target"


@dataclass
class LoopSpec:
    dim: str
    lb: int
    ub: int
    step: int
    attrs: dict[str, object] = field(default_factory=dict)
    iv_name: str | None = None


@dataclass
class Nest:
    """The loops of a perfect nest, outermost first, and the ops of its innermost body."""

    kernel: KernelOp
    loops: list[ForOp]

    @property
    def body(self) -> Block:
        return self.loops[-1].regions[0].block if self.loops else self.kernel.regions[0].block

    def by_level(self, level: str) -> list[ForOp]:
        return [lp for lp in self.loops if lp.attr("level") == level]


def kernels(module: Operation) -> list[KernelOp]:
    return [op for op in module.walk() if isinstance(op, KernelOp)]


def target_of(module: Operation) -> Target:
    """The hardware the module is compiled for (`dlac.target` on the module, else default)."""
    data = module.attr(TARGET_ATTR) if isinstance(module, ModuleOp) else None
    if data is None:
        return Target()
    try:
        return Target.from_dict(dict(data))
    except (TypeError, ValueError) as err:
        raise PassError(f"bad '{TARGET_ATTR}' module attribute: {err}") from None


def nest_of(kernel: KernelOp) -> Nest:
    """Follow single-loop bodies down from the kernel's block."""
    loops: list[ForOp] = []
    block = kernel.regions[0].block
    while True:
        fors = [op for op in block.ops if isinstance(op, ForOp)]
        others = [op for op in block.ops if not isinstance(op, ForOp | ApplyOp)]
        if len(fors) != 1 or others:
            break
        loops.append(fors[0])
        block = fors[0].regions[0].block
    if not loops:
        raise kernel.error("has no loop nest to transform")
    return Nest(kernel, loops)


def _index_of_original(nest: Nest) -> dict[str, Value]:
    """Each original dimension's index value as the body sees it (an apply or an iv)."""
    out: dict[str, Value] = {}
    for op in nest.body.ops:
        if isinstance(op, ApplyOp) and op.attr("dim_of") is not None:
            out[str(op.attr("dim_of"))] = op.results[0]
    for lp in nest.loops:
        dim = lp.attr("dim")
        if dim is not None and dim not in out and lp.attr("level") in (None, "dram"):
            out[str(dim)] = lp.iv
    return out


def rebuild_nest(nest: Nest, specs: list[LoopSpec],
                 index_of: dict[str, tuple[AffineMapAttr, list[int]]]) -> Nest:
    """Replace `nest` by loops built from `specs` (outermost first).

    `index_of[dim] = (map, [spec positions])` recomputes original index `dim` from the new
    induction variables; one `loop.apply` per dim is placed at the top of the new body.
    """
    old_index = _index_of_original(nest)
    missing = sorted(set(old_index) - set(index_of))
    if missing:
        raise nest.kernel.error(f"rebuild lost dimension(s) {', '.join(missing)}")
    new_loops = []
    for spec in specs:
        attrs = {"dim": spec.dim, **spec.attrs}
        loop = ForOp.build(spec.lb, spec.ub, spec.step, iv_name=spec.iv_name)
        for key, value in attrs.items():
            loop.set_attr(key, value)
        if new_loops:
            new_loops[-1].regions[0].block.append(loop)
        new_loops.append(loop)
    inner = new_loops[-1].regions[0].block
    old_body = nest.body
    for dim in sorted(index_of, key=lambda d: list(old_index).index(d) if d in old_index
                      else len(old_index)):
        amap, positions = index_of[dim]
        apply = ApplyOp([new_loops[p].iv for p in positions], [old_index[dim].type],
                        {"map": amap, "dim_of": dim})
        apply.results[0].name_hint = dim.lower()
        inner.append(apply)
        old_index[dim].replace_all_uses_with(apply.results[0])
    for op in list(old_body.ops):
        if isinstance(op, ApplyOp) and op.attr("dim_of") is not None:
            continue
        old_body.detach(op)
        inner.append(op)
    outer_old = nest.loops[0]
    parent = outer_old.parent
    assert parent is not None
    parent.insert_before(outer_old, new_loops[0])
    for op in list(old_body.ops):
        op.erase()
    outer_old.erase()
    return Nest(nest.kernel, new_loops)


def sum_map(n: int) -> AffineMapAttr:
    """`(d0, ..., dn-1) -> (d0 + ... + dn-1)`."""
    return AffineMapAttr(n, 0, ((0, tuple((i, 1) for i in range(n))),))
