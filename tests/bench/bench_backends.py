"""Zoo models through the whole flow, validated bit for bit on the bundled simulator.

For each model and hardware config: compile (quantize, lower, map, emit C), build and run
on the simulator with a seeded input, compare with the quantized reference. Prints a table
(bit-exact, cycles, energy, EDP, utilisation, emission time) and writes it as JSON.

    python tests/bench/bench_backends.py [--models ...] [--targets default small large]
                                         [--mapper heuristic] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from dlac.flow.emit import emit
from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
from dlac.flow.validate import validate
from dlac.ir.semantics.qgraph import run_reference
from dlac.ir.target import PRESETS, Target
from dlac.tools.compile_flow import map_and_lower, seeded_inputs
from dlac.tools.zoo import build

MODELS = ("tiny_cnn", "mlp", "mobilenetv2", "resnet50", "bert_layer", "unet", "vgg16")


def run_one(model: str, target_name: str, mapper: str, seed: int) -> dict:
    path = build(model)
    quantized = quantize_stage(prepare_stage(import_stage(path)))
    target = Target.parse(target_name)
    inputs = seeded_inputs(quantized, seed)
    reference = run_reference(quantized, inputs)
    lowered = map_and_lower(quantized, target, mapper, seed)
    with tempfile.TemporaryDirectory(prefix="dlac-bench-") as tmp:
        t0 = time.perf_counter()
        emitted = emit(lowered, target, Path(tmp) / "out", model)
        emit_s = time.perf_counter() - t0
        report = validate(emitted, lowered, reference, inputs, target, Path(tmp) / "build")
    return {"model": model, "target": target_name, "target_name": target.name,
            "mapper": mapper, "bit_exact": report.bit_exact, "cycles": report.cycles,
            "energy_pj": report.energy_pj, "edp": report.edp,
            "utilization": report.utilization, "emit_s": round(emit_s, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    ap.add_argument("--targets", nargs="*", default=list(PRESETS), choices=list(PRESETS))
    ap.add_argument("--mapper", default="heuristic")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    header = f"{'model':<12} {'target':<8} {'exact':<6} {'cycles':>14} {'energy uJ':>12} " \
             f"{'EDP':>11} {'util':>6} {'emit s':>7}"
    print(header)
    for model in args.models:
        for target in args.targets:
            row = run_one(model, target, args.mapper, args.seed)
            rows.append(row)
            print(f"{model:<12} {target:<8} {str(row['bit_exact']):<6} {row['cycles']:>14,.0f} "
                  f"{row['energy_pj'] / 1e6:>12,.1f} {row['edp']:>11.3e} "
                  f"{100 * row['utilization']:>5.1f}% {row['emit_s']:>7.2f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    if not all(r["bit_exact"] for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
