"""Place a tile on the PE array: hardware loop order inside the tile, spatial loops last."""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.core import Operation
from dlac.passes.materialize import layer_of, mappable
from dlac.passes.nest import LoopSpec, kernels, nest_of, target_of
from dlac.passes.pass_base import ModulePass
from dlac.passes.reorder import regroup, spec_of
from dlac.passes.tile import mapping_of

# The order Gemmini's loop FSMs walk a tile in, outermost first (gemmini.md 2.6): LoopConv
# goes och, krow, kcol, kch, b, orow, ocol; LoopMatmul (WS) k, j, i. The software-unrolled
# OS matmul walks i, j, k.
HW_ORDER = {("conv", "WS"): "KGSRCNQP", ("matmul", "WS"): "KJI", ("matmul", "OS"): "IJK"}


@dataclass(frozen=True)
class MapSpatial(ModulePass):
    """Order each tile's loops as the hardware runs them and unroll the array dims.

    The dim on the array rows (C for a conv, K for a matmul) and on its columns (K / J;
    G for a depthwise conv) each get an innermost `array` loop of at most DIM iterations
    marked `spatial = "rows"` / `"cols"`; their `tile` loops then step by DIM.

    Before (WS matmul tile 32x32x32 on a 16x16 array):
        loop.for %k1 = 0 to 32 step 1 attributes {dim = "K", level = "tile"} {
          loop.for %j1 = 0 to 32 step 1 attributes {dim = "J", level = "tile"} {
            loop.for %i1 = 0 to 32 step 1 attributes {dim = "I", level = "tile"} {
    After:
        loop.for %k1 = 0 to 32 step 16 attributes {dim = "K", level = "tile"} {
          loop.for %j1 = 0 to 32 step 16 attributes {dim = "J", level = "tile"} {
            loop.for %i1 = 0 to 32 step 1 attributes {dim = "I", level = "tile"} {
              loop.for %k2 = 0 to 16 step 1 attributes {dim = "K", level = "array",
                                                        spatial = "rows"} {
                loop.for %j2 = 0 to 16 step 1 attributes {dim = "J", level = "array",
                                                          spatial = "cols"} {
    """

    name = "map-spatial"

    def apply(self, module: Operation) -> None:
        target = target_of(module)
        for kernel in kernels(module):
            if not mappable(kernel):
                continue
            nest = nest_of(kernel)
            if nest.by_level("array"):
                continue
            tile_loops = nest.by_level("tile")
            if not tile_loops:
                raise kernel.error("is not tiled: run 'tile' first")
            layer = layer_of(kernel)
            mapping = mapping_of(kernel)
            order = HW_ORDER.get((layer.kind, mapping.dataflow))
            if order is None:
                raise kernel.error(f"no {mapping.dataflow} loop order for a {layer.kind}")
            spatial = mapping.spatial(layer, target)
            by_dim = {str(lp.attr("dim")): lp for lp in tile_loops}
            temporal: list[LoopSpec] = []
            array: list[LoopSpec] = []
            for dim in [d for d in order if d in by_dim]:
                spec = spec_of(by_dim[dim])
                for side, (sdim, size) in spatial.items():
                    if sdim == dim and size > 1:
                        spec.step = size
                        array.append(LoopSpec(dim, 0, size, 1,
                                              {"level": "array", "spatial": side},
                                              f"{dim.lower()}2"))
                temporal.append(spec)
            array.sort(key=lambda s: s.attrs["spatial"] != "rows")
            dram = [spec_of(lp) for lp in nest.by_level("dram")]
            regroup(nest, dram + temporal + array)
