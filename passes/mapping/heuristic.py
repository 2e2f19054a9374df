"""Gemmini's own tile choice (tiled_matmul_auto, tiled_conv_auto) as a mapping generator.

This is the baseline every co-design result is compared against, so it follows the
library's algorithm step for step (gemmini.md section 4), including its DRAM loop order
(matmul i0, j0, k0; conv b, porow, pocol, poch, krow, kcol, kch) and its capacity rules.
"""

from __future__ import annotations

import math

from dlac.ir.target import Target

from . import capacity
from .layer import ConvLayer, Layer, MatmulLayer
from .mapping import Mapping
from .space import MappingSpace


def matmul_tiles(i: int, j: int, k: int, target: Target, dataflow: str = "WS"
                 ) -> tuple[int, int, int]:
    """tiled_matmul_auto's (tile_I, tile_J, tile_K) in DIM blocks."""
    dim = target.dim
    ib, jb, kb = -(-i // dim), -(-j // dim), -(-k // dim)
    ws = dataflow == "WS"
    sp_max, acc_max = capacity.limits(target, ws)
    if ws:
        m = math.isqrt(target.acc_rows // 2 // dim)
        kmax = target.sp_rows // 4 // dim // m
    else:
        m = math.isqrt(target.acc_rows // dim)
        kmax = target.sp_rows // 2 // dim // m
    ti, tj, tk = min(ib, m), min(jb, m), min(kb, kmax)

    def spad(a: int, b: int, c: int) -> int:
        return (a * c + c * b) * dim

    changed = True
    while changed:
        changed = False
        if tj + 1 <= jb and spad(ti, tj + 1, tk) <= sp_max and ti * (tj + 1) * dim <= acc_max:
            tj += 1
            changed = True
        if ti + 1 <= ib and spad(ti + 1, tj, tk) <= sp_max and (ti + 1) * tj * dim <= acc_max:
            ti += 1
            changed = True
        if tk + 1 <= kb and spad(ti, tj, tk + 1) <= sp_max:
            tk += 1
            changed = True
    return ti, tj, tk


def conv_tiles(layer: ConvLayer, target: Target, pooled: bool = False) -> tuple[int, ...]:
    """tiled_conv_auto's (batches, porows, pocols, pochs, krows, kcols, kchs).

    A depthwise layer is searched with its channels in both channel slots (pochs, kchs)
    moving together, since a depthwise tile keeps in and out channels equal. `pooled`:
    the tiles tiled_conv_stride_auto picks for a conv with a fused max pool (porows and
    pocols count pooled outputs, each needing pool stride x them + size - 1 conv rows)."""
    dim = target.dim
    sp_max, acc_max = capacity.limits(target, True)
    c = layer.canonical()
    if layer.depthwise:
        full = [c["N"], c["Q"], c["P"], c["G"], c["S"], c["R"], c["G"]]
    else:
        full = [c["N"], c["Q"], c["P"], c["K"], c["S"], c["R"], c["C"]]
    size, stride = (layer.pool_size, layer.pool_stride) if pooled else (1, 1)
    if pooled:
        full[1], full[2] = layer.pooled_rows, layer.pooled_cols

    def rows(a: list[int]) -> tuple[int, int]:
        n, q, p, k, s, r, ch = a
        q, p = q * stride + size - 1, p * stride + size - 1
        if layer.depthwise:
            return capacity.conv_rows(layer, n, k, 1, 1, p, q, r, s, dim)
        return capacity.conv_rows(layer, n, 1, k, ch, p, q, r, s, dim)

    def fits(a: list[int]) -> bool:
        sp, acc = rows(a)
        return sp <= sp_max and acc <= acc_max

    def tie(a: list[int], idx: int, value: int) -> list[int]:
        out = list(a)
        out[idx] = value
        if layer.depthwise and idx in (3, 6):
            out[3] = out[6] = value
        return out

    args = list(full)
    while not fits(args):
        best, best_idx = -1, -1
        for idx, v in enumerate(args):
            if idx == 2 and v <= dim and args[1] > 1:
                continue
            if v > best:
                best, best_idx = v, idx
        if best_idx in (3, 6):
            v = args[best_idx]
            v = (v // dim) * dim if v % dim else v - dim
            args = tie(args, best_idx, max(v, 1))
        else:
            args = tie(args, best_idx, args[best_idx] - 1)

    while args[2] + 1 <= full[2] and fits(tie(args, 2, args[2] + 1)):
        args = tie(args, 2, args[2] + 1)

    changed = True
    while changed:
        changed = False
        for idx in range(7):
            cand = tie(args, idx, args[idx] + 1)
            if cand[idx] <= full[idx] and fits(cand):
                args = cand
                changed = True
    return tuple(args)


def heuristic_mapping(layer: Layer, target: Target) -> Mapping:
    """The mapping Gemmini's library picks: WS where the target has it, else OS.

    Raises NoLegalMapping (via MappingSpace) when no tile fits the target at all."""
    space = MappingSpace(layer, target)
    if isinstance(layer, MatmulLayer):
        # tiled_matmul_auto's WS sizing needs one DIM block in half of each memory; on a
        # target too small for that but with OS, the OS path is the one that can run.
        ws_fits = target.acc_rows // 2 >= target.dim and target.sp_rows // 4 >= target.dim
        dataflow = "WS" if target.supports_ws and (ws_fits or not target.supports_os) else "OS"
        ti, tj, tk = matmul_tiles(layer.i, layer.j, layer.k, target, dataflow)
        dim = target.dim
        tiles = {"I": min(ti * dim, layer.i), "J": min(tj * dim, layer.j),
                 "K": min(tk * dim, layer.k)}
        mapping = Mapping.create(tiles, layer.default_perm, dataflow)
    else:
        n, q, p, k, s, r, ch = conv_tiles(layer, target)
        if layer.depthwise:
            tiles = {"N": n, "G": k, "P": p, "Q": q, "R": r, "S": s}
        else:
            tiles = {"N": n, "K": k, "C": ch, "P": p, "Q": q, "R": r, "S": s}
        mapping = Mapping.create({d: tiles[d] for d in layer.dim_names}, layer.default_perm)
    space.check(mapping)
    return mapping
