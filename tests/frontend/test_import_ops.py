"""Per-op import: each ONNX node becomes one graph op; its float semantics match onnxruntime."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from dlac.frontend.importer import import_onnx
from dlac.ir.parser import parse_module
from dlac.ir.printer import print_op
from dlac.ir.semantics.graph import evaluate_func
from dlac.ir.verifier import verify
from onnx_builders import rng_inputs, single_node_model

R = np.random.default_rng(7)


def w(*shape: int) -> np.ndarray:
    return (R.standard_normal(shape) * 0.5).astype(np.float32)


def i64(*values: int) -> np.ndarray:
    return np.array(values, np.int64)


CASES = {
    "conv_stride_pad_dil": ("Conv", {"x": (1, 4, 9, 9)}, None,
                            {"strides": [2, 1], "pads": [1, 2, 0, 1], "dilations": [1, 2]},
                            {"w": w(6, 4, 3, 3), "b": w(6)}, 17),
    "conv_groups": ("Conv", {"x": (1, 4, 6, 6)}, None, {"group": 2}, {"w": w(6, 2, 3, 3)}, 17),
    "conv_depthwise": ("Conv", {"x": (1, 4, 6, 6)}, None, {"group": 4, "pads": [1, 1, 1, 1]},
                       {"w": w(4, 1, 3, 3)}, 11),
    "conv_transpose": ("ConvTranspose", {"x": (1, 3, 5, 5)}, None,
                       {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
                       {"w": w(3, 4, 3, 3), "b": w(4)}, 17),
    "gemm": ("Gemm", {"x": (3, 5)}, None, {"transB": 1, "alpha": 0.5, "beta": 2.0},
             {"w": w(4, 5), "c": w(4)}, 13),
    "matmul_2d": ("MatMul", {"x": (3, 5)}, None, None, {"w": w(5, 2)}, 17),
    "matmul_batched": ("MatMul", {"a": (2, 3, 4, 5), "b": (2, 3, 5, 6)}, None, None, None, 17),
    "add_broadcast": ("Add", {"a": (2, 3, 4)}, None, None, {"b": w(3, 1)}, 17),
    "sub": ("Sub", {"a": (2, 3), "b": (2, 3)}, None, None, None, 14),
    "mul_broadcast": ("Mul", {"a": (2, 3, 4)}, None, None, {"b": w(4)}, 17),
    "div": ("Div", {"a": (2, 3)}, None, None, {"b": np.float32(2.5)}, 17),
    "relu": ("Relu", {"x": (2, 5)}, None, None, None, 17),
    "clip_relu6": ("Clip", {"x": (2, 5)}, None, None,
                   {"lo": np.float32(0), "hi": np.float32(6)}, 12),
    "sigmoid": ("Sigmoid", {"x": (2, 5)}, None, None, None, 17),
    "hard_sigmoid": ("HardSigmoid", {"x": (2, 5)}, None, {"alpha": 0.3}, None, 17),
    "tanh": ("Tanh", {"x": (2, 5)}, None, None, None, 17),
    "gelu": ("Gelu", {"x": (2, 5)}, None, None, None, 20),
    "batchnorm": ("BatchNormalization", {"x": (1, 3, 4, 4)}, None, {"epsilon": 1e-3},
                  {"g": w(3), "b": w(3), "m": w(3), "v": np.abs(w(3)) + 0.5}, 15),
    "maxpool": ("MaxPool", {"x": (1, 2, 7, 7)}, None,
                {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, None, 17),
    "maxpool_ceil": ("MaxPool", {"x": (1, 2, 6, 6)}, None,
                     {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, None, 17),
    "avgpool": ("AveragePool", {"x": (1, 2, 7, 7)}, None,
                {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, None, 17),
    "avgpool_incl_pad": ("AveragePool", {"x": (1, 2, 6, 6)}, None,
                         {"kernel_shape": [2, 2], "pads": [1, 1, 0, 0],
                          "count_include_pad": 1}, None, 17),
    "gap": ("GlobalAveragePool", {"x": (1, 3, 5, 5)}, None, None, None, 17),
    "reduce_mean_attr": ("ReduceMean", {"x": (2, 3, 4)}, None, {"axes": [1, 2]}, None, 13),
    "reduce_mean_input": ("ReduceMean", {"x": (2, 3, 4)}, None, {"keepdims": 0},
                          {"axes": i64(-1)}, 18),
    "flatten": ("Flatten", {"x": (2, 3, 4)}, None, {"axis": 2}, None, 17),
    "reshape": ("Reshape", {"x": (2, 3, 4)}, None, None, {"s": i64(0, -1, 2)}, 17),
    "transpose": ("Transpose", {"x": (2, 3, 4)}, None, {"perm": [2, 0, 1]}, None, 17),
    "concat": ("Concat", {"a": (1, 2, 3), "b": (1, 4, 3)}, None, {"axis": 1}, None, 17),
    "slice": ("Slice", {"x": (4, 6)}, None, None,
              {"st": i64(1, -5), "en": i64(4, 100), "ax": i64(0, 1), "sp": i64(2, 2)}, 17),
    "squeeze": ("Squeeze", {"x": (1, 3, 1, 2)}, None, None, {"ax": i64(0, 2)}, 17),
    "unsqueeze": ("Unsqueeze", {"x": (3, 2)}, None, None, {"ax": i64(0, 3)}, 17),
    "unsqueeze_attr": ("Unsqueeze", {"x": (3, 2)}, None, {"axes": [1]}, None, 11),
    "identity": ("Identity", {"x": (3, 2)}, None, None, None, 17),
    "softmax": ("Softmax", {"x": (2, 3, 5)}, None, {"axis": 1}, None, 17),
    "softmax_opset11": ("Softmax", {"x": (2, 3, 5)}, None, {"axis": 1}, None, 11),
    "layernorm": ("LayerNormalization", {"x": (2, 3, 8)}, None, {"epsilon": 1e-5},
                  {"g": w(8), "b": w(8)}, 17),
    "resize_nearest": ("Resize", {"x": (1, 2, 3, 4)}, None, {"mode": "nearest"},
                       {"roi": np.zeros(0, np.float32),
                        "sc": np.array([1, 1, 2, 2], np.float32)}, 17),
    "pad": ("Pad", {"x": (1, 2, 3, 3)}, None, None, {"p": i64(0, 0, 1, 2, 0, 0, 2, 1)}, 17),
    "gather": ("Gather", {"t": (10, 4)}, None, {"axis": 0}, {"i": i64(3, 0, 9)}, 17),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_op_imports_and_matches_onnxruntime(case: str) -> None:
    op_type, ins, out_shape, attrs, inits, opset = CASES[case]
    model = single_node_model(op_type, ins, out_shape, attrs, inits, opset)
    module = import_onnx(model)
    verify(module)
    text = print_op(module)
    assert print_op(parse_module(text)) == text
    graph_ops = [op.name for op in module.walk() if op.name.startswith("graph.")
                 and op.name not in ("graph.constant", "graph.none")]
    assert len(graph_ops) == 1
    feeds = rng_inputs(model)
    func = module.regions[0].ops[0]
    got = evaluate_func(func, [feeds[a.name_hint] for a in func.args], opset)[0]
    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_split_has_one_result_per_output() -> None:
    model = single_node_model("Split", {"x": (2, 6)}, None, {"axis": 1},
                              {"s": i64(2, 4)}, 17, n_outputs=2)
    module = import_onnx(model)
    split = next(op for op in module.walk() if op.name == "graph.split")
    assert [r.type.shape for r in split.results] == [(2, 2), (2, 4)]
    feeds = rng_inputs(model)
    func = module.regions[0].ops[0]
    got = evaluate_func(func, [feeds["x"]], 17)
    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)
    for g, e in zip(got, want, strict=False):
        np.testing.assert_array_equal(g, e)


def test_attributes_keep_onnx_names_and_locations_name_nodes() -> None:
    model = single_node_model("Conv", {"x": (1, 2, 5, 5)}, None,
                              {"strides": [2, 2], "pads": [1, 1, 1, 1]}, {"w": w(3, 2, 3, 3)})
    module = import_onnx(model)
    conv = next(op for op in module.walk() if op.name == "graph.conv")
    assert conv.attr("strides") == (2, 2) and conv.attr("pads") == (1, 1, 1, 1)
    assert conv.loc.prefix() == "conv_node"
    assert module.attr("onnx_opset") == 17
    assert conv.operands[1].name_hint == "w"


def test_optional_middle_input_becomes_graph_none() -> None:
    model = single_node_model("Clip", {"x": (2, 3)}, None, None, {"hi": np.float32(0.5)},
                              input_order=["x", "", "hi"])
    module = import_onnx(model)
    assert any(op.name == "graph.none" for op in module.walk())
    text = print_op(module)
    assert print_op(parse_module(text)) == text
