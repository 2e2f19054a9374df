"""Place each mapped tile in the scratchpad and accumulator, and check that it fits."""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.core import Operation
from dlac.passes.depthwise_groups import flat_tiles
from dlac.passes.mapping.capacity import limits, tile_rows
from dlac.passes.mapping.flat_depthwise import LOWERING as FLAT
from dlac.passes.materialize import mappable, mapped_layer
from dlac.passes.nest import kernels, target_of
from dlac.passes.pass_base import ModulePass
from dlac.passes.tile import mapping_of


@dataclass(frozen=True)
class AllocateBuffers(ModulePass):
    """Record where each tile lives on chip as the kernel's `alloc` attribute.

    A double-buffered tile (WS: loop_ws / loop_conv_ws keep two tiles in flight) gets one
    half of each memory per slot: inputs and weights from the start of the scratchpad half
    (weights packed against its end, as the loop FSMs place them), partial sums from the
    start of the accumulator half. A single-buffered (OS) tile uses the whole memory from
    row 0. `banks` lists the scratchpad banks slot 0 touches. A tile that does not fit
    is an error naming the layer and both sizes. A depthwise conv lowered flat places its
    tiles itself (dlac_conv_dw_flat); here they are only checked to fit.

    Before:
        "loop.kernel"(...) ({...}) {..., mapping = {dims = "IJK", tiles = [64, 64, 64], ...}}
    After (default 16x16 Gemmini):
        "loop.kernel"(...) ({...}) {..., alloc = {slots = 2, spad = [[0, 512], [8192, 512]],
            acc = [[0, 256], [512, 256]], banks = [0]}}
    """

    name = "allocate-buffers"

    def apply(self, module: Operation) -> None:
        target = target_of(module)
        for kernel in kernels(module):
            if not mappable(kernel) or kernel.attr("mapping") is None:
                continue
            layer = mapped_layer(kernel)
            mapping = mapping_of(kernel)
            if dict(kernel.attr("mapping")).get("lowering") == FLAT:
                flat_tiles(kernel, layer, target, mapping)
                continue
            sp_rows, acc_rows = (int(v) for v in tile_rows(
                layer, mapping.canonical_tiles(layer), target.dim))
            sp_cap, acc_cap = limits(target, mapping.double_buffer)
            if sp_rows > sp_cap or acc_rows > acc_cap:
                raise kernel.error(
                    f"tile of layer '{kernel.attr('sym_name')}' needs {sp_rows} scratchpad and "
                    f"{acc_rows} accumulator rows, but {target.name} offers {sp_cap} and "
                    f"{acc_cap} per tile")
            slots = 2 if mapping.double_buffer else 1
            spad = [[s * sp_cap, sp_rows] for s in range(slots)]
            acc = [[s * acc_cap, acc_rows] for s in range(slots)]
            first, last = 0, max(sp_rows - 1, 0)
            banks = list(range(first // target.sp_bank_rows, last // target.sp_bank_rows + 1))
            kernel.set_attr("alloc", {"slots": slots, "spad": spad, "acc": acc, "banks": banks})
