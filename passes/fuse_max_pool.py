"""Fuse a host max pool into the `gemmini.tiled_conv` that produces its input.

Gemmini's `tiled_conv` takes `pool_size`, `pool_stride` and `pool_padding`: the store of
each output tile max-pools the accumulator rows on the way out, so the pooled tensor is
the only one that reaches DRAM and the CPU never walks the conv's full output (ResNet-50's
3x3/2 stem pool was the largest host step of the zoo models).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.core import Operation, Value
from dlac.ir.dialects import gemmini
from dlac.ir.dialects.loop import AllocOp, KernelOp
from dlac.ir.dialects.loop_host import HostOp
from dlac.ir.target import Target
from dlac.passes.mapping.capacity import limits
from dlac.passes.nest import target_of
from dlac.passes.pass_base import ModulePass

POOL_FIELD_MAX = 3
"""Pool size, stride and padding are 2-bit fields of Gemmini's config_st."""
TILE_FIELD_MAX = 255
"""The pooled width and a tile's conv rows and cols are 8-bit fields of config_st."""


def pool_params(pool: HostOp) -> tuple[int, int, int] | None:
    """(size, stride, padding) of a square, symmetric, undilated max pool that Gemmini's
    store can run, else None."""
    kernel = [int(k) for k in pool.attr("kernel")]
    strides = [int(s) for s in pool.attr("strides")]
    pads = [int(p) for p in pool.attr("pads")]
    if len(set(kernel)) != 1 or len(set(strides)) != 1 or len(set(pads)) != 1 or \
            any(int(d) != 1 for d in pool.attr("dilations", [1, 1])):
        return None
    size, stride, pad = kernel[0], strides[0], pads[0]
    if not (1 <= size <= POOL_FIELD_MAX and 1 <= stride <= POOL_FIELD_MAX and
            0 <= pad <= POOL_FIELD_MAX and pad < size):
        return None
    return size, stride, pad


def _producers(value: Value, pool: HostOp) -> list[gemmini.TiledConvOp] | None:
    """The dense convs that write `value` (a scratch buffer only `pool` reads): one, or
    one per run of output channels (weight splits, `k_splits`), each writing its slice."""
    if not isinstance(value.owner, AllocOp):
        return None
    writers = [op for op, _ in value.uses if op is not pool]
    if not writers or len(writers) + 1 != len(value.uses):
        return None
    chans = value.type.shape[-1]
    covered = 0
    for conv in sorted(writers, key=lambda c: dict(c.attr("offsets") or {}).get("O", 0)):
        if not isinstance(conv, gemmini.TiledConvOp) or conv.depthwise or \
                str(conv.attr("roles"))[-1] != "O" or conv.operands[-1] is not value:
            return None
        g = dict(conv.attr("geometry"))
        if dict(conv.attr("offsets") or {}).get("O", 0) != covered or g["out_stride"] != chans:
            return None
        covered += int(g["out_channels"])
    return writers if covered == chans else None


def _pooled(dim: int, size: int, stride: int, pad: int) -> int:
    return (dim + 2 * pad - size) // stride + 1


def _pooled_tile(rows: int, size: int, stride: int) -> int | None:
    """Pooled outputs per tile for which Gemmini's tile (p * stride + size - 1 conv rows,
    tiled_conv's own formula) holds at most the `rows` conv outputs the mapping tiled, so
    the fused tile fits wherever the plain one did; None if not even one does."""
    pooled = (rows - size + 1) // stride
    return pooled if pooled >= 1 else None


def pooled_tiles(tiles: list[int], pool: tuple[int, int, int], pooled_rows: int,
                 pooled_cols: int, stride: int, dilation: int, target: Target
                 ) -> list[int] | None:
    """The fused conv's tile arguments for a plain conv mapping's `tiles` (batches,
    porows, pocols, pochs, krows, kcols, kchs): the pooled outputs whose windows its tile
    covers. A tile too small for one window grows to one pooled row (column), the pooled
    columns shrinking until the tile fits the memories; None if even that does not fit
    (the library's heuristic then tiles)."""
    size, pstride, _ = pool
    b, porows, pocols, *rest = (int(t) for t in tiles)
    prow, pcol = _pooled_tile(porows, size, pstride), _pooled_tile(pocols, size, pstride)
    fused = [b, min(prow or 1, pooled_rows), min(pcol or 1, pooled_cols), *rest]
    if prow is not None and pcol is not None:
        return fused
    while not _fits(fused, pool, stride, dilation, target):
        if fused[2] == 1:
            return None
        fused[2] -= 1
    return fused


