"""Frontend benchmark: int8 reference accuracy vs onnxruntime fp32, and ResNet-50
import + lowering time and peak memory.

Accuracy: each zoo model is quantized with the default calibration (2 seeded N(0,1)
inputs, seed 0, min/max) and evaluated on a different input (zoo.example_input seed 123);
the dequantized reference output is compared with onnxruntime's fp32 output.
Targets (issue #3): SQNR >= 20 dB on ResNet-50, MobileNetV2, the BERT layer and U-Net;
ResNet-50 import + lowering < 5 s and < 2 GiB peak (measured in a fresh process).

Usage: python tests/bench/bench_frontend.py [--models resnet50 unet ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

TARGET_DB = {"resnet50": 20.0, "mobilenetv2": 20.0, "bert_layer": 20.0, "unet": 20.0}
DEFAULT_MODELS = ["tiny_cnn", "mlp", "resnet50", "mobilenetv2", "bert_layer", "unet"]


def accuracy(name: str) -> dict[str, object]:
    import onnxruntime as ort
    from dlac.flow import stages as pipeline
    from dlac.ir.semantics.qgraph import run_reference
    from dlac.tools import zoo

    path = zoo.build(name)
    x = zoo.example_input(name, seed=123)
    module = pipeline.run_to("qgraph", path)
    got = run_reference(module, [x])[0].astype(np.float64)
    want = ort.InferenceSession(str(path)).run(None, {"input": x})[0].astype(np.float64)
    noise = float(((want - got) ** 2).sum())
    sqnr = float(10 * np.log10((want ** 2).sum() / max(noise, 1e-300)))
    cos = float((want * got).sum() / (np.linalg.norm(want) * np.linalg.norm(got) + 1e-300))
    target = TARGET_DB.get(name)
    return {"model": name, "sqnr_db": round(sqnr, 2), "cosine": round(cos, 5),
            "target_db": target, "pass": None if target is None else sqnr >= target}


def child_resnet() -> None:
    """Runs in a fresh process: time and peak RSS of import + lowering of ResNet-50."""
    from dlac.flow import stages as pipeline
    from dlac.tools import zoo

    path = zoo.build("resnet50")
    stages = {}
    start = time.perf_counter()
    module = pipeline.import_stage(path)
    stages["import"] = time.perf_counter() - start
    module = pipeline.prepare_stage(module)
    stages["prepare"] = time.perf_counter() - start - sum(stages.values())
    module = pipeline.quantize_stage(module)
    stages["calibrate+quantize"] = time.perf_counter() - start - sum(stages.values())
    module = pipeline.lower_stage(module)
    stages["lower"] = time.perf_counter() - start - sum(stages.values())
    seconds = time.perf_counter() - start
    kernels = sum(1 for op in module.walk() if op.name == "loop.kernel")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "kernels": kernels,
                      "stages": {k: round(v, 2) for k, v in stages.items()},
                      "load_avg_1min": os.getloadavg()[0]}))


def resnet_cost() -> dict[str, object]:
    from dlac.tools import zoo

    zoo.build("resnet50")  # export outside the timed process
    out = subprocess.run([sys.executable, __file__, "--child-resnet"], check=True,
                         capture_output=True, text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    gib = data["peak_bytes"] / 2 ** 30
    return {"seconds": round(data["seconds"], 2), "peak_gib": round(gib, 3),
            "kernels": data["kernels"], "stages": data["stages"],
            "load_avg_1min": data["load_avg_1min"],
            "pass": data["seconds"] < 5.0 and gib < 2.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=DEFAULT_MODELS)
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--skip-resnet-cost", action="store_true")
    ap.add_argument("--child-resnet", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_resnet:
        child_resnet()
        return 0
    from rich.progress import track

    rows = [accuracy(m) for m in track(args.models, description="quantize + reference")]
    print(f"{'model':<14}{'SQNR dB':>10}{'cosine':>10}{'target':>8}  pass")
    for r in rows:
        target = "-" if r["target_db"] is None else f"{r['target_db']:.0f}"
        ok = "-" if r["pass"] is None else ("yes" if r["pass"] else "NO")
        print(f"{r['model']:<14}{r['sqnr_db']:>10.2f}{r['cosine']:>10.5f}{target:>8}  {ok}")
    result: dict[str, object] = {"accuracy": rows}
    if not args.skip_resnet_cost:
        cost = resnet_cost()
        result["resnet50_import_lower"] = cost
        print(f"ResNet-50 import + lowering: {cost['seconds']:.2f} s (target < 5), peak "
              f"{cost['peak_gib']:.3f} GiB (target < 2), {cost['kernels']} kernels")
        print("  stages (s): " + ", ".join(f"{k} {v}" for k, v in cost["stages"].items())
              + f"; machine load average {cost['load_avg_1min']:.1f} on {os.cpu_count()} cores")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
