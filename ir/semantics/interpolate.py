"""Linear Resize coefficients: per output index, the two source indices and the weight
of the second, for ONNX's coordinate transformation modes. Shared by the float semantics
and the quantizer, so both interpolate between the same neighbours."""

from __future__ import annotations

import numpy as np

LINEAR_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")


def linear_coefficients(in_size: int, out_size: int, scale: float, mode: str
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, w1): output o = (1 - w1) x[i0] + w1 x[i1]; the source coordinate is
    clamped to [0, in_size - 1], as onnxruntime does."""
    o = np.arange(out_size, dtype=np.float64)
    if mode == "align_corners":
        src = o * (in_size - 1) / (out_size - 1) if out_size > 1 else o * 0
    elif mode == "asymmetric":
        src = o / scale
    elif mode == "pytorch_half_pixel":
        src = (o + 0.5) / scale - 0.5 if out_size > 1 else o * 0
    elif mode == "half_pixel":
        src = (o + 0.5) / scale - 0.5
    else:
        raise ValueError(f"linear Resize with coordinate_transformation_mode '{mode}' is not "
                         f"supported (only {', '.join(LINEAR_MODES)})")
    src = np.clip(src, 0, in_size - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return i0, i1, src - i0
