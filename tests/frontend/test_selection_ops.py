"""ArgMax/ArgMin, TopK and linear Resize: float meaning equals onnxruntime's, and each
compiles to host C that is bit-exact with the int8 reference on the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from dlac.flow.stages import import_stage
from dlac.ir.semantics.graph import evaluate_func
from dlac.tools.dlac_main import main
from onnx import TensorProto
from onnx_builders import typed_node_model

F, I64 = TensorProto.FLOAT, TensorProto.INT64
R = np.random.default_rng(11)


def _roi() -> dict[str, np.ndarray]:
    return {"roi": np.zeros(0, np.float32)}


def resize(mode: str, scales: list[float] | None = None, sizes: list[int] | None = None
           ) -> onnx.ModelProto:
    inits = _roi() | {"scales": np.array(scales or [], np.float32)}
    if sizes is not None:
        inits["sizes"] = np.array(sizes, np.int64)
    return typed_node_model("Resize", {"x": (1, 3, 4, 5)}, {"y": F},
                            {"mode": "linear", "coordinate_transformation_mode": mode}, inits,
                            13)


CASES = {
    "argmax_axis1": typed_node_model("ArgMax", {"x": (2, 5, 3)}, {"y": I64},
                                     {"axis": 1}, None, 13),
    "argmax_last_flat": typed_node_model("ArgMax", {"x": (4, 6)}, {"y": I64},
                                         {"axis": -1, "keepdims": 0, "select_last_index": 1},
                                         None, 13),
    "argmin_axis0": typed_node_model("ArgMin", {"x": (3, 4)}, {"y": I64},
                                     {"axis": 0, "keepdims": 0}, None, 13),
    "topk_largest": typed_node_model("TopK", {"x": (2, 7)}, {"v": F, "i": I64}, None,
                                     {"k": np.array([3], np.int64)}, 13),
    "topk_smallest_axis1": typed_node_model("TopK", {"x": (2, 5, 3)}, {"v": F, "i": I64},
                                            {"axis": 1, "largest": 0},
                                            {"k": np.array([2], np.int64)}, 13),
    "resize_half_pixel": resize("half_pixel", [1, 1, 2, 2]),
    "resize_pytorch_half_pixel": resize("pytorch_half_pixel", [1, 1, 0.5, 1.6]),
    "resize_align_corners": resize("align_corners", None, [1, 3, 7, 3]),
    "resize_asymmetric": resize("asymmetric", [1, 1, 3, 1]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_float_meaning_matches_onnxruntime(tmp_path: Path, case: str) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(CASES[case], path)
    shape = [d.dim_value for d in CASES[case].graph.input[0].type.tensor_type.shape.dim]
    x = np.round(R.standard_normal(shape), 1).astype(np.float32)  # ties in arg/top-k
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})
    got = evaluate_func(import_stage(path).regions[0].ops[0], [x], 13)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_compiles_bit_exact(tmp_path: Path, case: str) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(CASES[case], path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["bit_exact"] is True


def test_linear_resize_after_a_conv_reads_its_nhwc_output(tmp_path: Path) -> None:
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(R.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32), "w")
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "s")
    roi = numpy_helper.from_array(np.zeros(0, np.float32), "roi")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Resize", ["c", "roi", "s"], ["y"], name="up", mode="linear")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", F, [1, 3, 5, 6])], [helper.make_tensor_value_info("y", F, [1, 4, 10, 12])],
        [w, scales, roi])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0


def _where_graph(tmp_path: Path, nodes: list, inputs: dict[str, tuple[int, int]],
                 out: tuple[str, int, list[int]], inits: list | None = None) -> Path:
    from onnx import helper

    graph = helper.make_graph(nodes, "g", [
        helper.make_tensor_value_info(n, TensorProto.BOOL if n == "cond" else F, list(s))
        for n, s in inputs.items()], [helper.make_tensor_value_info(*out)], inits or [])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _feeds(path: Path) -> dict[str, np.ndarray]:
    model = onnx.load(str(path))
    feeds = {}
    for i in model.graph.input:
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        feeds[i.name] = R.random(shape) < 0.5 if i.name == "cond" else \
            R.standard_normal(shape).astype(np.float32)
    return feeds


def _check_float_and_int8(tmp_path: Path, path: Path) -> None:
    feeds = _feeds(path)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    got = evaluate_func(import_stage(path).regions[0].ops[0], list(feeds.values()))
    np.testing.assert_allclose(np.asarray(got[0], np.float32), want[0], rtol=1e-6)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["bit_exact"] is True


def test_where_with_a_computed_condition_is_bit_exact(tmp_path: Path) -> None:
    """A leaky activation written as Where(x > 0.3, x, 0.1 x): compare, then select."""
    from onnx import helper, numpy_helper

    consts = [numpy_helper.from_array(np.array(0.3, np.float32), "t"),
              numpy_helper.from_array(np.array(0.1, np.float32), "a")]
    nodes = [helper.make_node("Greater", ["x", "t"], ["g"], name="gt"),
             helper.make_node("Mul", ["x", "a"], ["m"], name="mul"),
             helper.make_node("Where", ["g", "x", "m"], ["y"], name="where")]
    path = _where_graph(tmp_path, nodes, {"x": (3, 8)}, ("y", F, [3, 8]), consts)
    _check_float_and_int8(tmp_path, path)


def test_where_with_a_run_time_bool_input_broadcasts(tmp_path: Path) -> None:
    from onnx import helper

    nodes = [helper.make_node("Where", ["cond", "x", "z"], ["y"], name="where")]
    path = _where_graph(tmp_path, nodes, {"cond": (1, 4), "x": (3, 4), "z": (3, 1)},
                        ("y", F, [3, 4]))
    _check_float_and_int8(tmp_path, path)


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
def test_comparison_of_two_tensors_is_bit_exact(tmp_path: Path, op: str) -> None:
    from onnx import helper

    nodes = [helper.make_node(op, ["x", "z"], ["y"], name="cmp")]
    path = _where_graph(tmp_path, nodes, {"x": (2, 6), "z": (1, 6)},
                        ("y", TensorProto.BOOL, [2, 6]))
    _check_float_and_int8(tmp_path, path)


def test_logic_of_comparisons_selects_bit_exact(tmp_path: Path) -> None:
    """Where(Not(x < 0) And (x < 1) Xor (x > z), x, z) and Or in a graph output."""
    from onnx import helper, numpy_helper

    consts = [numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
              numpy_helper.from_array(np.array(1.0, np.float32), "one")]
    nodes = [helper.make_node("Less", ["x", "zero"], ["neg"]),
             helper.make_node("Not", ["neg"], ["pos"]),
             helper.make_node("Less", ["x", "one"], ["small"]),
             helper.make_node("And", ["pos", "small"], ["unit"]),
             helper.make_node("Greater", ["x", "z"], ["gz"]),
             helper.make_node("Xor", ["unit", "gz"], ["c"]),
             helper.make_node("Or", ["c", "neg"], ["o"]),
             helper.make_node("Where", ["c", "x", "z"], ["y"], name="where")]
    graph = helper.make_graph(nodes, "g", [
        helper.make_tensor_value_info("x", F, [3, 8]), helper.make_tensor_value_info(
            "z", F, [1, 8])], [helper.make_tensor_value_info("y", F, [3, 8]),
                               helper.make_tensor_value_info("o", TensorProto.BOOL, [3, 8])],
        consts)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    feeds = _feeds(path)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    got = evaluate_func(import_stage(path).regions[0].ops[0], list(feeds.values()))
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["bit_exact"] is True
