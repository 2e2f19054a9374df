"""Fuzz the compile flow over ONNX op attributes: no pass may crash.

Each case is a seeded one-node model (Conv, ConvTranspose, pools, Resize, Softmax, Reduce*,
Transpose, Slice, Pad, Split, Tile, LayerNormalization, ...) with random shapes and
attributes, compiled to Gemmini C for the default target (import, prepare, quantize,
lower, map, emit). A case either compiles, or fails with one line that names its node
(`fuzz_node`); anything else (a traceback, a message without the node) is a crash.
With `--validate N` the first N compiled cases also run on the simulator and must be
bit-exact.

Usage: python tests/bench/fuzz_ops.py [--cases 1000] [--seed 0] [--validate 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from dlac.errors import DlacError
from dlac.ir.diagnostics import DiagnosticError
from dlac.ir.target import TargetError
from onnx import TensorProto, helper, numpy_helper

NODE = "fuzz_node"
_PYTHON_ERROR = re.compile(r"\b(ValueError|TypeError|IndexError|KeyError|AttributeError|"
                           r"ZeroDivisionError|AssertionError|RuntimeError|OverflowError): ")


def _spatial(rng: np.random.Generator) -> dict:
    k = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
    return {"kernel": k, "strides": [int(rng.integers(1, 4)) for _ in range(2)],
            "pads": [int(rng.integers(0, 3)) for _ in range(4)],
            "dilations": [int(rng.integers(1, 3)) for _ in range(2)]}


def _conv(rng: np.random.Generator, transpose: bool) -> tuple:
    g = int(rng.choice([1, 1, 2, 4]))
    c = g * int(rng.integers(1, 4))
    k = g * int(rng.integers(1, 4))
    sp = _spatial(rng)
    x = (1, c, int(rng.integers(3, 10)), int(rng.integers(3, 10)))
    w = (c, k // g, *sp["kernel"]) if transpose else (k, c // g, *sp["kernel"])
    attrs = {"strides": sp["strides"], "pads": sp["pads"], "dilations": sp["dilations"],
             "group": g}
    if transpose and rng.random() < 0.5:
        attrs["output_padding"] = [int(rng.integers(0, s)) for s in sp["strides"]]
    inits = {"w": rng.normal(0, 0.3, w).astype(np.float32)}
    if rng.random() < 0.5:
        inits["b"] = rng.normal(0, 0.1, k).astype(np.float32)
    return ("ConvTranspose" if transpose else "Conv"), {"x": x}, attrs, inits, 17


def _pool(rng: np.random.Generator) -> tuple:
    op = str(rng.choice(["MaxPool", "AveragePool"]))
    sp = _spatial(rng)
    attrs = {"kernel_shape": sp["kernel"], "strides": sp["strides"], "pads": sp["pads"],
             "ceil_mode": int(rng.integers(0, 2))}
    if op == "MaxPool":
        attrs["dilations"] = sp["dilations"]
    else:
        attrs["count_include_pad"] = int(rng.integers(0, 2))
    x = (1, int(rng.integers(1, 5)), int(rng.integers(3, 10)), int(rng.integers(3, 10)))
    return op, {"x": x}, attrs, {}, 17


def _shape(rng: np.random.Generator, rank: int) -> tuple[int, ...]:
    return tuple(int(rng.integers(1, 6)) for _ in range(rank))


def _misc(rng: np.random.Generator) -> tuple:
    rank = int(rng.integers(1, 5))
    x = _shape(rng, rank)
    axis = int(rng.integers(-rank, rank))
    kind = str(rng.choice(["Softmax", "ReduceSum", "ReduceMax", "ReduceMean", "ReduceL2",
                           "Transpose", "Slice", "Pad", "Split", "Tile", "LayerNormalization",
                           "Resize", "Flatten", "Concat", "HardSwish", "Div"]))
    i64 = lambda *v: np.array(v, np.int64)  # noqa: E731
    if kind == "Softmax":
        return kind, {"x": x}, {"axis": axis}, {}, int(rng.choice([11, 13]))
    if kind.startswith("Reduce"):
        return kind, {"x": x}, {"keepdims": int(rng.integers(0, 2))}, {"axes": i64(axis)}, 18
    if kind == "Transpose":
        return kind, {"x": x}, {"perm": [int(p) for p in rng.permutation(rank)]}, {}, 17
    if kind == "Slice":
        st = int(rng.integers(-x[axis], x[axis]))
        return kind, {"x": x}, {}, {"s": i64(st), "e": i64(int(rng.integers(-6, 7))),
                                    "a": i64(axis), "p": i64(int(rng.choice([1, 2, -1])))}, 17
    if kind == "Pad":
        return kind, {"x": x}, {}, {"p": np.array(rng.integers(0, 3, 2 * rank), np.int64)}, 17
    if kind == "Split":
        return kind, {"x": x}, {"axis": axis}, {}, 13
    if kind == "Tile":
        return kind, {"x": x}, {}, {"r": np.array(rng.integers(1, 3, rank), np.int64)}, 17
    if kind == "LayerNormalization":
        h = x[axis:] if axis < 0 else x[axis:]
        return kind, {"x": x}, {"axis": axis}, {"g": rng.normal(1, .2, h).astype(np.float32)}, 17
    if kind == "Resize":
        x = (1, int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(2, 6)))
        scales = np.array([1, 1, rng.choice([0.5, 1.5, 2, 3]), rng.choice([0.5, 2, 2.5])],
                          np.float32)
        mode = str(rng.choice(["asymmetric", "half_pixel", "align_corners",
                               "pytorch_half_pixel"]))
        return kind, {"x": x}, {"mode": "nearest", "coordinate_transformation_mode": mode}, \
            {"roi": np.zeros(0, np.float32), "sc": scales}, 17
    if kind == "Flatten":
        return kind, {"x": x}, {"axis": int(rng.integers(0, rank + 1))}, {}, 17
    if kind == "Concat":
        return kind, {"x": x, "x2": x}, {"axis": axis}, {}, 17
    if kind == "Div":
        return kind, {"x": x, "x2": x[int(rng.integers(0, rank)):]}, {}, {}, 17
    return kind, {"x": x}, {}, {}, 17


def case(seed: int) -> onnx.ModelProto:
    """The seeded model of one fuzz case."""
    rng = np.random.default_rng(seed)
    pick = rng.random()
    if pick < 0.3:
        op, ins, attrs, inits, opset = _conv(rng, transpose=False)
    elif pick < 0.45:
        op, ins, attrs, inits, opset = _conv(rng, transpose=True)
    elif pick < 0.6:
        op, ins, attrs, inits, opset = _pool(rng)
    else:
        op, ins, attrs, inits, opset = _misc(rng)
    n_out = int(rng.integers(1, 3)) if op == "Split" else 1
    if op == "Resize":
        order = ["x", "roi", "sc"]
    else:
        order = [*ins, *inits]
    node = helper.make_node(op, order, [f"y{i}" for i in range(n_out)], name=NODE, **attrs)
    graph = helper.make_graph(
        [node], "fuzz", [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v))
                         for k, v in ins.items()],
        [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, ["any"])
         for i in range(n_out)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run_case(seed: int, validate: bool, work: Path) -> tuple[str, str]:
    """('ok' | 'error' | 'crash', message) for one case."""
    from dlac.flow.emit import emit
    from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
    from dlac.flow.validate import validate as run_validate
    from dlac.ir.semantics.qgraph import run_reference
    from dlac.ir.target import Target
    from dlac.tools.compile_flow import map_and_lower, seeded_inputs

    model = case(seed)
    path = work / f"case{seed}.onnx"
    onnx.save(model, path)
    try:
        q = quantize_stage(prepare_stage(import_stage(path)))
        target = Target.parse("default")
        lowered = map_and_lower(q, target, "heuristic", 0)
        emitted = emit(lowered, target, work / f"out{seed}", "fuzz")
        if validate:
            inputs = seeded_inputs(q, 0)
            report = run_validate(emitted, lowered, run_reference(q, inputs), inputs, target,
                                  work / f"build{seed}")
            if not report.bit_exact:
                return "crash", f"not bit-exact: {report.outputs}"
        return "ok", ""
    except (DlacError, DiagnosticError, TargetError) as err:
        text = str(err)
        if "\n" in text.strip() or (NODE not in text and not _whole_model_error(text)):
            return "crash", f"error without the node: {text}"
        if _PYTHON_ERROR.search(text):  # named, but a pass crashed rather than refused
            return "crash", text
        return "error", text
    except Exception:  # noqa: BLE001 - what the fuzzer looks for
        return "crash", traceback.format_exc(limit=-3).strip().splitlines()[-1]


def _whole_model_error(text: str) -> bool:
    """Errors about the model as a whole (the checker's), which have no single node."""
    return "ONNX checker" in text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--validate", type=int, default=0,
                    help="also validate the first N compiled cases on the simulator")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    from rich.progress import track

    counts: Counter = Counter()
    crashes = []
    errors: Counter = Counter()
    start = time.perf_counter()
    validated = 0
    with tempfile.TemporaryDirectory(prefix="dlac-fuzz-") as tmp:
        for seed in track(range(args.seed, args.seed + args.cases), description="fuzz"):
            check = validated < args.validate
            verdict, message = run_case(seed, check, Path(tmp))
            validated += check and verdict == "ok"
            counts[verdict] += 1
            if verdict == "crash":
                crashes.append({"seed": seed, "message": message})
            elif verdict == "error":
                errors[message.split(":", 2)[-1].strip()[:90]] += 1
    elapsed = time.perf_counter() - start
    print(f"{args.cases} cases in {elapsed:.0f} s: {counts['ok']} compiled "
          f"({validated} validated bit-exact), {counts['error']} one-line errors naming the "
          f"node, {counts['crash']} crashes")
    for message, n in errors.most_common(10):
        print(f"  {n:4d} x {message}")
    for c in crashes[:20]:
        print(f"  crash seed {c['seed']}: {c['message']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"cases": args.cases, "seed": args.seed,
                                               "counts": dict(counts), "crashes": crashes,
                                               "errors": dict(errors)}, indent=2))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
