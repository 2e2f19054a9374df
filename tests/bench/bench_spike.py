"""Zoo models on Spike + libgemmini (the Gemmini authors' functional model), bit for bit.

For each model and hardware config: compile with the heuristic mapper, emit C, build it bare
metal against gemmini-rocc-tests' gemmini.h with the config's gemmini_params.h (libgemmini
rebuilt for it), run on Spike and compare every output byte with the quantized reference.
Prints a table (bit-exact, Spike instructions, Spike and total wall time), writes JSON.
Needs the cache of `python -m dlac.tools.setup_spike`.

    python tests/bench/bench_spike.py [--models ...] [--targets default small large main-job]
                                      [--timeout 1800] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from dlac.errors import DlacError
from dlac.flow.emit import emit
from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
from dlac.flow.validate_spike import validate_on_spike
from dlac.ir.semantics.qgraph import run_reference
from dlac.ir.target import Target
from dlac.tools.compile_flow import map_and_lower, seeded_inputs
from dlac.tools.zoo import build

MODELS = ("tiny_cnn", "mlp", "mobilenetv2", "resnet50", "bert_layer", "unet", "vgg16")
# README's main job (ResNet-50 autotune): 32x32, 56 KiB spad, 104 KiB acc, WS, 256-bit bus.
TARGETS = {"default": "default", "small": "small", "large": "large",
           "main-job": "dim=32,sp_kib=56,sp_banks=7,acc_kib=104,acc_banks=13,"
                       "dataflow=WS,dma_bus_bits=256"}


def run_one(model: str, config: str, seed: int, timeout: float) -> dict:
    t0 = time.perf_counter()
    quantized = quantize_stage(prepare_stage(import_stage(build(model))))
    target = Target.parse(TARGETS[config])
    inputs = seeded_inputs(quantized, seed)
    reference = run_reference(quantized, inputs)
    lowered = map_and_lower(quantized, target, "heuristic", seed)
    row = {"model": model, "config": config, "target_name": target.name}
    with tempfile.TemporaryDirectory(prefix="dlac-bench-spike-") as tmp:
        emitted = emit(lowered, target, Path(tmp) / "out", model)
        try:
            rep = validate_on_spike(emitted, reference, inputs, Path(tmp) / "build", timeout)
            row.update(bit_exact=rep.spike_bit_exact, mismatched_bytes=rep.spike_mismatched_bytes,
                       instructions=rep.spike_instructions, spike_s=rep.spike_wall_s, error="")
        except DlacError as err:
            row.update(bit_exact=False, mismatched_bytes=-1, instructions=0, spike_s=0.0,
                       error=str(err))
    row["total_s"] = round(time.perf_counter() - t0, 1)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    ap.add_argument("--targets", nargs="*", default=list(TARGETS), choices=list(TARGETS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    print(f"{'model':<12} {'config':<9} {'exact':<6} {'instructions':>15} {'spike s':>8} "
          f"{'total s':>8}  error")
    for model in args.models:
        for config in args.targets:
            row = run_one(model, config, args.seed, args.timeout)
            rows.append(row)
            print(f"{model:<12} {config:<9} {str(row['bit_exact']):<6} "
                  f"{row['instructions']:>15,} {row['spike_s']:>8.1f} {row['total_s']:>8.1f}  "
                  f"{row['error']}", flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=2))
    if not all(r["bit_exact"] for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
