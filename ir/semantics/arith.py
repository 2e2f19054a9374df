"""Gemmini's integer arithmetic in numpy: the rounding, scaling and wrapping rules every
bit-exact path (the quantized reference, the host kernels' constants) must reproduce."""

from __future__ import annotations

import math

import numpy as np

Arr = np.ndarray


def wrap_int32(acc: Arr) -> Arr:
    """Two's-complement wrap of an int64 accumulator to int32 (Gemmini does not saturate)."""
    return ((acc.astype(np.int64) + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


#: numpy type of a saturated result by bit width: int8 everywhere Gemmini is involved,
#: int16 for the host-only tensors the quantizer widens (passes/wide_tensors.py).
SAT_TYPES = {8: np.int8, 16: np.int16}


def acc_scale(acc: Arr, multiplier: float | Arr, act: str = "none", bits: int = 8) -> Arr:
    """ACC_SCALE then saturate (to `bits`) then activation: the requantisation of every
    accelerator op."""
    y = mvin_scale(acc, multiplier, bits)
    if act == "relu":
        y = np.maximum(y, 0).astype(y.dtype)
    return y


def mvin_scale(x: Arr, multiplier: float | Arr, bits: int = 8) -> Arr:
    """MVIN_SCALE: float32 multiply, round half to even, saturate to int8 (or `bits`)."""
    y = np.asarray(x).astype(np.float32) * np.float32(multiplier)
    hi = (1 << (bits - 1)) - 1
    return np.clip(np.rint(y), -hi - 1, hi).astype(SAT_TYPES[bits])


def qdiv(a: Arr, b: Arr, multiplier: float) -> Arr:
    """int8 a / b: sat(rne(float32(float32(a) * m) / float32(b))); b = 0 saturates to the
    sign of a (0 for 0 / 0). Two IEEE float32 operations, as the host C does them."""
    a32, b32 = np.asarray(a).astype(np.float32), np.asarray(b).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = (a32 * np.float32(multiplier)) / np.where(b32 == 0, np.float32(1), b32)
    y = np.where(b32 == 0, np.sign(a32) * np.float32(1000), y)
    return np.clip(np.rint(y), -128, 127).astype(np.int8)


def div_round(a: Arr, b: Arr) -> Arr:
    """Integer a / b (b > 0) rounded half away from zero, in int64."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    mag = (np.abs(a) + b // 2) // b
    return np.where(a < 0, -mag, mag)


def isqrt(x: Arr) -> Arr:
    """Floor square root of non-negative int64 values (exact, elementwise)."""
    flat = np.asarray(x, np.int64).reshape(-1)
    return np.array([math.isqrt(int(v)) for v in flat], np.int64).reshape(np.shape(x))


def int_matmul(a: Arr, b: Arr) -> Arr:
    """Exact int8 x int8 matmul sums (float64 is exact below 2**53), as int64."""
    return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.int64)
