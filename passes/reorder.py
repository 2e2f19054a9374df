"""Put a tiled kernel's DRAM-level loops in its mapping's loop order."""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.core import Operation
from dlac.ir.dialects.loop import ForOp
from dlac.passes.materialize import mappable
from dlac.passes.nest import LoopSpec, kernels, nest_of, rebuild_nest, sum_map
from dlac.passes.pass_base import ModulePass
from dlac.passes.tile import mapping_of

_LOOP_KEYS = ("iter", "level", "spatial", "extent")


def spec_of(loop: ForOp, iv_name: str | None = None) -> LoopSpec:
    attrs = {k: loop.attr(k) for k in _LOOP_KEYS if loop.attr(k) is not None}
    return LoopSpec(str(loop.attr("dim")), loop.attr("lb"), loop.attr("ub"), loop.attr("step"),
                    attrs, iv_name or loop.iv.name_hint)


def regroup(nest, specs: list[LoopSpec]):  # noqa: ANN001, ANN201
    """Rebuild with `specs`; each dim's index is the sum of all its loops' ivs."""
    positions: dict[str, list[int]] = {}
    for i, spec in enumerate(specs):
        positions.setdefault(spec.dim, []).append(i)
    return rebuild_nest(nest, specs, {d: (sum_map(len(p)), p) for d, p in positions.items()})


@dataclass(frozen=True)
class Reorder(ModulePass):
    """Permute the `dram` loops into the mapping's `perm` (outermost first).

    Before (perm "JI"):
        loop.for %i0 = 0 to 64 step 32 attributes {dim = "I", level = "dram"} {
          loop.for %j0 = 0 to 64 step 16 attributes {dim = "J", level = "dram"} {
    After:
        loop.for %j0 = 0 to 64 step 16 attributes {dim = "J", level = "dram"} {
          loop.for %i0 = 0 to 64 step 32 attributes {dim = "I", level = "dram"} {
    """

    name = "reorder"

    def apply(self, module: Operation) -> None:
        for kernel in kernels(module):
            if not mappable(kernel):
                continue
            nest = nest_of(kernel)
            dram = nest.by_level("dram")
            if not dram:
                raise kernel.error("is not tiled: run 'tile' first")
            perm = mapping_of(kernel).perm
            by_dim = {str(lp.attr("dim")): lp for lp in dram}
            if sorted(by_dim) != sorted(perm):
                raise kernel.error(f"DRAM loops {''.join(by_dim)} do not match perm {perm}")
            if [str(lp.attr("dim")) for lp in dram] == list(perm):
                continue
            rest = [lp for lp in nest.loops if lp.attr("level") != "dram"]
            regroup(nest, [spec_of(by_dim[d]) for d in perm] + [spec_of(lp) for lp in rest])
