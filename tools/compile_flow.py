"""`dlac model.onnx -o DIR [--validate]`: quantized graph -> mapped loops -> C on disk.

Kept apart from the argument parsing of `dlac` so the co-design driver can emit and
validate its final design through the same steps.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlac.ir.core import Operation
from dlac.ir.target import Target

MAPPERS = ("heuristic", "random", "exhaustive", "analytical-best")


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--target", default="default",
                    help="hardware: a preset (default, small, large), a JSON file, or "
                         "key=value pairs such as dim=8,sp_kib=64,acc_kib=16")
    ap.add_argument("--mapper", choices=MAPPERS, default="heuristic",
                    help="how each layer's mapping is chosen (default: Gemmini's heuristic)")
    ap.add_argument("--validate", action="store_true",
                    help="build and run on the bundled simulator and compare bit for bit with "
                         "the quantized reference")
    ap.add_argument("--seed", type=int, default=0, help="seed for mappers and the test input")


@dataclass
class Compiled:
    quantized: Operation
    lowered: Operation
    target: Target


def map_and_lower(quantized: Operation, target: Target, mapper: str, seed: int) -> Operation:
    """Lower a copy of the quantized module and give every layer a mapping for `target`."""
    from dlac.frontend.pipeline import lower_stage
    from dlac.passes.nest import TARGET_ATTR
    from dlac.passes.pass_manager import PassManager
    from dlac.passes.pipeline import parse_pipeline

    lowered = lower_stage(quantized.clone())
    lowered.set_attr(TARGET_ATTR, target.to_dict())
    pipeline = (f"lower-data-movement,dce,materialize{{mapper={mapper} seed={seed}}},"
                "allocate-buffers,lower-to-gemmini")
    PassManager(parse_pipeline(pipeline), write_reproducer=False).run(lowered)
    return lowered


def seeded_inputs(quantized: Operation, seed: int) -> list[np.ndarray]:
    """One standard-normal float32 input per model argument (the validation input)."""
    func = quantized.regions[0].ops[0]
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(a.type.shape).astype(np.float32) for a in func.args]


def write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".dlac-", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    os.replace(tmp, path)


def compile_to_dir(quantized: Operation, out_dir: Path, model_name: str,
                   args: argparse.Namespace) -> int:
    """Emit C into `out_dir`; with --validate also run it and write the measured report."""
    from dlac.backends.emit import emit

    target = Target.parse(args.target)
    lowered = map_and_lower(quantized, target, args.mapper, args.seed)
    emitted = emit(lowered, target, out_dir, model_name)
    report: dict = {"model": model_name, "target": target.to_dict(), "mapper": args.mapper,
                    "files": sorted(p.name for p in out_dir.iterdir())}
    code = 0
    if args.validate:
        from dlac.backends.validate import validate
        from dlac.frontend.reference import run_reference

        inputs = seeded_inputs(quantized, args.seed)
        with tempfile.TemporaryDirectory(prefix="dlac-build-") as build:
            result = validate(emitted, lowered, run_reference(quantized, inputs), inputs, target,
                              Path(build))
        report.update(json.loads(result.to_json()))
        print_summary(report)
        code = 0 if result.bit_exact else 1
    write_json_atomic(out_dir / "report.json", report)
    return code


def print_summary(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{report['model']} on {Target.from_dict(report['target']).name}")
    for col in ("step", "kind", "cycles", "share"):
        table.add_column(col, justify="right" if col in ("cycles", "share") else "left")
    total = max(report["cycles"], 1.0)
    for step in report["steps"]:
        table.add_row(step["name"], step["kind"], f"{step['cycles']:,}",
                      f"{100 * step['cycles'] / total:.1f}%")
    console = Console()
    console.print(table)
    verdict = "bit-exact" if report["bit_exact"] else "NOT bit-exact"
    console.print(f"{verdict}; cycles {report['cycles']:,.0f}, energy "
                  f"{report['energy_pj'] / 1e6:,.3f} uJ, EDP {report['edp']:.4g} pJ*cycles, "
                  f"utilisation {100 * report['utilization']:.1f}% of the "
                  f"{report['target']['dim']}x{report['target']['dim']} array")
