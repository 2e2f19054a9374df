"""The pass pipeline's conv-lowering knob: direct `loop_conv_ws`, an im2col matmul, or
(depthwise convs) flat rows.

im2col turns a convolution into C[N*P*Q x K] = A[N*P*Q x R*S*C] B[R*S*C x K]. It pays off
where the direct conv wastes the array (e.g. a 3-channel first layer fills 3 of DIM rows;
the matmul's reduction dim R*S*C fills them all) and costs a host-side copy that builds A.
A 1x1, stride-1, unpadded conv over NHWC data is already that matrix, so it is free, and
the backends emit it as a tiled_matmul (lower-to-gemmini, for a conv whose mapping is a
matmul's): the knob is always on for those. For other convs it is opt-in (`--im2col`) and
search-only: the backends do not emit the copy, so the emitted code runs them directly.

A depthwise conv may also run "flat" (dlac.passes.mapping.flat_depthwise): its padded
rows back to back in the scratchpad, so a compute covers DIM outputs across output rows
where loop_conv_ws covers one row. The backends emit it (`dlac_conv_dw_flat`); its own
cost model and tile enumeration replace the tile search.

The copy's cost is an assumption until the backends emit im2col and the simulator times
it: the host reads the input and writes A at HOST_COPY_BYTES_PER_CYCLE, and both streams
go through DRAM at the simulator's per-byte DRAM energy.
"""

from __future__ import annotations

from dlac.ir.hwcost import DRAM_PJ
from dlac.passes.mapping import ConvLayer, Layer
from dlac.passes.mapping.flat_depthwise import LOWERING as FLAT
from dlac.passes.mapping.flat_depthwise import flat_ok

HOST_COPY_BYTES_PER_CYCLE = 1.0
LOWERINGS = ("direct", "im2col", FLAT)


def can_im2col(layer: Layer, any_conv: bool) -> bool:
    """Pointwise convs always may (the backends emit them as tiled_matmul); other dense
    convs only when `any_conv` asks for the search-only copy lowering."""
    return isinstance(layer, ConvLayer) and (layer.pointwise or (
        any_conv and not layer.depthwise and not layer.pooled))


def can_flat(layer: Layer) -> bool:
    return isinstance(layer, ConvLayer) and flat_ok(layer)


def emitted(layer: Layer, lowering: str) -> bool:
    """Whether the backends emit `layer` under `lowering` (else it runs directly)."""
    return lowering in ("direct", FLAT) or (isinstance(layer, ConvLayer) and layer.pointwise)


def im2col_overhead(layer: ConvLayer) -> tuple[float, float]:
    """(cycles, energy_pj) of building the im2col matrix on the host."""
    if layer.pointwise:
        return 0.0, 0.0
    mm = layer.as_matmul()
    moved = float(layer.batch * layer.in_rows * layer.in_cols * layer.in_channels + mm.i * mm.k)
    return moved / HOST_COPY_BYTES_PER_CYCLE, moved * DRAM_PJ


def lowered(layer: Layer, lowering: str) -> Layer:
    """The layer the accelerator runs under `lowering`."""
    if lowering == "im2col" and isinstance(layer, ConvLayer):
        return layer.as_matmul()
    return layer


def overhead(layer: Layer, lowering: str) -> tuple[float, float]:
    if lowering == "im2col" and isinstance(layer, ConvLayer):
        return im2col_overhead(layer)
    return 0.0, 0.0
