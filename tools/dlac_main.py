"""`dlac`: compile an ONNX model and print the IR of a chosen stage.

    dlac model.onnx [--emit graph|qgraph|loops|ir] [-o FILE] [--input-shape x=1x3x224x224]
                    [--calib inputs.npz] [--shape-only]

`--emit graph` is the mechanical import, `qgraph` the int8 graph, `loops` (alias `ir`) the
loop nests after lowering. Later stages (gemmini, c) register here as they land: add a
choice to EMITTERS and a function that takes the previous stage's module.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable

from dlac.errors import DlacError
from dlac.ir.core import Operation
from dlac.ir.diagnostics import DiagnosticError


def emit_graph(args: argparse.Namespace) -> Operation:
    from dlac.frontend.pipeline import import_stage
    from dlac.frontend.shapes import parse_input_shapes

    return import_stage(args.model, parse_input_shapes(args.input_shape),
                        load_weights=not args.shape_only)


def emit_qgraph(args: argparse.Namespace) -> Operation:
    from dlac.frontend.pipeline import prepare_stage, quantize_stage

    return quantize_stage(prepare_stage(emit_graph(args)), args.calib)


def emit_loops(args: argparse.Namespace) -> Operation:
    from dlac.frontend.pipeline import lower_stage

    return lower_stage(emit_qgraph(args))


EMITTERS: dict[str, Callable[[argparse.Namespace], Operation]] = {
    "graph": emit_graph, "qgraph": emit_qgraph, "loops": emit_loops, "ir": emit_loops,
}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="dlac", description="Compile an ONNX model for Gemmini.")
    ap.add_argument("model", help="ONNX model file")
    ap.add_argument("--emit", choices=sorted(EMITTERS), default="ir",
                    help="stage to print (default: ir = loops)")
    ap.add_argument("-o", "--output", help="write the IR here instead of stdout")
    ap.add_argument("--input-shape", action="append", metavar="NAME=D0xD1x...",
                    help="static shape for a dynamic model input (repeatable)")
    ap.add_argument("--calib", help="calibration inputs (.npz, one array per model input)")
    ap.add_argument("--shape-only", action="store_true",
                    help="do not read external weight files (weight-stripped models)")
    return ap


def write_atomic(path: str, text: str) -> None:
    """Write via a temp file in the same directory, so no half-written file is left."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".dlac-", dir=directory)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from dlac.ir.printer import print_op

        module = EMITTERS[args.emit](args)
        text = print_op(module)
        if args.output:
            write_atomic(args.output, text)
        else:
            sys.stdout.write(text)
    except (DlacError, DiagnosticError) as err:
        print(f"dlac: error: {err}", file=sys.stderr)
        return getattr(err, "exit_code", 1) or 1
    except MemoryError:
        print("dlac: error: out of memory", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
