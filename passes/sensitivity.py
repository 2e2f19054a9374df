"""Which layers cost the int8 model its accuracy (`dlac --sensitivity N`).

The int8 graph has no "higher precision" to try a layer at, so the estimate is made on the
float graph with int8 rounding simulated: every calibrated tensor an op produces is
rounded to its int8 grid (scale = calibrated range / 127, saturated) and every conv or
matmul's constant weights to one per-tensor int8 scale. A layer's gain is the output SQNR
(vs the exact fp32 graph, mean dB over the calibration samples) with that one op computed
exactly minus the SQNR with every op rounded: where the error comes from, ranked. Ops that
only move data keep their input's scale in the int8 graph and are not rounded again.

The gains interact (noise from early layers is amplified, errors can cancel), so they can
be negative and do not add up. The attribution (`noise`) is the additive view: each op
alone rounded (its output and weights, everything else exact), its output noise power as
a share of the sum over ops, and the SQNR that one rounding alone leaves. An op whose
`alone_db` is below an accuracy target cannot meet it at int8, whatever else is done.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
from dlac.ir.core import Operation
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.semantics.graph import run_op
from dlac.passes.calibration import scale_of
from dlac.passes.graph_utils import const_value
from dlac.passes.sqnr import sqnr_db

WEIGHTED = ("graph.conv", "graph.conv_transpose", "graph.gemm", "graph.matmul")
MAX_SAMPLES = 2  # calibration samples the estimate runs on (each layer costs one pass each)


def _round(x: np.ndarray, scale: float) -> np.ndarray:
    return (np.clip(np.rint(np.asarray(x, np.float64) / scale), -128, 127) * scale
            ).astype(x.dtype)


def _weights(w: np.ndarray) -> np.ndarray:
    amax = float(np.abs(w).max()) if w.size else 0.0
    return _round(w, scale_of(amax))


def _rounded_run(func: FuncOp, inputs: list[np.ndarray], ranges: dict[int, float],
                 opset: int, passthrough: Collection[str], exact: Operation | None,
                 only: Operation | None = None) -> list[np.ndarray]:
    """Evaluate `func` with int8 rounding of weights and calibrated outputs, except at
    `exact` (or everywhere when `ranges` is empty); with `only`, at that op alone."""
    env = {id(a): (_round(x, scale_of(ranges[id(a)])) if id(a) in ranges else x)
           for a, x in zip(func.args, inputs, strict=False)}
    for op in func.body.block.ops:
        if isinstance(op, ReturnOp):
            return [env[id(v)] for v in op.operands]
        args = [env[id(v)] for v in op.operands]
        rounds = bool(ranges) and op is not exact and op.name != "graph.constant" and \
            (only is None or op is only)
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


def alone_noise(func: FuncOp, batches: list[list[np.ndarray]], ranges: dict[int, float],
                opset: int, ops: list[Operation], passthrough: Collection[str] = (),
                want: list[list[np.ndarray]] | None = None) -> list[float]:
    """Output noise power relative to the signal (mean over up to MAX_SAMPLES samples) with
    each of `ops` alone rounded, everything else exact: the additive attribution."""
    samples = batches[:MAX_SAMPLES]
    if want is None:
        want = [_rounded_run(func, b, {}, opset, passthrough, None) for b in samples]
    return [float(np.mean([10 ** (-sqnr_db(w, _rounded_run(func, b, ranges, opset, passthrough,
                                                         None, op)) / 10)
                           for w, b in zip(want, samples, strict=False)]))
            for op in ops]


def layer_sensitivity(func: FuncOp, batches: list[list[np.ndarray]], ranges: dict[int, float],
                      opset: int, top: int, passthrough: Collection[str] = ()
                      ) -> dict[str, object]:
    """The `top` ops whose exact computation gains the most output SQNR under simulated
    int8 rounding, and the `top` largest shares of the noise with one op rounded at a time:
    {"sqnr_db": all rounded, "layers": [{node, op, gain_db}, ...],
     "noise": [{node, op, share, alone_db}, ...]}.
    `passthrough`: op names that keep their input's scale (not rounded again)."""
    samples = batches[:MAX_SAMPLES]
    want = [_rounded_run(func, b, {}, opset, passthrough, None) for b in samples]

    def sqnr(exact: Operation | None) -> float:
        return float(np.mean([sqnr_db(w, _rounded_run(func, b, ranges, opset, passthrough, exact))
                              for w, b in zip(want, samples, strict=False)]))

    base = sqnr(None)
    candidates = [op for op in func.body.block.ops
                  if op.name != "graph.constant" and op.name not in passthrough and op.results
                  and (op.name in WEIGHTED or any(id(r) in ranges for r in op.results))]
    layers = [{"node": op.loc.prefix(), "op": op.name, "gain_db": round(sqnr(op) - base, 2)}
              for op in candidates]
    layers.sort(key=lambda row: -float(row["gain_db"]))

    powers = list(zip(alone_noise(func, samples, ranges, opset, candidates, passthrough, want),
                      candidates, strict=True))
    total = sum(p for p, _ in powers) or 1e-300
    powers.sort(key=lambda t: -t[0])
    shares = [{"node": op.loc.prefix(), "op": op.name, "share": round(p / total, 4),
               "alone_db": round(float(10 * np.log10(1 / max(p, 1e-30))), 2)}
              for p, op in powers[:top]]
    return {"sqnr_db": round(base, 2), "method": "simulated int8 rounding on the float graph, "
            f"{len(samples)} calibration sample(s)", "layers": layers[:top], "noise": shares}
