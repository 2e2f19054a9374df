"""Which layers cost the int8 model its accuracy (`dlac --sensitivity N`).

The int8 graph has no "higher precision" to try a layer at, so the estimate is made on the
float graph with int8 rounding simulated: every calibrated tensor an op produces is
rounded to its int8 grid (scale = calibrated range / 127, saturated) and every conv or
matmul's constant weights to one per-tensor int8 scale. A layer's gain is the output SQNR
(vs the exact fp32 graph, mean dB over the calibration samples) with that one op computed
exactly minus the SQNR with every op rounded: where the error comes from, ranked. Ops that
only move data keep their input's scale in the int8 graph and are not rounded again.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
from dlac.ir.core import Operation
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.semantics.graph import run_op
from dlac.passes.calibration import scale_of
from dlac.passes.graph_utils import const_value

WEIGHTED = ("graph.conv", "graph.conv_transpose", "graph.gemm", "graph.matmul")
MAX_SAMPLES = 2  # calibration samples the estimate runs on (each layer costs one pass each)


def _round(x: np.ndarray, scale: float) -> np.ndarray:
    return (np.clip(np.rint(np.asarray(x, np.float64) / scale), -128, 127) * scale
            ).astype(x.dtype)


def _weights(w: np.ndarray) -> np.ndarray:
    amax = float(np.abs(w).max()) if w.size else 0.0
    return _round(w, scale_of(amax))


def _rounded_run(func: FuncOp, inputs: list[np.ndarray], ranges: dict[int, float],
                 opset: int, passthrough: Collection[str], exact: Operation | None
                 ) -> list[np.ndarray]:
    """Evaluate `func` with int8 rounding of weights and calibrated outputs, except at
    `exact` (or everywhere when `ranges` is empty)."""
    env = {id(a): (_round(x, scale_of(ranges[id(a)])) if id(a) in ranges else x)
           for a, x in zip(func.args, inputs, strict=False)}
    for op in func.body.block.ops:
        if isinstance(op, ReturnOp):
            return [env[id(v)] for v in op.operands]
        args = [env[id(v)] for v in op.operands]
        rounds = bool(ranges) and op is not exact and op.name != "graph.constant"
        if rounds and op.name in WEIGHTED and len(args) > 1 and \
                const_value(op.operands[1]) is not None:
            args[1] = _weights(np.asarray(args[1]))
        outs = run_op(op, args, opset)
        for res, out in zip(op.results, outs, strict=False):
            if rounds and op.name not in passthrough and id(res) in ranges and \
                    out.dtype.kind == "f":
                out = _round(out, scale_of(ranges[id(res)]))
            env[id(res)] = out
    raise ValueError("function has no return")


def _sqnr(want: list[np.ndarray], got: list[np.ndarray]) -> float:
    signal = sum(float((np.asarray(w, np.float64) ** 2).sum()) for w in want)
    noise = sum(float(((np.asarray(w, np.float64) - g) ** 2).sum())
                for w, g in zip(want, got, strict=False))
    return float(10 * np.log10(max(signal, 1e-300) / max(noise, 1e-300)))


def layer_sensitivity(func: FuncOp, batches: list[list[np.ndarray]], ranges: dict[int, float],
                      opset: int, top: int, passthrough: Collection[str] = ()
                      ) -> dict[str, object]:
    """The `top` ops whose exact computation gains the most output SQNR under simulated
    int8 rounding: {"sqnr_db": all rounded, "layers": [{node, op, gain_db}, ...]}.
    `passthrough`: op names that keep their input's scale (not rounded again)."""
    samples = batches[:MAX_SAMPLES]
    want = [_rounded_run(func, b, {}, opset, passthrough, None) for b in samples]

    def sqnr(exact: Operation | None) -> float:
        return float(np.mean([_sqnr(w, _rounded_run(func, b, ranges, opset, passthrough, exact))
                              for w, b in zip(want, samples, strict=False)]))

    base = sqnr(None)
    layers = []
    for op in func.body.block.ops:
        if op.name == "graph.constant" or op.name in passthrough or not op.results:
            continue
        if not (op.name in WEIGHTED or any(id(r) in ranges for r in op.results)):
            continue
        layers.append({"node": op.loc.prefix(), "op": op.name,
                       "gain_db": round(sqnr(op) - base, 2)})
    layers.sort(key=lambda row: -float(row["gain_db"]))
    return {"sqnr_db": round(base, 2), "method": "simulated int8 rounding on the float graph, "
            f"{len(samples)} calibration sample(s)", "layers": layers[:top]}
