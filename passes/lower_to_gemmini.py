"""Replace each accelerated `loop.kernel` by the Gemmini library op that runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from dlac.ir.attributes import FloatAttr
from dlac.ir.core import Operation
from dlac.ir.dialects import gemmini
from dlac.ir.dialects.loop import KernelOp
from dlac.ir.dialects.loop_host import ConstantBufferOp
from dlac.ir.target import Target
from dlac.ir.types import f32, i32
from dlac.passes.depthwise_groups import depthwise_convs
from dlac.passes.mapping import Mapping
from dlac.passes.materialize import mapped_layer
from dlac.passes.nest import kernels, target_of
from dlac.passes.pass_base import ModulePass, PassError

CONV_DEFAULT_PERM = "NQPKSRC"


def _same(kernel: KernelOp, what: str, values: list[int]) -> int:
    if len(set(values)) != 1:
        raise kernel.error(f"Gemmini's conv needs equal {what}, got {values}")
    return int(values[0])


def _buffers(kernel: KernelOp) -> dict[str, Any]:
    roles = str(kernel.attr("roles"))
    if len(roles) != len(kernel.operands):
        raise kernel.error("'roles' does not name every buffer")
    return dict(zip(roles, kernel.operands, strict=True))


def _common(kernel: KernelOp) -> dict[str, Any]:
    return {"act": str(kernel.attr("act", "none"))}


def _conv(kernel: KernelOp, target: Target, depthwise: bool) -> list[Operation]:
    bufs = _buffers(kernel)
    mapping = kernel.attr("mapping")
    if mapping is not None and dict(mapping)["dims"] == "IJK":
        return _pointwise_matmul(kernel, target, bufs)
    batch, in_rows, in_cols, in_total = bufs["I"].type.shape
    k_rows, k_cols, k_in, w_stride = bufs["W"].type.shape
    _, out_rows, out_cols, out_total = bufs["O"].type.shape
    geometry: dict[str, int] = {
        "batch": batch, "in_rows": in_rows, "in_cols": in_cols,
        "out_rows": out_rows, "out_cols": out_cols,
        "stride": _same(kernel, "strides", list(kernel.attr("strides"))),
        "padding": _same(kernel, "pads", list(kernel.attr("pads"))),
        "kernel_dim": _same(kernel, "kernel sizes", [k_rows, k_cols])}
    dilation = _same(kernel, "dilations", list(kernel.attr("dilations")))
    if list(kernel.attr("input_dilation") or [1, 1]) != [1, 1]:
        raise kernel.error("input dilation is not supported by dlac's Gemmini library "
                           "(legalize-conv inserts the zeros on the host)")
    attrs: dict[str, Any] = {"roles": "".join(bufs), **_common(kernel), "geometry": geometry,
                             "scale": FloatAttr(float(kernel.attr("multiplier")), f32)}
    if depthwise:
        return depthwise_convs(kernel, target, bufs, attrs, dilation)
    geometry.update(in_channels=k_in, out_channels=int(dict(kernel.attr("dims"))["K"]),
                    dilation=dilation, in_stride=in_total, weight_stride=w_stride,
                    out_stride=out_total)
    offsets = _channel_offsets(kernel, bufs)
    if offsets:
        attrs["offsets"] = offsets
    _mapping_attrs(kernel, target, attrs, ("batches", "porows", "pocols", "pochs", "krows", "kcols",
                                   "kchs"))
    return [gemmini.TiledConvOp(list(bufs.values()), [], attrs, loc=kernel.loc)]


def _channel_offsets(kernel: KernelOp, bufs: dict[str, Any]) -> dict[str, int]:
    """Element offsets of a conv reading or writing a channel slice of wider buffers."""
    c_off, k_off = int(kernel.attr("c_offset", 0)), int(kernel.attr("k_offset", 0))
    return {r: off for r, off in (("I", c_off), ("W", k_off), ("B", k_off), ("O", k_off))
            if off and r in bufs}


def _pointwise_matmul(kernel: KernelOp, target: Target, bufs: dict[str, Any]) -> list[Operation]:
    """A pointwise conv mapped as a matmul: NHWC input rows are A's rows, the 1x1 weights
    are B, the output rows are C, so tiled_matmul runs it in place (no im2col copy)."""
    layer = mapped_layer(kernel)
    role = {"I": "A", "W": "B", "B": "D", "O": "C"}
    attrs: dict[str, Any] = {
        "roles": "".join(role[r] for r in bufs), **_common(kernel),
        "dims": [layer.i, layer.j, layer.k],
        "strides": [int(bufs["I"].type.shape[-1]), int(bufs["W"].type.shape[-1]), layer.j,
                    int(bufs["O"].type.shape[-1])],
        "scale": FloatAttr(float(kernel.attr("multiplier")), f32),
        "repeating_bias": "B" in bufs}
    offsets = {role[r]: off for r, off in _channel_offsets(kernel, bufs).items()}
    if offsets:
        attrs["offsets"] = offsets
    _mapping_attrs(kernel, target, attrs, ("tile_I", "tile_J", "tile_K"))
    return [gemmini.TiledMatmulOp(list(bufs.values()), [], attrs, loc=kernel.loc)]


def _mapping_attrs(kernel: KernelOp, target: Target, attrs: dict[str, Any],
                   keys: tuple[str, ...]) -> None:
    """Copy the kernel's mapping (tile arguments, loop order, dataflow, allocation)."""
    data = kernel.attr("mapping")
    if data is None:
        return
    mapping = Mapping.from_attrs(dict(data))
    args = mapping.gemmini_args(mapped_layer(kernel), target)
    attrs["tiles"] = [int(args[k]) for k in keys]
    attrs["perm"] = mapping.perm
    if "dims" in attrs:
        attrs["dataflow"] = mapping.dataflow
    alloc = kernel.attributes.get("alloc")
    if alloc is not None:
        attrs["alloc"] = alloc