def _fits(tiles: list[int], pool: tuple[int, int, int], stride: int, dilation: int,
          target: Target) -> bool:
    """Whether a pooled tile fits half of each memory (tiled_conv's own row count)."""
    b, prow, pcol, pochs, krows, kcols, kchs = tiles
    size, pstride, _ = pool
    orows, ocols = prow * pstride + size - 1, pcol * pstride + size - 1
    irows = orows * stride + krows + (dilation - 1) * (krows - 1) - 1
    icols = ocols * stride + kcols + (dilation - 1) * (kcols - 1) - 1
    dim = target.dim
    sp = -(-kchs // dim) * b * irows * icols + -(-pochs // dim) * kcols * krows * kchs
    acc = -(-pochs // dim) * b * orows * ocols
    sp_max, acc_max = limits(target, True)
    return sp <= sp_max and acc <= acc_max


def fusable(pool: HostOp, act: str, conv_shape: tuple[int, int, int],
            out_stride: int) -> tuple[int, int, int] | None:
    """The pool's (size, stride, padding) if the store of a conv with activation `act`,
    output shape `conv_shape` (batch, rows, cols) and output row stride `out_stride` can
    run it, else None (the caller checks that its convs write every channel)."""
    params = pool_params(pool)
    if params is None:
        return None
    size, stride, pad = params
    batch, out_rows, out_cols = conv_shape
    if pad and act != "relu":
        return None  # Gemmini pads the window with 0: the max only if the values are >= 0
    n, rows, cols, pooled_chans = pool.operands[-1].type.shape
    if (n, rows, cols) != (batch, _pooled(out_rows, size, stride, pad),
                           _pooled(out_cols, size, stride, pad)) \
            or out_stride != pooled_chans:
        return None  # ceil_mode, or an output that is a slice of a wider buffer
    if max(out_rows, out_cols) > TILE_FIELD_MAX:
        return None
    return params


def kernel_pool(kernel: KernelOp) -> tuple[int, int, int] | None:
    """The max pool fuse-max-pool will fold into this conv kernel once it is a
    tiled_conv, as (size, stride, padding), or None: the same conditions, read off the
    kernel (its output a scratch buffer that only the pool reads, no channel offsets), so
    the co-design search costs the conv it will run."""
    if kernel.attr("kind") != "conv" or kernel.attr("c_offset", 0) or kernel.attr("k_offset", 0):
        return None
    roles = str(kernel.attr("roles") or "")
    if not roles.endswith("O") or len(roles) != len(kernel.operands):
        return None
    out = kernel.operands[-1]
    if not isinstance(out.owner, AllocOp):
        return None
    outside = [op for op, _ in out.uses if not op.is_within(kernel)]
    readers = [op for op in outside if op is not kernel]
    if len(outside) != 2 or len(readers) != 1 or not isinstance(readers[0], HostOp):
        return None
    pool = readers[0]
    if pool.attr("kind") != "qgraph.max_pool" or \
            list(pool.attr("layouts") or []) != ["nhwc", "nhwc"]:
        return None
    n, rows, cols, total = out.type.shape
    if int(dict(kernel.attr("dims"))["K"]) != total:
        return None
    return fusable(pool, str(kernel.attr("act", "none")), (n, rows, cols), total)


def fuse(convs: list[gemmini.TiledConvOp], pool: HostOp, target: Target) -> bool:
    """Make `convs` (together writing every channel of `pool`'s input, see _producers)
    write `pool`'s output pooled, each its own channel slice; False (nothing changed) if
    one cannot."""
    params = None
    for conv in convs:
        g = dict(conv.attr("geometry"))
        params = fusable(pool, str(conv.attr("act", "none")),
                         (g["batch"], g["out_rows"], g["out_cols"]), g["out_stride"])
        if params is None:
            return False
    out = pool.operands[-1]
    scratch = convs[0].operands[-1].owner
    if isinstance(out.owner, AllocOp) and out.owner.parent is scratch.parent:
        block = scratch.parent
        block.insert_before(scratch, block.detach(out.owner))  # defined before the convs
    for conv in convs:
        _pool_on_store(conv, out, params, target)
    pool.erase()
    scratch.erase()
    return True


def _pool_on_store(conv: gemmini.TiledConvOp, out: Value, params: tuple[int, int, int],
                   target: Target) -> None:
    size, stride, pad = params
    _, rows, cols, _ = out.type.shape
    g = dict(conv.attr("geometry"))
    tiles = conv.attr("tiles")
    if tiles is not None:
        fused = pooled_tiles(list(tiles), params, rows, cols, g["stride"],
                             g.get("dilation", 1), target)
        if fused is None:
            conv.attributes.pop("tiles")
        else:
            conv.set_attr("tiles", fused)
    conv.attributes.pop("perm", None)
    conv.attributes.pop("alloc", None)
    conv.set_attr("pool", {"size": size, "stride": stride, "padding": pad})
    conv.set_operand(len(conv.operands) - 1, out)


@dataclass(frozen=True)
class FuseMaxPool(ModulePass):
    """Fold every `qgraph.max_pool` host step into the dense `tiled_conv` producing its
    input, as Gemmini's `tiled_conv(..., pool_size, pool_stride, pool_padding)`.

    Fused when the pool is square, symmetric and undilated with size, stride and padding
    <= 3, its output has the floor-mode shape Gemmini computes, the conv's output is a
    scratch buffer only the pool reads (written by one conv, or by one per run of output
    channels of a weight-split conv, each then pooling its channel slice), and (with
    padding) the conv applies ReLU: Gemmini pads a window with 0, which is the
    reference's -128 padding exactly when every value is >= 0. A mapped conv's output
    tile becomes the pooled outputs whose windows it covers (so it fits where the plain
    tile did); a tile smaller than one window grows to one pooled row or column with
    fewer pooled columns until it fits (Gemmini's heuristic retiles only when none does).
    It runs in the library's own DRAM loop order (the pooled loop has no permuted
    variant).

    Before:
        %r = loop.alloc : () -> memref<1x8x8x8xi8, "dram">
        gemmini.tiled_conv %x, %w, %b, %r {act = "relu", tiles = [1, 8, 8, 8, 3, 3, 3], ...}
        loop.host %r, %p {kind = "qgraph.max_pool", kernel = [2, 2], strides = [2, 2], ...}
    After:
        gemmini.tiled_conv %x, %w, %b, %p {act = "relu", tiles = [1, 4, 4, 8, 3, 3, 3],
            pool = {size = 2, stride = 2, padding = 0}, ...}
    """

    name = "fuse-max-pool"

    def apply(self, module: Operation) -> None:
        target = target_of(module)
        for op in list(module.walk()):
            if not isinstance(op, HostOp) or op.attr("kind") != "qgraph.max_pool" or \
                    list(op.attr("layouts") or []) != ["nhwc", "nhwc"]:
                continue
            convs = _producers(op.operands[0], op)
            if convs is not None:
                fuse(convs, op, target)
