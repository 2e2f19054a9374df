"""The pass pipeline's conv-lowering knob: direct `loop_conv_ws` or an im2col matmul.

im2col turns a convolution into C[N*P*Q x K] = A[N*P*Q x R*S*C] B[R*S*C x K]. It pays off
where the direct conv wastes the array (e.g. a 3-channel first layer fills 3 of DIM rows;
the matmul's reduction dim R*S*C fills them all) and costs a host-side copy that builds A.
A 1x1, stride-1, unpadded conv over NHWC data is already that matrix, so it is free.

The copy's cost is an assumption until the backends emit im2col and the simulator times
it: the host reads the input and writes A at HOST_COPY_BYTES_PER_CYCLE, and both streams
go through DRAM at the simulator's per-byte DRAM energy.
"""

from __future__ import annotations

from dlac.ir.hwcost import DRAM_PJ
from dlac.passes.mapping import ConvLayer, Layer, MatmulLayer

HOST_COPY_BYTES_PER_CYCLE = 1.0
LOWERINGS = ("direct", "im2col")


def can_im2col(layer: Layer) -> bool:
    return isinstance(layer, ConvLayer) and not layer.depthwise


def im2col_layer(layer: ConvLayer) -> MatmulLayer:
    """The matmul an im2col lowering of `layer` runs on the accelerator."""
    return MatmulLayer(f"{layer.name}_im2col", i=layer.batch * layer.out_rows * layer.out_cols,
                       j=layer.out_channels,
                       k=layer.kernel_rows * layer.kernel_cols * layer.in_channels,
                       has_bias=layer.has_bias)


def is_reshape(layer: ConvLayer) -> bool:
    """True when the NHWC input already is the im2col matrix (no copy)."""
    return (layer.kernel_rows == layer.kernel_cols == 1 and layer.stride == 1
            and layer.padding == 0)


def im2col_overhead(layer: ConvLayer) -> tuple[float, float]:
    """(cycles, energy_pj) of building the im2col matrix on the host."""
    if is_reshape(layer):
        return 0.0, 0.0
    mm = im2col_layer(layer)
    moved = float(layer.batch * layer.in_rows * layer.in_cols * layer.in_channels + mm.i * mm.k)
    return moved / HOST_COPY_BYTES_PER_CYCLE, moved * DRAM_PJ


def lowered(layer: Layer, lowering: str) -> Layer:
    """The layer the accelerator runs under `lowering`."""
    if lowering == "im2col" and isinstance(layer, ConvLayer):
        return im2col_layer(layer)
    return layer


def overhead(layer: Layer, lowering: str) -> tuple[float, float]:
    if lowering == "im2col" and isinstance(layer, ConvLayer):
        return im2col_overhead(layer)
    return 0.0, 0.0
