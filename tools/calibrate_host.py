"""Fit the host-step instruction model (dlac.passes.host_cost) to Spike's counts.

Each model is compiled for default Gemmini with the heuristic mapper, emitted, built bare
metal and run on Spike + libgemmini; the program prints every step's cycle counter, which
on Spike counts retired instructions. Every CPU step (element-wise nest, library call,
gather) becomes one row: its IR counts against its instructions. Coefficients are fitted
by non-negative least squares; the error quoted is leave-one-model-out (each model's steps
predicted by a fit that never saw the model). Prints a table, writes JSON, and with
`--write` the shipped coefficients (passes/host_instructions.json). Needs the cache of
`python -m dlac.tools.setup_spike`.

    python -m dlac.tools.calibrate_host [MODEL ...] [--json out.json] [--write]

MODEL is a zoo name or an ONNX file (default: the zoo models but VGG-16).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from dlac.errors import DlacError
from dlac.flow.emit import emit
from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
from dlac.flow.validate_spike import validate_on_spike
from dlac.ir.diagnostics import DiagnosticError
from dlac.ir.semantics.qgraph import run_reference
from dlac.ir.target import Target
from dlac.passes.host_cost import (
    CALL,
    COEFFICIENTS_FILE,
    HostModel,
    HostStep,
    feature_vector,
    host_steps,
)
from dlac.tools.compile_flow import map_and_lower, seeded_inputs
from dlac.tools.zoo import MODELS, build
from rich.console import Console
from rich.table import Table
from scipy.optimize import nnls

DEFAULT_MODELS = tuple(m for m in MODELS if m != "vgg16")

Row = tuple[str, HostStep, float]
"""(model, step, Spike instructions)."""


def measure(model: str, timeout: float) -> list[Row]:
    """Every CPU step of `model` with its Spike instruction count."""
    path = Path(model) if model.endswith(".onnx") else build(model)
    quantized = quantize_stage(prepare_stage(import_stage(path)))
    target = Target()
    lowered = map_and_lower(quantized, target, "heuristic", 0)
    inputs = seeded_inputs(quantized, 0)
    reference = run_reference(quantized, inputs)
    with tempfile.TemporaryDirectory(prefix="dlac-host-") as tmp:
        emitted = emit(lowered, target, Path(tmp) / "out", Path(model).stem)
        report = validate_on_spike(emitted, reference, inputs, Path(tmp) / "build", timeout)
    if not report.spike_bit_exact:
        raise DlacError(f"{model}: not bit-exact on Spike, its counts are not used")
    names = [s.name for s in emitted.view.steps if s.kind == "host"]
    steps = list(host_steps(lowered))
    if len(names) != len(steps):
        raise DlacError(f"{model}: {len(names)} emitted host steps, {len(steps)} in the IR")
    return [(Path(model).stem, step, float(report.spike_step_instructions[name]))
            for name, step in zip(names, steps, strict=True)]


def _design(rows: list[Row], columns: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(columns)}
    x = np.zeros((len(rows), len(columns)))
    for r, (_, step, _) in enumerate(rows):
        for name, value in feature_vector(step).items():
            if name in index:
                x[r, index[name]] = value
    return x


def _generic(step: HostStep) -> HostStep:
    """A library call with its kind erased (for the unseen-kind fallback)."""
    return HostStep("host", step.counts, step.bytes_moved)


def _nnls(rows: list[Row]) -> dict[str, float]:
    columns = sorted({n for _, s, _ in rows for n in feature_vector(s)})
    y = np.array([r[2] for r in rows])
    # Relative error matters: weight each row by 1/measured so small steps count too.
    w = 1.0 / np.maximum(y, 1.0)
    coef, _ = nnls(_design(rows, columns) * w[:, None], y * w)
    return dict(zip(columns, (float(c) for c in coef), strict=True))


def fit(rows: list[Row]) -> HostModel:
    """Per-feature coefficients, a generic library-call model, and the mean body op."""
    coefficients = _nnls(rows)
    library = [(m, _generic(s), y) for m, s, y in rows if s.kind not in ("nest", "gather")]
    fallback = _nnls(library) if library else {}
    body = [v for k, v in coefficients.items()
            if k.startswith("nest:loop.")]
    fallback["op"] = float(np.mean(body)) if body else 10.0
    fallback.setdefault(f"host:{CALL}", float(np.mean(
        [v for k, v in coefficients.items() if k.endswith(f":{CALL}")] or [0.0])))
    return HostModel(coefficients, fallback)


def cross_validate(rows: list[Row]) -> dict[str, Any]:
    """Leave-one-model-out: per model, its total host instructions predicted by a fit on
    the others, and the steps' absolute percentage errors."""
    models = sorted({m for m, _, _ in rows})
    per_model: dict[str, dict[str, float]] = {}
    by_kind: dict[str, list[float]] = defaultdict(list)
    for held in models:
        model = fit([r for r in rows if r[0] != held])
        test = [r for r in rows if r[0] == held]
        pred = [model.instructions(s) for _, s, _ in test]
        measured = sum(y for _, _, y in test)
        for (_, s, y), p in zip(test, pred, strict=True):
            by_kind[s.kind].append(abs(p - y) / max(y, 1.0))
        per_model[held] = {"steps": len(test), "measured": measured, "predicted": sum(pred),
                           "error": sum(pred) / measured - 1 if measured else 0.0}
    errors = [abs(v["error"]) for v in per_model.values()]
    return {"per_model": per_model,
            "mean_abs_total_error": float(np.mean(errors)) if errors else None,
            "step_mape_by_kind": {k: {"steps": len(v), "mape": float(np.mean(v))}
                                  for k, v in sorted(by_kind.items())}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="calibrate_host", description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", default=list(DEFAULT_MODELS))
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--json", help="write the rows' summary, the fit and the CV here")
    ap.add_argument("--write", action="store_true",
                    help=f"ship the fit on all models as {COEFFICIENTS_FILE.name}")
    args = ap.parse_args(argv)
    console = Console(stderr=True)
    rows: list[Row] = []
    skipped: dict[str, str] = {}
    for model in args.models:
        try:
            with console.status(f"{model}: compiling and running on Spike"):
                got = measure(model, args.timeout)
        except (DlacError, DiagnosticError) as err:
            skipped[model] = str(err).splitlines()[0]
            console.print(f"{model}: skipped ({skipped[model]})")
            continue
        console.print(f"{model}: {len(got)} host steps, "
                      f"{sum(r[2] for r in got):,.0f} instructions")
        rows += got
    if len({m for m, _, _ in rows}) < 2:
        print("calibrate_host: error: need at least two models with host steps",
              file=sys.stderr)
        return 1
    cv = cross_validate(rows)
    model = fit(rows)
    table = Table(title="host instructions, leave-one-model-out")
    for col in ("model", "steps", "Spike", "predicted", "error"):
        table.add_column(col, justify="right")
    for name, m in cv["per_model"].items():
        table.add_row(name, str(m["steps"]), f"{m['measured']:,.0f}",
                      f"{m['predicted']:,.0f}", f"{100 * m['error']:+.1f}%")
    Console().print(table)
    for kind, m in cv["step_mape_by_kind"].items():
        print(f"  {kind:24s} steps {m['steps']:>4}  step MAPE {100 * m['mape']:.1f}%")
    print(f"mean |total error| over held-out models: {100 * cv['mean_abs_total_error']:.1f}%")
    command = " ".join(["python -m dlac.tools.calibrate_host", *(argv or sys.argv[1:])])
    record = {**model.to_dict(), "command": command, "models": sorted(cv["per_model"]),
              "skipped": skipped, "cross_validation": cv}
    if args.write:
        COEFFICIENTS_FILE.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
