"""Fuzz the compile flow over ONNX op attributes: no pass may crash.

Each case is a seeded one-node model (Conv, ConvTranspose, pools, Resize, Softmax, Reduce*,
Transpose, Slice, Pad, Split, Tile, LayerNormalization, ...) with random shapes and
attributes, compiled to Gemmini C for the default target (import, prepare, quantize,
lower, map, emit). A case either compiles, or fails with one line that names its node
(`fuzz_node`); anything else (a traceback, a message without the node) is a crash.
With `--validate N` the first N compiled cases also run on the simulator and must be
bit-exact.

`--family recurrent` draws instead from LSTM/GRU (direction, layout, initial states,
linear_before_reset, optional outputs), ArgMax/ArgMin, TopK, linear Resize (every
coordinate mode), comparisons and Where with a run-time condition.

Usage: python tests/bench/fuzz_ops.py [--cases 1000] [--seed 0] [--validate 0] [--json out.json]
                                      [--family classic|recurrent]
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


def _rnn(rng: np.random.Generator) -> tuple:
    kind = str(rng.choice(["LSTM", "GRU"]))
    gates = 4 if kind == "LSTM" else 3
    direction = str(rng.choice(["forward", "reverse", "bidirectional"]))
    d = 2 if direction == "bidirectional" else 1
    t, b, i, h = (int(rng.integers(1, 5)), int(rng.integers(1, 3)), int(rng.integers(1, 6)),
                  int(rng.integers(1, 6)))
    layout = int(rng.integers(0, 2))
    attrs = {"hidden_size": h, "direction": direction, "layout": layout}
    if kind == "GRU":
        attrs["linear_before_reset"] = int(rng.integers(0, 2))
    inits = {"w": rng.normal(0, 0.5, (d, gates * h, i)).astype(np.float32),
             "r": rng.normal(0, 0.5, (d, gates * h, h)).astype(np.float32),
             "bias": rng.normal(0, 0.2, (d, 2 * gates * h)).astype(np.float32)}
    ins = {"x": (b, t, i) if layout else (t, b, i)}
    if rng.random() < 0.4:
        ins["h0"] = (b, d, h) if layout else (d, b, h)
    return kind, ins, attrs, inits, 14


def _selection(rng: np.random.Generator) -> tuple:
    rank = int(rng.integers(1, 5))
    x = _shape(rng, rank)
    axis = int(rng.integers(-rank, rank))
    kind = str(rng.choice(["ArgMax", "ArgMin", "TopK", "Resize", "Greater", "LessOrEqual",
                           "Equal", "Where"]))
    if kind in ("ArgMax", "ArgMin"):
        return kind, {"x": x}, {"axis": axis, "keepdims": int(rng.integers(0, 2)),
                                "select_last_index": int(rng.integers(0, 2))}, {}, 13
    if kind == "TopK":
        k = np.array([int(rng.integers(1, x[axis] + 2))], np.int64)  # k > n is invalid
        return kind, {"x": x}, {"axis": axis, "largest": int(rng.integers(0, 2))}, \
            {"k": k}, 13
    if kind == "Resize":
        x = (1, int(rng.integers(1, 4)), int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        scales = np.array([1, 1, rng.choice([0.5, 1, 1.5, 2, 3]), rng.choice([0.5, 2, 2.5])],
                          np.float32)
        mode = str(rng.choice(["asymmetric", "half_pixel", "align_corners",
                               "pytorch_half_pixel", "tf_crop_and_resize"]))
        return kind, {"x": x}, {"mode": "linear", "coordinate_transformation_mode": mode}, \
            {"roi": np.zeros(0, np.float32), "sc": scales}, 17
    other = x[int(rng.integers(0, rank)):]
    if kind == "Where":
        return kind, {"cond": other, "x": x, "x2": _shape(rng, 1) if rng.random() < 0.5
                      else x}, {}, {}, 17
    return kind, {"x": x, "x2": other}, {}, {}, 17


#: Output element types of the ops whose outputs are not all float, per output index.
_OUT_TYPES = {"ArgMax": [TensorProto.INT64], "ArgMin": [TensorProto.INT64],
              "TopK": [TensorProto.FLOAT, TensorProto.INT64], "Greater": [TensorProto.BOOL],
              "LessOrEqual": [TensorProto.BOOL], "Equal": [TensorProto.BOOL]}


def case(seed: int, family: str = "classic") -> onnx.ModelProto:
    """The seeded model of one fuzz case."""
    rng = np.random.default_rng(seed)
    if family == "recurrent":
        return _model(rng, *(_rnn(rng) if rng.random() < 0.4 else _selection(rng)))
    pick = rng.random()
    if pick < 0.3:
        op, ins, attrs, inits, opset = _conv(rng, transpose=False)
    elif pick < 0.45:
        op, ins, attrs, inits, opset = _conv(rng, transpose=True)
    elif pick < 0.6:
        op, ins, attrs, inits, opset = _pool(rng)
    else:
        op, ins, attrs, inits, opset = _misc(rng)
    return _model(rng, op, ins, attrs, inits, opset)


def _model(rng: np.random.Generator, op: str, ins: dict, attrs: dict, inits: dict,
           opset: int) -> onnx.ModelProto:
    n_out = {"Split": int(rng.integers(1, 3)), "LSTM": int(rng.integers(1, 4)),
             "GRU": int(rng.integers(1, 3)), "TopK": 2}.get(op, 1)
    if op == "Resize":
        order = ["x", "roi", "sc"]
    elif op in ("LSTM", "GRU"):
        order = ["x", "w", "r", "bias", "", *(["h0"] if "h0" in ins else [])]
    else:
        order = [*ins, *inits]
    node = helper.make_node(op, order, [f"y{i}" for i in range(n_out)], name=NODE, **attrs)
    types = _OUT_TYPES.get(op, [TensorProto.FLOAT] * n_out)
    graph = helper.make_graph(
        [node], "fuzz", [helper.make_tensor_value_info(
            k, TensorProto.BOOL if k == "cond" else TensorProto.FLOAT, list(v))
            for k, v in ins.items()],
        [helper.make_tensor_value_info(f"y{i}", types[i], ["any"]) for i in range(n_out)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run_case(seed: int, validate: bool, work: Path, family: str = "classic"
             ) -> tuple[str, str]:
    """('ok' | 'error' | 'crash', message) for one case."""
    from dlac.flow.emit import emit
    from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
    from dlac.flow.validate import validate as run_validate
    from dlac.ir.semantics.qgraph import run_reference
    from dlac.ir.target import Target
    from dlac.tools.compile_flow import map_and_lower, seeded_inputs

    model = case(seed, family)
    path = work / f"case{seed}.onnx"
    onnx.save(model, path)
    try:
        q = quantize_stage(prepare_stage(import_stage(path)), weight_splits=4)  # dlac's
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
    ap.add_argument("--family", default="classic", choices=("classic", "recurrent"),
                    help="op family to draw cases from (see the module docstring)")
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
            verdict, message = run_case(seed, check, Path(tmp), args.family)
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
                                               "family": args.family,
                                               "counts": dict(counts), "crashes": crashes,
                                               "errors": dict(errors)}, indent=2))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
