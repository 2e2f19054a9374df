"""Split each kernel loop into a loop over tiles (DRAM level) and a loop inside a tile."""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.core import Operation
from dlac.passes.mapping import Mapping
from dlac.passes.materialize import mappable
from dlac.passes.nest import LoopSpec, kernels, nest_of, rebuild_nest, sum_map
from dlac.passes.pass_base import ModulePass


def mapping_of(kernel):  # noqa: ANN001, ANN201
    data = kernel.attr("mapping")
    if data is None:
        raise kernel.error("has no mapping: run 'materialize' first")
    return Mapping.from_attrs(dict(data))


@dataclass(frozen=True)
class Tile(ModulePass):
    """Tile every loop of a mapped kernel by its mapping's tile size.

    A dimension of size S with tile T becomes `dram` loop `0 to S step T` and `tile` loop
    `0 to T`; when T does not divide S the inner loop records `extent = S`, meaning the
    iterations past the end of the dimension (the partial edge tile) are skipped. The
    original index is recomputed once, by a `loop.apply` above the body.

    Before (mapping tiles I=32):
        loop.for %i = 0 to 64 step 1 attributes {dim = "I"} { loop.mac ..., %i, ... }
    After:
        loop.for %i0 = 0 to 64 step 32 attributes {dim = "I", level = "dram"} {
          loop.for %i1 = 0 to 32 step 1 attributes {dim = "I", level = "tile"} {
            %i = loop.apply %i0, %i1 {map = affine_map<(d0, d1) -> (d0 + d1)>, dim_of = "I"}
            loop.mac ..., %i, ...
    """

    name = "tile"

    def apply(self, module: Operation) -> None:
        for kernel in kernels(module):
            if not mappable(kernel):
                continue
            nest = nest_of(kernel)
            if any(lp.attr("level") is not None for lp in nest.loops):
                continue
            tiles = mapping_of(kernel).tile
            dims = [str(lp.attr("dim")) for lp in nest.loops]
            unknown = sorted(set(dims) - set(tiles))
            if unknown or len(set(dims)) != len(dims):
                raise kernel.error(f"loop dims {''.join(dims)} do not match the mapping's "
                                   f"{''.join(tiles)}")
            outer, inner = [], []
            for lp, dim in zip(nest.loops, dims, strict=True):
                size = lp.attr("ub")
                tile = min(tiles[dim], size)
                extra = {"iter": lp.attr("iter")} if lp.attr("iter") else {}
                outer.append(LoopSpec(dim, 0, size, tile, {**extra, "level": "dram"},
                                      f"{dim.lower()}0"))
                edge = {"extent": size} if size % tile else {}
                inner.append(LoopSpec(dim, 0, tile, 1, {**extra, "level": "tile", **edge},
                                      f"{dim.lower()}1"))
            n = len(dims)
            rebuild_nest(nest, outer + inner,
                         {d: (sum_map(2), [i, n + i]) for i, d in enumerate(dims)})
