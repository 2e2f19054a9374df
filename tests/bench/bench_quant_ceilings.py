"""What int8 accuracy a coverage net could reach, by which tensors are rounded (fp32 only).

The float graph dlac quantizes (after folding, fusion, equalisation and channel
permutation, as `dlac` runs them) is evaluated with int8 rounding simulated on chosen
groups of tensors only (the model of `dlac --sensitivity`: each tensor rounded to its
calibrated per-tensor grid, `mse` clip on the benchmark's calibration inputs; ops that
only move data not rounded again), output SQNR vs the exact float graph, mean over 2
calibration samples. Each row is a ceiling: e.g. "conv outputs only" is the SQNR left if
every other tensor and every weight were exact, so if it is below 20 dB no int8-output
Gemmini conv can reach 20 dB whatever is done elsewhere.

Usage: python tests/bench/bench_quant_ceilings.py [--models mobilenetv3_small ...]
                                                  [--json ceilings.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_coverage as cov  # noqa: E402

BELOW_TARGET = ["mobilenetv3_small", "mobilenetv3_large", "efficientnet_b0"]
"""The coverage nets below the 20 dB SQNR target, the ones these benchmarks study."""

WEIGHTED = ("graph.conv", "graph.conv_transpose", "graph.gemm", "graph.matmul")
#: label -> (activations rounded: none | all | tables | host | accel | input,
#:           activation scales: tensor | channel, weights: none | tensor | dense | channel)
CASES = {
    "everything per tensor (dlac's model)": ("all", "tensor", "tensor"),
    "tables and products exact": ("notables", "tensor", "tensor"),
    "conv/matmul outputs + weights only": ("accel", "tensor", "tensor"),
    "conv/matmul outputs only": ("accel", "tensor", "none"),
    "everything per tensor, weights per channel": ("all", "tensor", "channel"),
    "weights per tensor only": ("input", "tensor", "tensor"),
    "weights only, dense per channel, depthwise per tensor": ("input", "tensor", "dense"),
    "weights per channel only": ("input", "tensor", "channel"),
    "everything per channel (activations: max per channel)": ("all", "channel", "channel"),
}


def _grid(x: np.ndarray, step: np.ndarray | float) -> np.ndarray:
    return np.clip(np.rint(x / step), -128, 127) * step


def _weights(w: np.ndarray, mode: str, depthwise: bool) -> np.ndarray:
    w = np.asarray(w, np.float64)
    per_channel = mode == "channel" or (mode == "dense" and not depthwise)
    amax = (np.abs(w).reshape(w.shape[0], -1).max(1) if per_channel
            else np.array([np.abs(w).max()]))
    amax[amax == 0] = 1.0
    step = (amax / 127).reshape(-1, *([1] * (w.ndim - 1))) if per_channel else amax[0] / 127
    return _grid(w, step)


def float_graph(name: str) -> tuple[Any, list[list[np.ndarray]], dict[int, float]]:
    """The float graph dlac quantizes for coverage net `name` (folded, fused, equalised,
    channels permuted for 4 weight splits), its calibration batches and their `mse`
    per-tensor ranges: what the accuracy benches round."""
    from dlac.flow import stages
    from dlac.ir.dialects.func import FuncOp
    from dlac.passes import calibration
    from dlac.passes.equalize import Equalize
    from dlac.passes.pass_base import run_pass
    from dlac.passes.permute_channels import PermuteChannels

    spec = cov.SPECS[name]
    path = cov.export(spec, "legacy")
    module = stages.prepare_stage(stages.import_stage(path))
    run_pass(Equalize(), module)
    run_pass(PermuteChannels(max_splits=4), module)
    func = next(op for op in module.regions[0].ops if isinstance(op, FuncOp))
    batches = calibration.load_calibration(cov.calib_file(spec, path), func)
    return func, batches, calibration.collect_ranges(func, batches, 17, "mse")


def measure(name: str) -> list[dict]:
    from dlac.ir.dialects.func import ReturnOp
    from dlac.ir.semantics.graph import evaluate_func, run_op
    from dlac.passes.graph_utils import const_value
    from dlac.passes.quantize import KEEP_SCALE, LUT_OPS
    from dlac.passes.wide_activations import silu_input, tensor_product

    func, batches, ranges = float_graph(name)
    channel_max: dict[int, np.ndarray] = {}

    def keep(value: object, x: np.ndarray) -> None:
        if x is not None and np.asarray(x).dtype.kind == "f" and np.ndim(x) == 4:
            top = np.abs(x).max(axis=(0, 2, 3))
            channel_max[id(value)] = np.maximum(channel_max.get(id(value), 0.0), top)

    for batch in batches:
        evaluate_func(func, batch, 17, keep)
    passthrough = {"graph." + k for k in KEEP_SCALE}
    tables = {"graph." + k for k in LUT_OPS}

    def rounded(op: object, which: str) -> bool:
        if which == "all":
            return True
        is_table = op.name in tables or tensor_product(op) or (  # type: ignore[attr-defined]
            op.name == "graph.sigmoid" and any(  # type: ignore[attr-defined]
                silu_input(u) is not None for u, _ in op.results[0].uses))  # type: ignore
        if which == "notables":
            return not is_table
        return which == "accel" and op.name in WEIGHTED  # type: ignore[attr-defined]

    def run(batch: list[np.ndarray], case: tuple[str, str, str] | None) -> list[np.ndarray]:
        env = {}
        for arg, x in zip(func.args, batch, strict=False):
            env[id(arg)] = _grid(x, ranges[id(arg)] / 127) if case and id(arg) in ranges else x
        for op in func.body.block.ops:
            if isinstance(op, ReturnOp):
                return [env[id(v)] for v in op.operands]
            args = [env[id(v)] for v in op.operands]
            if case and case[2] != "none" and op.name in WEIGHTED and len(args) > 1 and \
                    const_value(op.operands[1]) is not None:
                depthwise = op.name == "graph.conv" and int(op.attr("group", 1)) > 1
                args[1] = _weights(args[1], case[2], depthwise).astype(args[1].dtype)
            outs = run_op(op, args, 17)
            for res, out in zip(op.results, outs, strict=False):
                if case and case[0] != "input" and op.name != "graph.constant" and \
                        op.name not in passthrough and id(res) in ranges and \
                        out.dtype.kind == "f" and rounded(op, case[0]):
                    step: np.ndarray | float = max(ranges[id(res)], 1e-30) / 127
                    if case[1] == "channel" and id(res) in channel_max:
                        step = (np.maximum(channel_max[id(res)], 1e-30) / 127).reshape(
                            1, -1, 1, 1)
                    out = _grid(out, step).astype(out.dtype)
                env[id(res)] = out
        raise ValueError("function has no return")

    samples = batches[:2]
    want = [run(b, None) for b in samples]
    rows = []
    for label, case in CASES.items():
        db = float(np.mean([cov.sqnr(np.asarray(w[0], np.float64),
                                     np.asarray(run(b, case)[0], np.float64))
                            for w, b in zip(want, samples, strict=True)]))
        rows.append({"model": name, "case": label, "sqnr_db": round(db, 2)})
        print(f"{name:<20}{label:<58}{db:7.2f}", flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=BELOW_TARGET, choices=sorted(cov.SPECS))
    ap.add_argument("--json", default="ceilings.json")
    args = ap.parse_args()
    rows = [r for name in args.models for r in measure(name)]
    Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
