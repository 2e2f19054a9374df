"""Activation ranges for int8 quantization, from user inputs or seeded random ones.

Method (documented in docs/frontend.md):
- inputs: `--calib inputs.npz` (one array per model input, named as the input: one input,
  a stack [samples, ...] of them, or a batch of N times the model's batch, cut along the
  batch axis), else `samples` seeded standard-normal tensors per float
  input; integer inputs used as Gather indices into a constant table get uniform indices
  over its rows, other integer inputs zeros;
- every float tensor of the fp32 graph gets amax = max |x| over all samples (`minmax`), or
  the mean over samples of the given percentile of |x| (`percentile`), or the clipping
  point minimising the expected squared int8 error (clipping + rounding) over a seeded
  subsample of |x| (`mse`);
- scale = amax / 127, symmetric, zero point 0 (a zero range gets scale 1/127).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from dlac.ir.attributes import numpy_dtype
from dlac.ir.core import Value
from dlac.ir.dialects.func import FuncOp
from dlac.ir.semantics.graph import evaluate_func
from dlac.passes.pass_base import PassError

METHODS = ("minmax", "percentile", "mse")
MSE_SAMPLE = 1 << 14   # |x| values kept per tensor and calibration sample for `mse`
MSE_CANDIDATES = 64    # clipping points tried between amax / 16 and amax


def random_inputs(func: FuncOp, samples: int, seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(samples):
        batch = []
        for arg in func.args:
            dtype = numpy_dtype(arg.type.element)
            if dtype.kind == "f":
                batch.append(rng.standard_normal(arg.type.shape).astype(dtype))
            else:
                high = _index_bound(arg)
                batch.append(rng.integers(0, high, arg.type.shape).astype(dtype) if high
                             else np.zeros(arg.type.shape, dtype))
        batches.append(batch)
    return batches


def _index_bound(arg: Value) -> int | None:
    """Rows of the constant table(s) an integer input indexes through graph.gather."""
    bounds = []
    for user, index in arg.uses:
        table = getattr(user.operands[0], "op", None)
        if user.name == "graph.gather" and index == 1 and table is not None and \
                table.name == "graph.constant":
            shape = table.results[0].type.shape
            bounds.append(shape[int(user.attr("axis", 0)) % len(shape)])
    return min(bounds) if bounds else None


def load_calibration(path: str | Path, func: FuncOp) -> list[list[np.ndarray]]:
    """Read `inputs.npz`: key per input name; shape = input shape or (samples, *shape)."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise PassError(f"--calib {path}: cannot read ({err})") from None
    per_arg = []
    for arg in func.args:
        name = arg.name_hint or ""
        if name not in data:
            raise PassError(f"--calib {path}: no array named '{name}' "
                                f"(found {sorted(data.files)})")
        arr = _samples(data[name], tuple(arg.type.shape))
        if arr is None:
            raise PassError(f"--calib {path}: '{name}' has shape {list(data[name].shape)}, "
                            f"expected {list(arg.type.shape)}, [samples, ...] or a batch "
                            f"that is a multiple of {arg.type.shape[0] if arg.type.shape else 1}")
        per_arg.append(arr.astype(numpy_dtype(arg.type.element)))
    n = min(a.shape[0] for a in per_arg) if per_arg else 1
    return [[a[i] for a in per_arg] for i in range(n)]


def _samples(arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """`arr` as [samples, *shape]: the input itself, a stack of inputs, or a larger batch
    along the leading (batch) axis cut into the model's batch size."""
    if arr.shape == shape:
        return arr[None]
    if arr.shape[1:] == shape:
        return arr
    if shape and arr.ndim == len(shape) and arr.shape[1:] == shape[1:] and shape[0] > 0 \
            and arr.shape[0] % shape[0] == 0:
        return arr.reshape((arr.shape[0] // shape[0],) + shape)
    return None


def collect_ranges(func: FuncOp, batches: list[list[np.ndarray]], opset: int,
                   method: str = "minmax", percentile: float = 99.99,
                   means: dict[int, np.ndarray] | None = None,
                   maxima: dict[int, float] | None = None) -> dict[int, float]:
    """amax per float value (keyed by `id(value)`), function arguments included; `means`,
    if given, receives each float value's mean per channel (axis 1 of a 4-D tensor, the
    last axis otherwise) over the samples, for bias correction; `maxima` each float
    value's max |x| over the samples whatever `method` is (for int16 tensors)."""
    if method not in METHODS:
        raise PassError(f"unknown calibration method '{method}' (choose {METHODS})")
    stats: dict[int, list] = {}
    rng = np.random.default_rng(0)

    def stat(x: np.ndarray) -> float | np.ndarray:
        a = np.abs(np.asarray(x, np.float32)).reshape(-1)
        if a.size == 0:
            return 0.0 if method != "mse" else a
        if method == "mse":  # a seeded subsample, plus the maximum so it is never lost
            keep_n = min(a.size, MSE_SAMPLE)
            return np.append(rng.choice(a, keep_n, replace=False), a.max()) \
                if keep_n < a.size else a
        return float(a.max() if method == "minmax" else np.percentile(a, percentile))

    sums: dict[int, list[np.ndarray]] = {}

    def keep(value: Value, x: np.ndarray) -> None:
        if x is not None and np.asarray(x).dtype.kind == "f":
            stats.setdefault(id(value), []).append(stat(x))
            if maxima is not None:
                top = float(np.abs(x).max()) if np.size(x) else 0.0
                maxima[id(value)] = max(maxima.get(id(value), 0.0), top)
            if means is not None and np.ndim(x) >= 2:
                sums.setdefault(id(value), []).append(channel_mean(np.asarray(x)))

    for batch in batches:
        for arg, x in zip(func.args, batch, strict=False):
            keep(arg, x)
        evaluate_func(func, batch, opset, keep)
    if means is not None:
        means.update({k: np.mean(v, axis=0) for k, v in sums.items()})
    if method == "mse":
        return {k: mse_amax(np.concatenate(v)) for k, v in stats.items()}
    reduce = max if method == "minmax" else (lambda v: float(np.mean(v)))
    return {k: reduce(v) for k, v in stats.items()}


def channel_mean(x: np.ndarray) -> np.ndarray:
    """Mean per channel: axis 1 of NCHW, the last axis of a [.., features] tensor."""
    x = np.asarray(x, np.float64)
    axis = 1 if x.ndim == 4 else x.ndim - 1
    return x.mean(axis=tuple(a for a in range(x.ndim) if a != axis))


def mse_amax(magnitudes: np.ndarray) -> float:
    """The clipping point c minimising the expected squared int8 error of values with
    these magnitudes: the clipped part sum (|x| - c)^2 plus rounding noise step^2 / 12 per
    value (step = c / 127)."""
    a = np.sort(np.asarray(magnitudes, np.float64))
    if a.size == 0 or a[-1] <= 0:
        return 0.0
    cands = a[-1] * np.linspace(1 / 16, 1.0, MSE_CANDIDATES)
    tail = np.concatenate([[0.0], np.cumsum(a[::-1])])[::-1]       # sum of a[i:]
    tail_sq = np.concatenate([[0.0], np.cumsum((a ** 2)[::-1])])[::-1]
    first = np.searchsorted(a, cands, side="right")                 # values above c
    above = a.size - first
    clipped = tail_sq[first] - 2 * cands * tail[first] + above * cands ** 2
    rounding = a.size * (cands / 127.0) ** 2 / 12.0
    return float(cands[int(np.argmin(clipped + rounding))])


def scale_of(amax: float) -> float:
    return (amax if amax > 0 else 1.0) / 127.0
