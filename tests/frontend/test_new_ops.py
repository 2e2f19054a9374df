"""Ops added for real models: fp32 meaning equals onnxruntime's, and each compiles to C
that is bit-exact with the quantized reference on the simulator."""

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
from onnx_builders import single_node_model

R = np.random.default_rng(7)


def i64(*values: int) -> np.ndarray:
    return np.array(values, np.int64)


# name: (op type, float inputs, attributes, initializers, opset, positive inputs only)
CASES = {
    "reciprocal": ("Reciprocal", {"x": (2, 6)}, None, None, 17, True),
    "log": ("Log", {"x": (2, 6)}, None, None, 17, True),
    "abs": ("Abs", {"x": (2, 6)}, None, None, 17, False),
    "softplus": ("Softplus", {"x": (2, 6)}, None, None, 17, False),
    "mish": ("Mish", {"x": (2, 6)}, None, None, 18, False),
    "elu": ("Elu", {"x": (2, 6)}, {"alpha": 0.7}, None, 17, False),
    "selu": ("Selu", {"x": (2, 6)}, None, None, 17, False),
    "celu": ("Celu", {"x": (2, 6)}, {"alpha": 1.5}, None, 17, False),
    "thresholded_relu": ("ThresholdedRelu", {"x": (2, 6)}, {"alpha": 0.3}, None, 17, False),
    "hard_swish": ("HardSwish", {"x": (2, 6)}, None, None, 17, False),
    "erf": ("Erf", {"x": (2, 6)}, None, None, 17, False),
    "sqrt": ("Sqrt", {"x": (2, 6)}, None, None, 17, True),
    "exp": ("Exp", {"x": (2, 6)}, None, None, 17, False),
    "sin": ("Sin", {"x": (2, 6)}, None, None, 17, False),
    "floor": ("Floor", {"x": (2, 6)}, None, None, 17, False),
    "shrink": ("Shrink", {"x": (2, 6)}, {"lambd": 0.4, "bias": 0.1}, None, 17, False),
    "pow_const": ("Pow", {"x": (2, 6)}, None, {"e": np.float32(3.0)}, 17, False),
    "tile": ("Tile", {"x": (2, 3)}, None, {"r": i64(2, 3)}, 17, False),
    "expand": ("Expand", {"x": (3, 1)}, None, {"s": i64(2, 3, 4)}, 17, False),
    "gelu": ("Gelu", {"x": (2, 6)}, None, None, 20, False),
    "gelu_tanh": ("Gelu", {"x": (2, 6)}, {"approximate": "tanh"}, None, 20, False),
    "depth_to_space": ("DepthToSpace", {"x": (1, 8, 2, 3)}, {"blocksize": 2}, None, 17,
                       False),
    "depth_to_space_crd": ("DepthToSpace", {"x": (1, 8, 2, 3)},
                           {"blocksize": 2, "mode": "CRD"}, None, 17, False),
    "space_to_depth": ("SpaceToDepth", {"x": (1, 2, 4, 6)}, {"blocksize": 2}, None, 17,
                       False),
    "log_softmax": ("LogSoftmax", {"x": (2, 6)}, None, None, 17, False),
    "log_softmax_axis1": ("LogSoftmax", {"x": (2, 5, 3)}, {"axis": 1}, None, 17, False),
    "log_softmax_opset11": ("LogSoftmax", {"x": (2, 5, 3)}, {"axis": 1}, None, 11, False),
    "gather_elements": ("GatherElements", {"x": (3, 4)}, {"axis": 1},
                        {"i": np.array([[0, 3], [1, -1], [2, 2]], np.int64)}, 17, False),
}


def _model(case: str) -> onnx.ModelProto:
    op, ins, attrs, inits, opset, _ = CASES[case]
    return single_node_model(op, ins, None, attrs, inits, opset)


@pytest.mark.parametrize("case", sorted(CASES))
def test_float_meaning_matches_onnxruntime(tmp_path: Path, case: str) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(_model(case), path)
    x = R.standard_normal(CASES[case][1]["x"]).astype(np.float32)
    if CASES[case][5]:
        x = np.abs(x) + 0.1
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    got = evaluate_func(import_stage(path).regions[0].ops[0], [x], CASES[case][4])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", sorted(CASES))
def test_compiles_bit_exact(tmp_path: Path, case: str) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(_model(case), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["bit_exact"] is True


@pytest.mark.parametrize("axis,opset", [(0, 13), (1, 13), (2, 13), (1, 11)])
def test_softmax_on_any_axis_is_bit_exact(tmp_path: Path, axis: int, opset: int) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(single_node_model("Softmax", {"x": (2, 3, 5)}, None, {"axis": axis}, None,
                                opset), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0


def test_softmax_over_conv_channels_is_bit_exact(tmp_path: Path) -> None:
    """The conv writes NHWC; softmax over channels reads it row-major after a relayout."""
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(R.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Softmax", ["c"], ["y"], name="sm", axis=1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", onnx.TensorProto.FLOAT, [1, 3, 6, 6])], [helper.make_tensor_value_info(
            "y", onnx.TensorProto.FLOAT, [1, 4, 4, 4])], [w])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0