def _matmul(kernel: KernelOp, target: Target) -> list[Operation]:
    bufs = _buffers(kernel)
    d = dict(kernel.attr("dims"))
    i, j, k = int(d["I"]), int(d["J"]), int(d["K"])
    roles = "".join(bufs)
    base: dict[str, Any] = {"roles": roles, **_common(kernel), "dims": [i, j, k],
                            "strides": [k, j, j, j],
                            "scale": FloatAttr(float(kernel.attr("multiplier")), f32),
                            "repeating_bias": "D" in bufs}
    if bufs["C"].type.element is i32:  # the accumulator itself: full_C, no requantization
        base["full_c"] = True
    if "B" not in d:
        _mapping_attrs(kernel, target, base, ("tile_I", "tile_J", "tile_K"))
        return [gemmini.TiledMatmulOp(list(bufs.values()), [], base, loc=kernel.loc)]
    ops = []
    for a_off, b_off, c_off in _batch_offsets(bufs):
        offsets = {r: o for r, o in (("A", a_off), ("B", b_off), ("C", c_off)) if o}
        attrs = dict(base, offsets=offsets) if offsets else dict(base)
        ops.append(gemmini.TiledMatmulOp(list(bufs.values()), [], attrs, loc=kernel.loc))
    return ops


def _batch_offsets(bufs: dict[str, Any]) -> list[tuple[int, int, int]]:
    """(A, B, C) element offsets of every matrix of a batched matmul, with broadcasting."""
    types = [bufs[r].type for r in "ABC"]
    lead = list(types[2].shape[:-2])
    out = []
    for flat in range(int(np.prod(lead)) if lead else 1):
        index = np.unravel_index(flat, lead) if lead else ()
        offs = []
        for ty in types:
            own = list(ty.shape[:-2])
            base = len(lead) - len(own)
            off = 0
            for dim, size in enumerate(own):
                off = off * size + (int(index[base + dim]) if size != 1 else 0)
            offs.append(off * ty.shape[-1] * ty.shape[-2])
        out.append((offs[0], offs[1], offs[2]))
    return out


def _resadd(kernel: KernelOp, target: Target) -> list[Operation]:
    bufs = _buffers(kernel)
    d = dict(kernel.attr("dims"))
    attrs = {"roles": "".join(bufs), **_common(kernel), "dims": [int(d["I"]), int(d["J"])]}
    for key in ("a_scale", "b_scale", "c_scale"):
        attrs[key] = FloatAttr(float(kernel.attr(key)), f32)
    return [gemmini.TiledResaddOp(list(bufs.values()), [], attrs, loc=kernel.loc)]


LOWERINGS = {"conv": lambda k, t: _conv(k, t, False), "conv_dw": lambda k, t: _conv(k, t, True),
             "matmul": _matmul, "resadd": _resadd}


@dataclass(frozen=True)
class LowerToGemmini(ModulePass):
    """Turn every `loop.kernel` into the Gemmini library op(s) that execute it.

    Geometry comes from the kernel's buffers (NHWC activations, HWIO weights) and
    attributes; a mapped kernel passes its tiles, DRAM loop order, dataflow and buffer
    allocation on; a batched matmul becomes one op per matrix; a depthwise conv becomes one
    block-diagonal op that runs dense convs over channel groups (`depthwise_groups`),
    reading a new weight constant. Constants nothing uses any more are erased.

    Before:
        "loop.kernel"(%x, %w, %b, %y) ({...}) {kind = "conv", roles = "IWBO", ...,
            mapping = {dims = "NKCPQRS", tiles = [1, 16, 32, 8, 8, 3, 3], perm = "NQPKSRC", ...}}
    After:
        gemmini.tiled_conv %x, %w, %b, %y {roles = "IWBO", act = "relu", geometry = {...},
            scale = 0.01 : f32, tiles = [1, 8, 8, 16, 3, 3, 32], perm = "NQPKSRC"}

    Before (depthwise, 40 channels, 16x16 array, no mapping):
        %w = loop.constant {value = dense<...> : tensor<3x3x1x40xi8>} : ...
        "loop.kernel"(%x, %w, %b, %y) ({...}) {kind = "conv_dw", ...}
    After:
        %w_blockdiag = loop.constant {value = dense<...> : tensor<3x3x16x40xi8>} : ...
        gemmini.tiled_conv %x, %w_blockdiag, %b, %y {..., geometry = {..., in_channels = 16,
            out_channels = 16, channels = 40, ..., in_stride = 40, weight_stride = 40,
            out_stride = 40}, block_diagonal = true}        (groups of 16, 16 and 8)
    """

    name = "lower-to-gemmini"

    def apply(self, module: Operation) -> None:
        target = target_of(module)
        for kernel in kernels(module):
            lower = LOWERINGS.get(str(kernel.attr("kind")))
            if lower is None:
                raise PassError(f"{kernel.loc.prefix()}: no Gemmini lowering for kernel kind "
                                f"'{kernel.attr('kind')}'")
            block = kernel.parent
            assert block is not None
            for op in lower(kernel, target):
                block.insert_before(kernel, op)
            used = list({id(v): v for v in kernel.operands}.values())
            kernel.erase()
            for value in used:
                if isinstance(value.owner, ConstantBufferOp) and not value.uses:
                    value.owner.erase()
