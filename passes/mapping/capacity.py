"""Scratchpad and accumulator rows one tile occupies, and what a target offers.

These are Gemmini's own bookkeeping formulas (gemmini.md sections 2.6 and 4.2): the
heuristic, the legality check and the error message must agree on them exactly, so they
live in one place. Every function works on Python ints and on numpy arrays alike (the
space checks millions of tiles at once).
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from typing import Any

import numpy as np
from dlac.ir.target import Target

from .layer import ConvLayer, Layer


def _cdiv(a: Any, b: int) -> Any:
    return (a + (b - 1)) // b


def tile_rows(layer: Layer, tiles: MappingABC[str, Any], dim: int) -> tuple[Any, Any]:
    """(scratchpad rows, accumulator rows) of one tile given canonical tile sizes."""
    if isinstance(layer, ConvLayer):
        return conv_rows(layer, tiles["N"], tiles["G"], tiles["K"], tiles["C"],
                         tiles["P"], tiles["Q"], tiles["R"], tiles["S"], dim)
    ib, jb, kb = _cdiv(tiles["P"], dim), _cdiv(tiles["K"], dim), _cdiv(tiles["C"], dim)
    return (ib * kb + kb * jb) * dim, ib * jb * dim


def conv_rows(layer: ConvLayer, n: Any, g: Any, k: Any, c: Any, p: Any, q: Any, r: Any,
              s: Any, dim: int) -> tuple[Any, Any]:
    """tiled_conv_total_spad_rows without pooling. A depthwise tile runs as dense calls
    over groups of min(G tile, DIM) channels with block-diagonal weights
    (dlac.passes.depthwise_groups), so one call holds one DIM block of input and output
    channels and R x S x width weight rows.

    Gemmini's 1x1 stride-2 `downsample` path (which halves the input rows) is not
    modelled: dlac's C library and simulator do not implement it, so such layers load
    their strided input tile in full."""
    dil = layer.dilation
    s_dil = s + (dil - 1) * (s - 1)
    r_dil = r + (dil - 1) * (r - 1)
    irows = q * layer.stride + s_dil - 1
    icols = p * layer.stride + r_dil - 1
    if layer.depthwise:
        return n * irows * icols + r * s * np.minimum(g, dim), n * q * p
    a_rows = _cdiv(c, dim) * n * irows * icols
    b_rows = _cdiv(k, dim) * r * s * c
    c_rows = _cdiv(k, dim) * n * q * p
    return a_rows + b_rows, c_rows


def limits(target: Target, double_buffer: bool) -> tuple[int, int]:
    """Rows one tile may use. loop_ws / loop_conv_ws keep two tiles in flight, so a
    double-buffered tile gets half of each memory."""
    if double_buffer:
        return target.sp_rows // 2, target.acc_rows // 2
    return target.sp_rows, target.acc_rows


def min_buffers_kib(layer: Layer, target: Target, double_buffer: bool) -> tuple[float, float]:
    """Smallest (scratchpad KiB, accumulator KiB) that hold the smallest tile."""
    ones = {d: 1 for d in ("N", "G", "K", "C", "P", "Q", "R", "S")}
    sp, acc = tile_rows(layer, ones, target.dim)
    factor = 2 if double_buffer else 1
    return (sp * factor * target.sp_row_bytes / 1024,
            acc * factor * target.acc_row_bytes / 1024)
