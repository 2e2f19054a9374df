"""`dlac model.onnx -o DIR [--validate]`: quantized graph -> mapped loops -> C on disk.

Kept apart from the argument parsing of `dlac` so the co-design driver can emit and
validate its final design through the same steps.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from dlac.dse.accel_steps import AccelStep, AccelSteps
from dlac.ir.core import Operation
from dlac.ir.quant_notes import notes_of
from dlac.ir.target import Target
from dlac.passes.host_cost import HostCost, load_host_model
from dlac.passes.quantize import SENSITIVITY, WIDE_ACTIVATIONS
from dlac.tools.atomic_write import write_atomic
from dlac.tools.model_spec import resolve_model

MAPPERS = ("heuristic", "random", "exhaustive", "analytical-best")


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--target", default="default",
                    help="hardware: a preset (default, small, large), a JSON file, or "
                         "key=value pairs such as dim=8,sp_kib=64,acc_kib=16")
    ap.add_argument("--mapper", choices=MAPPERS, default="heuristic",
                    help="how each layer's mapping is chosen (default: Gemmini's heuristic)")
    ap.add_argument("--validate", nargs="?", const="sim", choices=("sim", "spike"),
                    help="build and run on the bundled simulator (sim, the default) or on "
                         "Spike + libgemmini (spike) and compare bit for bit with the quantized "
                         "reference")
    ap.add_argument("--seed", type=int, default=0, help="seed for mappers and the test input")


@dataclass
class Compiled:
    quantized: Operation
    lowered: Operation
    target: Target


def map_and_lower(quantized: Operation, target: Target, mapper: str, seed: int,
                  mappings: dict[str, object] | None = None) -> Operation:
    """Lower a copy of the quantized module and give every layer a mapping for `target`.

    `mappings` (workload hash -> Mapping, or its IR attributes with the `lowering` knob,
    e.g. from the co-design search) takes precedence over `mapper` for the layers it
    covers.
    """
    return lower_kernels(map_kernels(quantized, target, mapper, seed, mappings))


def map_kernels(quantized: Operation, target: Target, mapper: str, seed: int,
                mappings: dict[str, object] | None = None) -> Operation:
    """The first half of `map_and_lower`: loop kernels with their mappings and buffers,
    before they become Gemmini library ops (where the emitted steps can still be traced
    to the search's layers)."""
    from dlac.flow.stages import lower_stage
    from dlac.passes.materialize import layer_of, mappable
    from dlac.passes.nest import TARGET_ATTR, kernels

    lowered = lower_stage(quantized.clone())
    lowered.set_attr(TARGET_ATTR, target.to_dict())
    _run_pipeline(lowered, "lower-data-movement,hoist-elementwise,compose-gathers,dce")
    for kernel in kernels(lowered):
        chosen = (mappings or {}).get(layer_of(kernel).workload_hash()) if mappable(kernel) \
            else None
        if chosen is not None:
            kernel.set_attr("mapping", chosen if isinstance(chosen, dict)
                            else chosen.to_attrs())  # type: ignore[attr-defined]
    _run_pipeline(lowered, f"materialize{{mapper={mapper} seed={seed} keep=true}},"
                           "allocate-buffers")
    return lowered


def lower_kernels(mapped: Operation) -> Operation:
    """The second half of `map_and_lower`: the mapped kernels as Gemmini library ops, max
    pools fused into their convs and average pools on the accelerator (in place)."""
    _run_pipeline(mapped, "lower-to-gemmini,fuse-max-pool,avg-pool-to-gemmini")
    return mapped


def _run_pipeline(module: Operation, text: str) -> None:
    from dlac.passes.pass_manager import PassManager
    from dlac.passes.pipeline import parse_pipeline

    PassManager(parse_pipeline(text), write_reproducer=False).run(module)


def layers_of(quantized: Operation) -> list[tuple[object, int]]:
    """Each distinct accelerated layer shape of a model with its count (the search input)."""
    from dlac.flow.stages import lower_stage
    from dlac.passes.materialize import layer_of, mappable
    from dlac.passes.nest import kernels

    found: dict[str, list] = {}
    for kernel in kernels(lower_stage(quantized.clone())):
        if mappable(kernel):
            layer = layer_of(kernel)
            found.setdefault(layer.workload_hash(), [layer, 0])[1] += 1
    return [(layer, count) for layer, count in found.values()]


def host_cost_of(quantized: Operation) -> HostCost:
    """The model's CPU steps as Gemmini's Rocket core runs them (dlac.passes.host_cost):
    lowered with the heuristic mapper for default Gemmini, since the host steps do not
    depend on the design."""
    return load_host_model().cost(map_and_lower(quantized, Target(), "heuristic", 0))


def host_and_steps_of(quantized: Operation) -> tuple[HostCost, AccelSteps]:
    """The model's CPU steps (`host_cost_of`) and its Gemmini calls that no mapping
    controls (dlac.dse.accel_steps), from one lowering: which calls those are does not
    depend on the design (a mapped op always carries its tiles)."""
    lowered = map_and_lower(quantized, Target(), "heuristic", 0)
    return load_host_model().cost(lowered), accel_steps_in(lowered)


def accel_steps_in(lowered: Operation) -> AccelSteps:
    """Every residual add and every untiled (unmapped) matmul of a lowered module."""
    from dlac.ir.dialects import gemmini

    counts: dict[AccelStep, int] = {}
    for op in lowered.walk():
        step = None
        if isinstance(op, gemmini.TiledResaddOp):
            step = AccelStep("resadd", tuple(int(d) for d in op.attr("dims")),
                             relu=op.attr("act", "none") == "relu")
        elif isinstance(op, gemmini.TiledMatmulOp) and op.attr("tiles") is None:
            step = AccelStep("matmul", tuple(int(d) for d in op.attr("dims")),
                             bias="D" in str(op.attr("roles")))
        if step is not None:
            counts[step] = counts.get(step, 0) + 1
    return list(counts.items())


def zoo_quantized(name: str) -> Operation:
    """A zoo model (built and cached on first use), imported and quantized with the
    stages' defaults (one weight scale per conv, no equalisation), not the CLI's: what the
    benchmarks search is `dlac_main.quantized_model`."""
    from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
    from dlac.tools.zoo import build

    return quantize_stage(prepare_stage(import_stage(build(name))))


def zoo_layers(name: str) -> list[tuple[object, int]]:
    """The accelerated layers of `zoo_quantized(name)` (the pass tests' models)."""
    return layers_of(zoo_quantized(name))


def seeded_inputs(quantized: Operation, seed: int) -> list[np.ndarray]:
    """The validation input: a standard-normal tensor per float argument, valid indices
    (or zeros) per integer one, as seeded calibration draws them."""
    from dlac.passes.calibration import random_inputs

    return random_inputs(quantized.regions[0].ops[0], 1, seed)[0]


def compile_to_dir(quantized: Operation, out_dir: Path, model_name: str,
                   args: argparse.Namespace) -> int:
    """Emit C into `out_dir`; with --validate also run it and write the measured report,
    with the int8 program's SQNR vs onnxruntime fp32."""
    extra = accuracy_report(quantized, args) if args.validate is not None else None
    return write_program(quantized, Target.parse(args.target), out_dir, model_name, args.mapper,
                         args.seed, args.validate is not None, spike=args.validate == "spike",
                         extra=extra)


def accuracy_report(quantized: Operation, args: argparse.Namespace) -> dict:
    """`sqnr_db` of the int8 reference vs onnxruntime fp32 of the ONNX file, and on which
    input: the --calib samples (mean dB; not held out) or the seeded validation input."""
    from dlac.flow.accuracy import onnx_sqnr
    from dlac.passes.calibration import load_calibration

    func = quantized.regions[0].ops[0]
    path = resolve_model(args.model)
    try:
        if args.calib:
            batches = load_calibration(args.calib, func)
            values = [onnx_sqnr(path, quantized, batch) for batch in batches]
            return {"sqnr_db": round(float(np.mean(values)), 2),
                    "sqnr_input": f"--calib samples ({len(values)}, not held out)"}
        return {"sqnr_db": round(onnx_sqnr(path, quantized, seeded_inputs(quantized, args.seed)),
                                 2), "sqnr_input": f"seeded standard normal (seed {args.seed})"}
    except Exception as err:  # noqa: BLE001 - accuracy is reported, never fatal
        return {"sqnr_db": None, "sqnr_error": str(err).splitlines()[0][:200]}


def print_sensitivity(report: dict) -> None:
    """The --sensitivity rankings, one line per layer: largest gain first, then largest
    noise share first."""
    print(f"sensitivity: int8 rounding simulated on the float graph gives "
          f"{report['sqnr_db']} dB; gain if one layer were exact:")
    for row in report["layers"]:
        print(f"  {row['gain_db']:+7.2f} dB  {row['op']:<24} {row['node']}")
    print("noise share with one layer alone rounded (SQNR that rounding alone leaves):")
    for row in report["noise"]:
        print(f"  {100 * row['share']:5.1f}% {row['alone_db']:6.2f} dB  {row['op']:<24} "
              f"{row['node']}")


def write_program(quantized: Operation, target: Target, out_dir: Path, model_name: str,
                  mapper: str, seed: int, check: bool,
                  mappings: dict[str, object] | None = None, spike: bool = False,
                  extra: dict | None = None) -> int:
    """Emit the model's C for `target` into `out_dir`; `check` validates it bit for bit on
    the bundled simulator, `spike` also on Spike + libgemmini; `extra` goes into
    report.json as is."""
    from dlac.flow.emit import emit

    lowered = map_and_lower(quantized, target, mapper, seed, mappings)
    emitted = emit(lowered, target, out_dir, model_name)
    report: dict = {"model": model_name, "target": target.to_dict(), "mapper": mapper,
                    "files": sorted(p.name for p in out_dir.iterdir()),
                    "quant_notes": notes_of(quantized), **(extra or {})}
    if report["quant_notes"]:
        print(f"{len(report['quant_notes'])} change(s) to the model's own quantization "
              f"(quant_notes in {out_dir / 'report.json'})")
    wide = quantized.attr(WIDE_ACTIVATIONS)
    if wide is not None:
        report["wide_activations"] = wide
        print(f"two-digit activations ({len(wide)}, into Gemmini convs/matmuls): "
              + ", ".join(f"{row['node']} ({row['alone_db']} dB alone)" for row in wide))
    sensitivity = quantized.attr(SENSITIVITY)
    if sensitivity is not None:
        report["sensitivity"] = sensitivity
        print_sensitivity(sensitivity)
    code = 0
    if check:
        from dlac.flow.validate import validate
        from dlac.flow.validate_spike import run_output_dir, write_check_files
        from dlac.ir.semantics.qgraph import run_reference

        inputs = seeded_inputs(quantized, seed)
        reference = run_reference(quantized, inputs)
        write_check_files(emitted, reference, inputs)
        with tempfile.TemporaryDirectory(prefix="dlac-build-") as build:
            result = validate(emitted, lowered, reference, inputs, target, Path(build))
        report.update(json.loads(result.to_json()))
        print_summary(report)
        code = 0 if result.bit_exact else 1
        if spike:
            with tempfile.TemporaryDirectory(prefix="dlac-spike-") as build:
                on_spike = run_output_dir(emitted.out_dir, Path(build))
            report.update(asdict(on_spike))
            verdict = "bit-exact" if on_spike.spike_bit_exact else "NOT bit-exact"
            print(f"Spike + libgemmini: {verdict}; {on_spike.spike_instructions:,} "
                  f"instructions, {on_spike.spike_wall_s} s")
            code |= 0 if on_spike.spike_bit_exact else 1
    write_atomic(out_dir / "report.json", json.dumps(report, indent=2))
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
    host = report.get("host") or {}
    if host.get("steps"):
        console.print(f"host steps (Rocket model, dlac.passes.host_cost): "
                      f"{host['cycles']:,.0f} cycles = {100 * host['cycles'] / total:.1f}% of "
                      f"the model, {host['instructions']:,.0f} instructions")


def autotune_emitter(quantized: dict[str, Operation], args: argparse.Namespace):  # noqa: ANN201
    """The co-design driver's hook: emit and validate every model on the chosen design."""

    def emit_models(result, out_dir: Path) -> dict:  # noqa: ANN001
        target = result.best.target
        mappings = {h: best.attrs() for h, best in result.best.layers.items()
                    if best.emitted()}
        models = {}
        for name, module in quantized.items():
            where = out_dir if len(quantized) == 1 else out_dir / name
            where.mkdir(parents=True, exist_ok=True)
            write_program(module, target, where, name, "heuristic", args.seed, True, mappings)
            models[name] = json.loads((where / "report.json").read_text())
        keys = ("bit_exact", "cycles", "energy_pj", "edp", "utilization")
        summary = {name: {k: r[k] for k in keys} for name, r in models.items()}
        notes = {name: notes_of(module) for name, module in quantized.items()
                 if notes_of(module)}
        return {"bit_exact": all(r["bit_exact"] for r in models.values()),
                "validation": summary, "quant_notes": notes}

    return emit_models
