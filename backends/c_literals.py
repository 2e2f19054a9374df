"""C spellings of values the emitters share: float literals and row-major strides."""

from __future__ import annotations

import numpy as np


def strides(shape: tuple[int, ...]) -> list[int]:
    out = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        out[i] = out[i + 1] * shape[i + 1]
    return out


def c_float(v: float) -> str:
    """A C float literal for the float32 nearest `v` (exact for f32 attributes)."""
    if np.isnan(v):
        return "NAN"
    if np.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return f"{float(np.float32(v))!r}f"
