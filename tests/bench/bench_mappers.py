"""Simulated cycles per layer: Gemmini's heuristic mapping vs dlac's analytical-best.

Both programs are compiled, run on the bundled simulator and checked bit for bit; the
table gives each accelerated layer's cycles under both mappers and their ratio.

    python tests/bench/bench_mappers.py [--model resnet50] [--target default] [--json f]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from dlac.flow.emit import emit
from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
from dlac.flow.validate import validate
from dlac.ir.semantics.qgraph import run_reference
from dlac.ir.target import PRESETS, Target
from dlac.tools.compile_flow import map_and_lower, seeded_inputs
from dlac.tools.zoo import MODELS, build


def measure(model: str, target: Target, mapper: str, seed: int) -> dict:
    quantized = quantize_stage(prepare_stage(import_stage(build(model))))
    inputs = seeded_inputs(quantized, seed)
    lowered = map_and_lower(quantized, target, mapper, seed)
    with tempfile.TemporaryDirectory(prefix="dlac-bench-") as tmp:
        emitted = emit(lowered, target, Path(tmp) / "out", model)
        report = validate(emitted, lowered, run_reference(quantized, inputs), inputs, target,
                          Path(tmp) / "build")
    return {"bit_exact": report.bit_exact, "cycles": report.cycles,
            "layers": {s["name"]: s["cycles"] for s in report.steps if s["kind"] != "host"}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet50", choices=sorted(MODELS))
    ap.add_argument("--target", default="default", choices=list(PRESETS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args()
    target = Target.parse(args.target)
    heur = measure(args.model, target, "heuristic", args.seed)
    best = measure(args.model, target, "analytical-best", args.seed)
    print(f"{'layer':<16} {'heuristic':>12} {'analytical-best':>16} {'ratio':>7}")
    rows = []
    for name, h in heur["layers"].items():
        b = best["layers"][name]
        rows.append({"layer": name, "heuristic": h, "analytical_best": b, "ratio": b / h})
        print(f"{name:<16} {h:>12,} {b:>16,} {b / h:>7.3f}")
    ratio = best["cycles"] / heur["cycles"]
    print(f"{'total':<16} {heur['cycles']:>12,.0f} {best['cycles']:>16,.0f} {ratio:>7.3f}")
    print(f"bit-exact: heuristic {heur['bit_exact']}, analytical-best {best['bit_exact']}; "
          f"layers faster {sum(r['ratio'] < 1 for r in rows)}, slower "
          f"{sum(r['ratio'] > 1 for r in rows)}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "model": args.model, "target": target.name, "total_ratio": ratio,
            "heuristic_cycles": heur["cycles"], "analytical_best_cycles": best["cycles"],
            "bit_exact": heur["bit_exact"] and best["bit_exact"], "layers": rows}, indent=2))


if __name__ == "__main__":
    main()
