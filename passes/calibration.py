"""Activation ranges for int8 quantization, from user inputs or seeded random ones.

Method (documented in docs/frontend.md):
- inputs: `--calib inputs.npz` (one array per model input, named as the input, optionally
  with a leading sample axis), else `samples` seeded standard-normal tensors per float
  input; integer inputs used as Gather indices into a constant table get uniform indices
  over its rows, other integer inputs zeros;
- every float tensor of the fp32 graph gets amax = max |x| over all samples (`minmax`), or
  the mean over samples of the given percentile of |x| (`percentile`);
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

METHODS = ("minmax", "percentile")


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
        arr = data[name]
        shape = tuple(arg.type.shape)
        if arr.shape == shape:
            arr = arr[None]
        if arr.shape[1:] != shape:
            raise PassError(f"--calib {path}: '{name}' has shape {list(arr.shape)}, "
                                f"expected {list(shape)} or [samples, ...]")
        per_arg.append(arr.astype(numpy_dtype(arg.type.element)))
    n = min(a.shape[0] for a in per_arg) if per_arg else 1
    return [[a[i] for a in per_arg] for i in range(n)]


def collect_ranges(func: FuncOp, batches: list[list[np.ndarray]], opset: int,
                   method: str = "minmax", percentile: float = 99.99) -> dict[int, float]:
    """amax per float value (keyed by `id(value)`), function arguments included."""
    if method not in METHODS:
        raise PassError(f"unknown calibration method '{method}' (choose {METHODS})")
    stats: dict[int, list[float]] = {}

    def stat(x: np.ndarray) -> float:
        a = np.abs(np.asarray(x, np.float32))
        if a.size == 0:
            return 0.0
        return float(a.max() if method == "minmax" else np.percentile(a, percentile))

    def keep(value: Value, x: np.ndarray) -> None:
        if x is not None and np.asarray(x).dtype.kind == "f":
            stats.setdefault(id(value), []).append(stat(x))

    for batch in batches:
        for arg, x in zip(func.args, batch, strict=False):
            keep(arg, x)
        evaluate_func(func, batch, opset, keep)
    reduce = max if method == "minmax" else (lambda v: float(np.mean(v)))
    return {k: reduce(v) for k, v in stats.items()}


def scale_of(amax: float) -> float:
    return (amax if amax > 0 else 1.0) / 127.0
