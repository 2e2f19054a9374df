"""A depthwise conv as block-diagonal dense convs over groups of channels.

A weight-stationary array feeds every column the same input rows, so it cannot give each
output channel its own input channel. A dense conv with in = out = gw channels whose
weights are zero off the diagonal computes gw depthwise channels at once, bit-exact (the
zeros add nothing to the int32 accumulators). A depthwise conv over G channels therefore
runs as ceil(G / gw) dense convs, group g0 reading and writing channels g0 .. g0 + w - 1
(in/out stride G) with bias and weight pointers offset by g0; one library call
(`dlac_tiled_conv_dw_groups`) loops over the groups, so the CPU's per-call cost is paid
once per layer rather than once per group.

Contract with the cost model (dse/depthwise.py): gw = min(DIM, channel tile), the channel
tile being the mapping's G tile, or DIM for a kernel without a mapping; each call uses the
mapping's N/Q/P/S/R tiles and DRAM loop order with both channel tiles equal to its width.

A mapping whose `lowering` is flat (dlac.passes.mapping.flat_depthwise) runs instead as
one `dlac_conv_dw_flat` call over the same groups, its weights one diagonal block per
group and tap (`diagonal_blocks`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from dlac.ir.attributes import DenseAttr
from dlac.ir.core import Operation, Value
from dlac.ir.dialects import gemmini
from dlac.ir.dialects.loop import KernelOp
from dlac.ir.dialects.loop_host import ConstantBufferOp
from dlac.ir.target import Target
from dlac.ir.types import MemRefType, TensorType
from dlac.passes.mapping import ConvLayer, Mapping, capacity, flat_depthwise
from dlac.passes.materialize import layer_of


def group_width(channel_tile: int | None, dim: int) -> int:
    """Channels per dense call: the channel tile capped at the array width."""
    return dim if channel_tile is None else min(dim, channel_tile)


def groups(channels: int, width: int) -> list[tuple[int, int]]:
    """(first channel, width) of every group; the last one may be narrower."""
    return [(g0, min(width, channels - g0)) for g0 in range(0, channels, width)]


def dense_perm(perm: str) -> str:
    """A depthwise DRAM loop order (letters of NGPQRS) as tiled_conv's (NQPKSRC): the
    group's output channels K take G's place; its input channels C have one trip, so they
    go innermost, which keeps Gemmini's own order NQPGSR as NQPKSRC."""
    return perm.replace("G", "K") + "C"


def block_diagonal(weights: np.ndarray, width: int) -> np.ndarray:
    """[R][S][1][G] depthwise weights as one [R][S][width][G] dense weight tensor.

    tiled_conv addresses weight row ((krow * S + kcol) * in_channels + kch) with row
    stride G, so the columns of each group hold that group's [R][S][w][w] block-diagonal
    weights. Full groups (w = width) make the whole tensor block diagonal; the narrower
    last group owns its columns alone and uses their first R*S*w rows.
    """
    rows, cols, _, channels = weights.shape
    taps = rows * cols
    flat = np.zeros((taps * width, channels), weights.dtype)
    for g0, w in groups(channels, width):
        block = np.zeros((taps, w, w), weights.dtype)
        diag = np.arange(w)
        block[:, diag, diag] = weights[:, :, 0, g0:g0 + w].reshape(taps, w)
        flat[:taps * w, g0:g0 + w] = block.reshape(taps * w, w)
    return flat.reshape(rows, cols, width, channels)


