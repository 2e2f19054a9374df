"""`dlac`: compile ONNX models for Gemmini, or co-design a Gemmini for them.

    dlac MODEL -o DIR [--target T] [--mapper M] [--validate]     C, header, Makefile, report
    dlac MODEL --emit graph|qgraph|loops|ir|gemmini [-o FILE]    the IR of one stage
    dlac MODEL [MODEL ...] --autotune -o DIR [co-design options] one Gemmini for all models

MODEL is an ONNX file or `zoo:NAME` (a model of the bundled zoo, built and cached on first
use). `--emit graph` is the mechanical import, `qgraph` the int8 graph, `loops` (alias
`ir`) the loop nests after lowering, `gemmini` the mapped Gemmini library ops.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from dlac.errors import DlacError
from dlac.ir.core import Operation
from dlac.ir.diagnostics import DiagnosticError
from dlac.ir.target import TargetError
from dlac.passes.calibration import METHODS
from dlac.tools.atomic_write import write_atomic
from dlac.tools.model_spec import model_name, resolve_model


def emit_graph(args: argparse.Namespace) -> Operation:
    from dlac.flow.stages import import_stage
    from dlac.frontend.shapes import parse_input_shapes

    return import_stage(resolve_model(args.model), parse_input_shapes(args.input_shape),
                        load_weights=not args.shape_only)


def emit_qgraph(args: argparse.Namespace) -> Operation:
    from dlac.flow.stages import prepare_stage, quantize_stage

    return quantize_stage(prepare_stage(emit_graph(args)), args.calib,
                          method=args.calib_method, weight_groups=args.weight_groups,
                          bias_correction=args.bias_correction, equalize=args.equalize,
                          sensitivity=args.sensitivity, weight_splits=args.weight_splits,
                          int16_host=args.int16_host,
                          wide_activations=args.wide_activations)


def quantized_model(spec: str) -> Operation:
    """MODEL quantized exactly as `dlac MODEL` does with the CLI's defaults (weight splits,
    equalisation, calibration), so benchmarks and tools search the model users get."""
    args = build_parser().parse_args([spec])
    args.model = spec
    return emit_qgraph(args)


def emit_loops(args: argparse.Namespace) -> Operation:
    from dlac.flow.stages import lower_stage

    return lower_stage(emit_qgraph(args))


def emit_gemmini(args: argparse.Namespace) -> Operation:
    from dlac.ir.target import Target
    from dlac.tools.compile_flow import map_and_lower

    return map_and_lower(emit_qgraph(args), Target.parse(args.target), args.mapper, args.seed)


EMITTERS: dict[str, Callable[[argparse.Namespace], Operation]] = {
    "graph": emit_graph, "qgraph": emit_qgraph, "loops": emit_loops, "ir": emit_loops,
    "gemmini": emit_gemmini,
}


def build_parser() -> argparse.ArgumentParser:
    from dlac.dse.cli import add_arguments as add_autotune_arguments
    from dlac.tools.compile_flow import add_arguments as add_compile_arguments

    ap = argparse.ArgumentParser(prog="dlac", description="Compile ONNX models for Gemmini "
                                 "and co-design the accelerator.")
    ap.add_argument("models", nargs="+", metavar="MODEL",
                    help="ONNX file or zoo:NAME (several only with --autotune)")
    ap.add_argument("--emit", choices=sorted(EMITTERS) + ["c"], default="c",
                    help="c (default): write C, header, Makefile and report to -o DIR; "
                         "otherwise print the IR of that stage")
    ap.add_argument("-o", "--output", help="output directory (c, --autotune) or IR file")
    ap.add_argument("--input-shape", action="append", metavar="NAME=D0xD1x...",
                    help="static shape for a dynamic model input (repeatable)")
    ap.add_argument("--calib", help="calibration inputs (.npz: one array per model input, "
                    "named as the input, with a leading batch/sample axis)")
    ap.add_argument("--calib-method", choices=METHODS, default="mse",
                    help="activation range: the clip minimising int8 squared error (mse, the "
                         "default), max |x| (minmax) or the mean per-sample 99.99th "
                         "percentile of |x| (percentile)")
    ap.add_argument("--weight-groups", type=int, default=1, metavar="N",
                    help="at most N weight scales per conv, each over a group of output "
                         "channels with similar ranges, run as one call each plus a "
                         "regrouping gather on the host (default 1: one scale per layer)")
    ap.add_argument("--weight-splits", type=int, default=4, metavar="N",
                    help="at most N weight scales per dense conv (default 4; 1: one per "
                         "layer), each over a run of output channels sorted by range at "
                         "compile time, one Gemmini call each writing its slice of the "
                         "output (no host regrouping)")
    ap.add_argument("--equalize", action=argparse.BooleanOptionalAction, default=True,
                    help="cross-layer equalisation (default on): rescale channels between "
                         "convs joined by no activation or a ReLU so per-tensor scales fit "
                         "them (same function)")
    ap.add_argument("--int16-host", action=argparse.BooleanOptionalAction, default=True,
                    help="(default on) carry tensors that only host ops touch (residual "
                         "streams into LayerNorm) at int16, quantizing to int8 where "
                         "LayerNorm feeds Gemmini")
    ap.add_argument("--wide-activations", type=int, default=0, metavar="N",
                    help="carry the N table outputs (HardSwish, SiLU, ...) read by Gemmini "
                         "convs/matmuls whose int8 rounding costs the most output noise as "
                         "two int8 digits: each reading conv runs twice plus a resadd "
                         "(default 0)")
    ap.add_argument("--bias-correction", action=argparse.BooleanOptionalAction, default=True,
                    help="(default on) subtract from unpadded convs' biases the mean output "
                         "shift that rounding their weights causes (E[input] from "
                         "calibration)")
    ap.add_argument("--sensitivity", type=int, default=0, metavar="N",
                    help="estimate per layer the output SQNR gained if that layer were "
                         "exact (simulated int8 rounding on the calibration samples); the N "
                         "largest go to report.json and the terminal")
    ap.add_argument("--check", action="store_true",
                    help="list every unsupported op and shape problem (one line each) "
                         "instead of compiling; exit 1 if there is any")
    ap.add_argument("--shape-only", action="store_true",
                    help="do not read external weight files (weight-stripped models)")
    add_compile_arguments(ap)
    ap.add_argument("--autotune", action="store_true",
                    help="co-design one Gemmini and its mappings for all MODELs")
    add_autotune_arguments(ap, output=False)
    return ap


def run(args: argparse.Namespace) -> int:
    from dlac.ir.printer import print_op

    if args.autotune:
        return autotune(args)
    if len(args.models) != 1:
        raise DlacError("several models are only accepted with --autotune")
    args.model = args.models[0]
    if args.check:
        from dlac.tools.check_model import check

        return check(args)
    if args.emit == "c":
        from dlac.tools.compile_flow import compile_to_dir

        if not args.output:
            raise DlacError("writing C needs an output directory: -o DIR "
                            "(or --emit STAGE to print IR)")
        return compile_to_dir(emit_qgraph(args), Path(args.output), model_name(args.model), args)
    module = EMITTERS[args.emit](args)
    text = print_op(module)
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def autotune(args: argparse.Namespace) -> int:
    """Co-design across all models, then emit and validate each model's C."""
    from dlac.dse.cli import run as run_autotune
    from dlac.tools.compile_flow import autotune_emitter, host_and_steps_of, layers_of

    if not args.output:
        raise DlacError("--autotune needs an output directory: -o DIR")
    quantized = {}
    layers = {}
    host = {}
    steps = {}
    for spec in args.models:
        args.model = spec
        name = model_name(spec)
        quantized[name] = emit_qgraph(args)
        layers[name] = layers_of(quantized[name])
        host[name], steps[name] = host_and_steps_of(quantized[name])
    args.output_dir = args.output
    return run_autotune(args, layers, autotune_emitter(quantized, args), host, steps)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (DlacError, DiagnosticError, TargetError) as err:
        print(f"dlac: error: {err}", file=sys.stderr)
        return getattr(err, "exit_code", 1) or 1
    except MemoryError:
        print("dlac: error: out of memory", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
