"""numpy references for the simulator tests (Gemmini's arithmetic rules, gemmini.md 6.2)."""

from __future__ import annotations

import numpy as np


def acc_scale(x: np.ndarray, scale: float, relu: bool = False) -> np.ndarray:
    """int32 -> float32, times the float32 scale, round half to even, saturate to int8."""
    y = np.rint(x.astype(np.int32).astype(np.float32) * np.float32(scale))
    y = np.clip(y, -128, 127).astype(np.int8)
    return np.maximum(y, 0).astype(np.int8) if relu else y


def wrap32(x: np.ndarray) -> np.ndarray:
    return x.astype(np.int64).astype(np.uint64).astype(np.uint32).view(np.int32)


def matmul(A: np.ndarray, B: np.ndarray, D: np.ndarray | None = None, *,  # noqa: N803
           scale: float = 1.0, relu: bool = False, full_C: bool = False,  # noqa: N803
           os_tile_k: int | None = None) -> np.ndarray:
    """C = act(ACC_SCALE(A @ B + D)). With os_tile_k, each K tile's partial sum leaves the
    OS array saturated to 20 bits before it is accumulated (the RTL's clip)."""
    a = A.astype(np.int64)
    b = B.astype(np.int64)
    if os_tile_k is None:
        acc = a @ b
    else:
        acc = np.zeros((A.shape[0], B.shape[1]), dtype=np.int64)
        for k0 in range(0, A.shape[1], os_tile_k):
            part = a[:, k0:k0 + os_tile_k] @ b[k0:k0 + os_tile_k]
            acc += np.clip(part, -(1 << 19), (1 << 19) - 1)
    if D is not None:
        acc = acc + np.broadcast_to(D.astype(np.int64), acc.shape)
    acc32 = wrap32(acc)
    return acc32 if full_C else acc_scale(acc32, scale, relu)


def conv(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, *, stride: int = 1,
         padding: int = 0, dilation: int = 1, scale: float = 1.0,
         relu: bool = False) -> np.ndarray:
    """NHWC int8 conv with HWIO int8 weights, int32 bias, requantised to int8."""
    n, h, wd, cin = x.shape
    k, _, _, cout = w.shape
    dk = (k - 1) * dilation + 1
    oh = (h + 2 * padding - dk) // stride + 1
    ow = (wd + 2 * padding - dk) // stride + 1
    xp = np.zeros((n, h + 2 * padding, wd + 2 * padding, cin), dtype=np.int64)
    xp[:, padding:padding + h, padding:padding + wd] = x
    acc = np.zeros((n, oh, ow, cout), dtype=np.int64)
    for kr in range(k):
        for kc in range(k):
            r0, c0 = kr * dilation, kc * dilation
            rows = slice(r0, r0 + (oh - 1) * stride + 1, stride)
            cols = slice(c0, c0 + (ow - 1) * stride + 1, stride)
            patch = xp[:, rows, cols]
            acc += patch @ w[kr, kc].astype(np.int64)
    if bias is not None:
        acc += bias.astype(np.int64)
    return acc_scale(wrap32(acc), scale, relu)