@pytest.mark.parametrize("b_shape,const", [((2, 3, 4), False), ((3, 1), False),
                                           ((4,), True)])
def test_division_by_a_tensor_is_bit_exact(tmp_path: Path, b_shape: tuple, const: bool) -> None:
    inits = {"b": R.standard_normal(b_shape).astype(np.float32)} if const else None
    ins = {"x": (2, 3, 4)} if const else {"x": (2, 3, 4), "b": b_shape}
    path = tmp_path / "m.onnx"
    onnx.save(single_node_model("Div", ins, None, None, inits, 17), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0


def test_qdiv_rounds_once_per_float_op_and_saturates_division_by_zero() -> None:
    from dlac.ir.semantics.arith import qdiv

    a = np.array([10, -10, 0, 7, -128], np.int8)
    b = np.array([0, 0, 0, 2, 1], np.int8)
    np.testing.assert_array_equal(qdiv(a, b, 1.0), [127, -128, 0, 4, -128])


REDUCES = {"sum": ("ReduceSum", 13, True), "max": ("ReduceMax", 13, False),
           "min": ("ReduceMin", 18, True), "l1": ("ReduceL1", 13, False),
           "l2": ("ReduceL2", 18, True), "sum_square": ("ReduceSumSquare", 13, False),
           "mean": ("ReduceMean", 18, True), "log_sum_exp": ("ReduceLogSumExp", 18, True),
           "log_sum_exp_attr": ("ReduceLogSumExp", 13, False),
           "prod": ("ReduceProd", 18, True), "prod_attr": ("ReduceProd", 13, False)}


@pytest.mark.parametrize("name", sorted(REDUCES))
def test_reduce_means_what_onnx_says_and_is_bit_exact(tmp_path: Path, name: str) -> None:
    op, opset, axes_input = REDUCES[name]
    if axes_input or op == "ReduceSum":
        model = single_node_model(op, {"x": (2, 3, 4, 5)}, None, {"keepdims": 0},
                                  {"axes": i64(1, -1)}, max(opset, 13))
    else:
        model = single_node_model(op, {"x": (2, 3, 4, 5)}, None, {"axes": [2]}, None, opset)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    x = R.standard_normal((2, 3, 4, 5)).astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    got = evaluate_func(import_stage(path).regions[0].ops[0], [x], opset)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0


def test_where_with_a_constant_condition_is_bit_exact(tmp_path: Path) -> None:
    from onnx import helper, numpy_helper

    cond = numpy_helper.from_array(R.random((3, 4)) < 0.5, "c")
    node = helper.make_node("Where", ["c", "x", "z"], ["y"], name="where")
    graph = helper.make_graph([node], "g", [
        helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 3, 4]),
        helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, 3, 4])], [cond])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    feeds = {"x": R.standard_normal((2, 3, 4)).astype(np.float32),
             "z": R.standard_normal(4).astype(np.float32)}
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, feeds)[0]
    got = evaluate_func(import_stage(path).regions[0].ops[0], [feeds["x"], feeds["z"]])[0]
    np.testing.assert_array_equal(got, want)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0


@pytest.mark.parametrize("eq,sa,sb", [("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
                                      ("ij,kj->ik", (3, 4), (5, 4)),
                                      ("bhqd,bhkd->bhqk", (1, 2, 3, 4), (1, 2, 5, 4))])
def test_matmul_like_einsum_is_bit_exact(tmp_path: Path, eq: str, sa: tuple, sb: tuple
                                         ) -> None:
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(R.standard_normal(sb).astype(np.float32), "w")
    node = helper.make_node("Einsum", ["x", "w"], ["y"], name="einsum", equation=eq)
    graph = helper.make_graph([node], "g", [
        helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(sa))],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, list(
            np.einsum(eq, np.zeros(sa), np.zeros(sb)).shape))], [w])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    x = R.standard_normal(sa).astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    got = evaluate_func(import_stage(path).regions[0].ops[0], [x])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0


def test_check_accepts_a_matmul_like_einsum(tmp_path: Path) -> None:
    from onnx import helper

    node = helper.make_node("Einsum", ["x", "z"], ["y"], name="einsum", equation="ij,jk->ik")
    graph = helper.make_graph([node], "g", [
        helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [3, 4]),
        helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [4, 5])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [3, 5])])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    assert main([str(path), "--check"]) == 0
