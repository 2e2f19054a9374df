"""Run a global average pool on Gemmini: a `tiled_matmul` with a ones vector.

The quantized reference averages as ACC_SCALE(sum, float32(m) / float32(count)) over an
int32 sum (dlac.ir.semantics.qgraph), which is exactly what a matmul of a ones row with
the pooled pixels does on the accumulator with that scale: the sum of int8 products is
exact in int32 and the scale is applied once, rounded and saturated the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.attributes import DenseAttr, FloatAttr
from dlac.ir.core import Operation, Value
from dlac.ir.dialects import gemmini
from dlac.ir.dialects.loop_host import ConstantBufferOp, HostOp
from dlac.ir.types import MemRefType, TensorType, f32, i8
from dlac.passes.pass_base import ModulePass


def _global(pool: HostOp) -> bool:
    """A window over the whole unpadded image, NHWC in and out (C contiguous)."""
    x = pool.operands[0].type
    return (x.rank == 4 and [int(k) for k in pool.attr("kernel")] == list(x.shape[1:3]) and
            not any(int(p) for p in pool.attr("pads")) and
            list(pool.attr("layouts") or []) == ["nhwc", "nhwc"])


def _ones(pool: HostOp, pixels: int) -> Value:
    """The 1 x pixels int8 ones row, as a new constant before `pool`."""
    data = np.ones((1, pixels), np.int8)
    const = ConstantBufferOp(result_types=[MemRefType(data.shape, i8, "dram")],
                             attributes={"value": DenseAttr(data, TensorType(data.shape, i8))},
                             loc=pool.loc)
    const.results[0].name_hint = "ones"
    pool.parent.insert_before(pool, const)
    return const.results[0]


def matmuls(pool: HostOp) -> list[gemmini.TiledMatmulOp]:
    """One `ones[1 x HW] . X_n[HW x C]` tiled_matmul per image n, scaled by m / HW."""
    x, y = pool.operands
    batch, rows, cols, chans = x.type.shape
    pixels = rows * cols
    scale = np.float32(pool.attr("multiplier")) / np.float32(pixels)
    ones = _ones(pool, pixels)
    ops = []
    for n in range(batch):
        offsets = {r: o for r, o in (("B", n * pixels * chans), ("C", n * chans)) if o}
        attrs = {"roles": "ABC", "act": "none", "dims": [1, chans, pixels],
                 "strides": [pixels, chans, chans, chans],
                 "scale": FloatAttr(float(scale), f32), "repeating_bias": False}
        if offsets:
            attrs["offsets"] = offsets
        ops.append(gemmini.TiledMatmulOp([ones, x, y], [], attrs, loc=pool.loc))
    return ops


@dataclass(frozen=True)
class AvgPoolToGemmini(ModulePass):
    """Replace every global `qgraph.avg_pool` host step (window = the whole unpadded
    image, NHWC) by tiled_matmuls of a ones row with each image's [pixels x channels]
    view, scaled by float32(multiplier) / float32(pixels): bit-exact with the reference's
    ACC_SCALE of the int32 window sum. Gemmini's heuristic tiles them.

    Before:
        loop.host %x, %g {kind = "qgraph.avg_pool", kernel = [7, 7], pads = [0, 0, 0, 0],
            multiplier = 1.31 : f32, layouts = ["nhwc", "nhwc"]}
            : memref<1x7x7x2048xi8, "dram">, memref<1x1x1x2048xi8, "dram">
    After:
        %ones = loop.constant {value = dense<1> : tensor<1x49xi8>}
        gemmini.tiled_matmul %ones, %x, %g {roles = "ABC", act = "none",
            dims = [1, 2048, 49], strides = [49, 2048, 2048, 2048], scale = 0.0267 : f32, ...}
    """

    name = "avg-pool-to-gemmini"

    def apply(self, module: Operation) -> None:
        for op in list(module.walk()):
            if isinstance(op, HostOp) and op.attr("kind") == "qgraph.avg_pool" and _global(op):
                for new in matmuls(op):
                    op.parent.insert_before(op, new)
                op.erase()
