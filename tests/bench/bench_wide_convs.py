"""How far int16 conv outputs would get a coverage net (float graph, fp32 only).

The ceiling bench says that rounding only the Gemmini conv outputs to int8 caps the
MobileNetV3s and EfficientNet-B0 below 20 dB. This measures the mechanism that would lift
it: the N convs whose int8 output rounding alone costs the most output noise (the additive
attribution of `dlac --sensitivity`, `sensitivity.alone_noise`) keep their output at 16
bits (Gemmini's int32 accumulator written out, requantized on the host to an int16 grid,
step 2 range / 32767), and so does every tensor that host ops compute from such a tensor
until the next Gemmini conv/matmul, which reads it as two int8 digits (~16 bits, the
`--wide-activations` mechanism). Everything else is rounded as in the ceilings bench
(per-tensor `mse` grids, the input rounded). Weights: `split` = dense convs per output
channel, depthwise per tensor (~ dlac's weight splits); `wide-pc` = the same, but the
widened convs per output channel (their host requantization can apply a scale per
channel). Output SQNR vs the exact float graph, mean over 2 calibration samples.

`--scope output` widens only the chosen convs' outputs (the host ops reading them write
int8 again: the first piece of such a pipeline, without int16 host chains);
`--kinds` chooses among some kinds of Gemmini conv only: `pointwise` (1x1 stride-1 dense
convs, the ones `tiled_matmul` runs on NHWC rows without an im2col copy), `kxk` (the other
dense convs and Gemms: the stems), `depthwise` (grouped convs); default all three.

Usage: python tests/bench/bench_wide_convs.py [--models mobilenetv3_small ...]
                                              [--counts 0 4 8 16 99] [--scope chain|output]
                                              [--kinds pointwise kxk depthwise]
                                              [--json wide_convs.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_coverage as cov  # noqa: E402
import bench_quant_ceilings as ceil  # noqa: E402

WIDE_STEPS = 32767 / 2  # int16 grid with one bit of headroom over the calibrated range
KINDS = ("pointwise", "kxk", "depthwise")


def kind(op: object) -> str:
    """pointwise (1x1 stride-1 dense conv), depthwise (any grouped conv) or kxk (the rest)."""
    if op.name == "graph.conv" and int(op.attr("group", 1)) > 1:  # type: ignore[attr-defined]
        return "depthwise"
    w = op.operands[1].type.shape  # type: ignore[attr-defined]
    pointwise = op.name == "graph.conv" and tuple(w[2:]) == (1, 1) and \
        [int(v) for v in op.attr("strides", [1, 1])] == [1, 1]  # type: ignore[attr-defined]
    return "pointwise" if pointwise else "kxk"


def measure(name: str, counts: list[int], scope: str = "chain",
            kinds: tuple[str, ...] = KINDS) -> list[dict]:
    from dlac.ir.dialects.func import ReturnOp
    from dlac.ir.semantics.graph import evaluate_func, run_op
    from dlac.passes.graph_utils import const_value
    from dlac.passes.quantize import KEEP_SCALE
    from dlac.passes.sensitivity import alone_noise
    from dlac.passes.sqnr import sqnr_db

    func, batches, ranges = ceil.float_graph(name)
    passthrough = {"graph." + k for k in KEEP_SCALE}

    def gemmini(op: object) -> bool:
        return op.name in ceil.WEIGHTED and len(op.operands) > 1 and \
            const_value(op.operands[1]) is not None  # type: ignore[attr-defined]

    convs = [op for op in func.body.block.ops if gemmini(op) and id(op.results[0]) in ranges
             and kind(op) in kinds]
    powers = alone_noise(func, batches, ranges, 17, convs, passthrough)
    ranked = [op for _, op in sorted(zip(powers, convs, strict=True), key=lambda t: -t[0])]

    def wide_set(chosen: list[object]) -> set[int]:
        wide = {id(op.results[0]) for op in chosen}  # type: ignore[attr-defined]
        if scope == "output":
            return wide
        for op in func.body.block.ops:
            if not gemmini(op) and op.name != "graph.constant" and \
                    any(id(v) in wide for v in op.operands):
                wide.update(id(r) for r in op.results)
        return wide

    def run(batch: list[np.ndarray], wide: set[int], chosen: set[int], weights: str
            ) -> list[np.ndarray]:
        env = {id(a): ceil._grid(x, ranges[id(a)] / 127) if id(a) in ranges else x
               for a, x in zip(func.args, batch, strict=False)}
        for op in func.body.block.ops:
            if isinstance(op, ReturnOp):
                return [env[id(v)] for v in op.operands]
            args = [env[id(v)] for v in op.operands]
            if gemmini(op):
                depthwise = op.name == "graph.conv" and int(op.attr("group", 1)) > 1
                mode = "channel" if weights == "wide-pc" and id(op) in chosen else "dense"
                args[1] = ceil._weights(args[1], mode, depthwise).astype(args[1].dtype)
            outs = run_op(op, args, 17)
            for res, out in zip(op.results, outs, strict=False):
                if op.name != "graph.constant" and op.name not in passthrough and \
                        id(res) in ranges and out.dtype.kind == "f":
                    steps = WIDE_STEPS if id(res) in wide else 127
                    lim = 32767 if id(res) in wide else 127
                    step = max(ranges[id(res)], 1e-30) / steps
                    out = (np.clip(np.rint(out / step), -lim - 1, lim) * step).astype(out.dtype)
                env[id(res)] = out
        raise ValueError("function has no return")

    samples = batches[:2]
    exact = [evaluate_func(func, b, 17) for b in samples]
    rows = []
    for n in counts:
        chosen = ranked[:n]
        wide = wide_set(chosen)
        for weights in ("split", "wide-pc"):
            db = float(np.mean([sqnr_db(w, run(b, wide, {id(o) for o in chosen}, weights))
                                for w, b in zip(exact, samples, strict=True)]))
            rows.append({"model": name, "scope": scope, "kinds": list(kinds),
                         "convs": len(chosen), "of": len(convs),
                         "weights": weights, "wide_tensors": len(wide), "sqnr_db": round(db, 2)})
            print(f"{name:<20}{len(chosen):>4}/{len(convs):<4}{weights:<9}{len(wide):>5}"
                  f"{db:8.2f}", flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=ceil.BELOW_TARGET, choices=sorted(cov.SPECS))
    ap.add_argument("--counts", nargs="*", type=int, default=[0, 2, 4, 8, 16, 32, 999])
    ap.add_argument("--scope", default="chain", choices=("chain", "output"))
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    ap.add_argument("--json", default="wide_convs.json")
    args = ap.parse_args()
    print(f"{'model':<20}{'convs':<9}{'weights':<9}{'wide':>5}{'dB':>8}")
    rows = [r for name in args.models
            for r in measure(name, args.counts, args.scope, tuple(args.kinds))]
    Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