def diagonal_blocks(weights: np.ndarray, width: int) -> np.ndarray:
    """[R][S][1][G] depthwise weights as one diagonal [width][width] matrix per group of
    `width` channels and kernel tap: [groups][R][S][width][width], the last group padded
    with zeros. The flat lowering (`dlac_conv_dw_flat`) loads each tap's block as one
    contiguous run, where block_diagonal's rows are `G` apart."""
    rows, cols, _, channels = weights.shape
    ngroups = -(-channels // width)
    padded = np.zeros((rows, cols, ngroups * width), weights.dtype)
    padded[:, :, :channels] = weights[:, :, 0, :]
    per_group = padded.reshape(rows, cols, ngroups, width).transpose(2, 0, 1, 3)
    out = np.zeros((ngroups, rows, cols, width, width), weights.dtype)
    diag = np.arange(width)
    out[..., diag, diag] = per_group
    return out


def _weights(kernel: KernelOp, value: Value) -> np.ndarray:
    owner = value.owner
    if not isinstance(owner, ConstantBufferOp):
        raise kernel.error("a depthwise conv needs constant weights (loop.constant) to run "
                           "as block-diagonal dense convs")
    return owner.attributes["value"].data


def _constant(kernel: KernelOp, value: Value, data: np.ndarray, suffix: str) -> ConstantBufferOp:
    """`data` as a new weight constant named after `value`."""
    element = value.type.element
    const = ConstantBufferOp(
        result_types=[MemRefType(data.shape, element, value.type.space)],
        attributes={"value": DenseAttr(data, TensorType(data.shape, element))}, loc=kernel.loc)
    const.results[0].name_hint = f"{value.name_hint or 'weights'}_{suffix}"
    return const


def _mapped_tiles(kernel: KernelOp, target: Target) -> tuple[dict[str, int], str] | None:
    """The depthwise mapping's tiled_conv arguments and DRAM order, if it has one."""
    data = kernel.attr("mapping")
    if data is None:
        return None
    mapping = Mapping.from_attrs(dict(data))
    return mapping.gemmini_args(layer_of(kernel), target), mapping.perm


def _check_fits(kernel: KernelOp, target: Target, args: dict[str, int], width: int) -> None:
    """A depthwise tile that fits may not fit as a dense group (its weight tile grows
    width-fold): say so here rather than let the library fail at run time."""
    layer = replace(layer_of(kernel), in_channels=width, out_channels=width, groups=1)
    tiles = {"N": args["batches"], "G": 1, "K": width, "C": width, "P": args["pocols"],
             "Q": args["porows"], "R": args["kcols"], "S": args["krows"]}
    sp, acc = capacity.tile_rows(layer, tiles, target.dim)
    sp_cap, acc_cap = capacity.limits(target, True)
    if sp > sp_cap or acc > acc_cap:
        raise kernel.error(f"depthwise tile as a dense group of {width} channels needs "
                           f"{sp} scratchpad and {acc} accumulator rows, but {target.name} "
                           f"offers {sp_cap} and {acc_cap} per tile")


def flat_tiles(kernel: KernelOp, layer: ConvLayer, target: Target,
               mapping: Mapping) -> tuple[int, int]:
    """A flat mapping's (output rows, channel groups), checked to be tiles
    dlac_conv_dw_flat can hold (else a clear error here rather than a library failure at
    run time)."""
    if not flat_depthwise.flat_ok(layer):
        raise kernel.error(f"the flat lowering runs undilated depthwise convs with square "
                           f"kernels, not {layer.describe()}")
    porows, pgroups = flat_depthwise.from_mapping(layer, target.dim, mapping)
    if not bool(flat_depthwise.fits(layer, target, np.array(porows), np.array(pgroups))):
        raise kernel.error(f"flat depthwise tile of {porows} output rows x {pgroups} "
                           f"channel groups does not fit {target.name}")
    return porows, pgroups


def _group_conv(kernel: KernelOp, bufs: dict[str, Value], base: dict[str, Any],
                weights: np.ndarray, suffix: str, width: int, dilation: int,
                weight_stride: int, attrs: dict[str, Any]) -> list[Operation]:
    """The rearranged weight constant followed by one `tiled_conv` over all channel
    groups of `width`; `attrs` adds what the lowering needs."""
    const = _constant(kernel, bufs["W"], weights, suffix)
    operands = [const.results[0] if role == "W" else value for role, value in bufs.items()]
    channels = int(bufs["O"].type.shape[-1])
    geometry = dict(base["geometry"], in_channels=width, out_channels=width, channels=channels,
                    dilation=dilation, in_stride=int(bufs["I"].type.shape[-1]),
                    weight_stride=weight_stride, out_stride=channels)
    return [const, gemmini.TiledConvOp(operands, [], dict(base, geometry=geometry, **attrs),
                                       loc=kernel.loc)]


def _flat_conv(kernel: KernelOp, target: Target, bufs: dict[str, Value],
               base: dict[str, Any]) -> list[Operation]:
    """The diagonal weight blocks followed by one flat `tiled_conv`."""
    layer = layer_of(kernel)
    tiles = flat_tiles(kernel, layer, target, Mapping.from_attrs(dict(kernel.attr("mapping"))))
    width, _ = flat_depthwise.groups_of(layer, target.dim)
    return _group_conv(kernel, bufs, base, diagonal_blocks(_weights(kernel, bufs["W"]), width),
                       "diagonal", width, 1, width, {"flat": True, "tiles": list(tiles)})


def depthwise_convs(kernel: KernelOp, target: Target, bufs: dict[str, Value],
                    base: dict[str, Any], dilation: int) -> list[Operation]:
    """The expanded weight constant followed by one block-diagonal `tiled_conv` that runs
    every group in a single library call (`dlac_tiled_conv_dw_groups`).

    `base` holds the op attributes every group shares (roles, act, scale, and the
    geometry without channels, dilation and strides).
    """
    data = kernel.attr("mapping")
    if data is not None and dict(data).get("lowering") == flat_depthwise.LOWERING:
        return _flat_conv(kernel, target, bufs, base)
    channels = int(bufs["O"].type.shape[-1])
    mapped = _mapped_tiles(kernel, target)
    width = min(channels, group_width(mapped[0]["pochs"] if mapped else None, target.dim))
    attrs: dict[str, Any] = {"block_diagonal": True}
    if mapped is not None:
        args, perm = mapped
        _check_fits(kernel, target, args, width)
        attrs["tiles"] = [args["batches"], args["porows"], args["pocols"], width,
                          args["krows"], args["kcols"], width]
        attrs["perm"] = dense_perm(perm)
    return _group_conv(kernel, bufs, base, block_diagonal(_weights(kernel, bufs["W"]), width),
                       "blockdiag", width, dilation, channels, attrs)
