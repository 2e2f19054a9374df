"""Ops the coverage benchmark's models needed: torch's decomposed LocalResponseNorm fused
to one LRN, and Gather with run-time indices (an embedding); each bit-exact on the
simulator, the LRN also equal to onnxruntime in fp32."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from dlac.flow.stages import import_stage, prepare_stage
from dlac.ir.semantics.graph import evaluate_func
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper, numpy_helper


def _decomposed_lrn(size: int, pads: tuple[int, int]) -> onnx.ModelProto:
    """x / (k + alpha * avg_pool3d(pad(x^2 on a [N, 1, C, H, W] view)))^beta, as torch."""
    shape = [1, 6, 4, 4]
    c = lambda name, arr: numpy_helper.from_array(np.asarray(arr), name)  # noqa: E731
    nodes = [helper.make_node("Mul", ["x", "x"], ["sq"]),
             helper.make_node("Reshape", ["sq", "s5"], ["v5"]),
             helper.make_node("Pad", ["v5", "pads"], ["p5"], mode="constant"),
             helper.make_node("AveragePool", ["p5"], ["a5"], kernel_shape=[size, 1, 1],
                              count_include_pad=1),
             helper.make_node("Reshape", ["a5", "s4"], ["a4"]),
             helper.make_node("Mul", ["a4", "alpha"], ["m"]),
             helper.make_node("Add", ["m", "k"], ["b"]),
             helper.make_node("Pow", ["b", "beta"], ["d"]),
             helper.make_node("Div", ["x", "d"], ["y"])]
    inits = [c("s5", np.array([1, 1, 6, 4, 4], np.int64)),
             c("pads", np.array([0, 0, pads[0], 0, 0, 0, 0, pads[1], 0, 0], np.int64)),
             c("s4", np.array(shape, np.int64)), c("alpha", np.array(0.5, np.float32)),
             c("k", np.array(2.0, np.float32)), c("beta", np.array(0.75, np.float32))]
    graph = helper.make_graph(nodes, "lrn",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("size,pads,fused", [(5, (2, 2), True), (3, (1, 1), True),
                                             (4, (2, 1), False)])
def test_decomposed_lrn_is_fused(tmp_path: Path, size: int, pads: tuple[int, int],
                                 fused: bool) -> None:
    """torch pads (size//2, (size-1)//2); only where that is ONNX's LRN window is it one op."""
    path = tmp_path / "m.onnx"
    onnx.save(_decomposed_lrn(size, pads), path)
    module = prepare_stage(import_stage(path))
    names = [op.name for op in module.walk()]
    assert ("graph.lrn" in names) is fused and ("graph.average_pool" in names) is not fused
    if not fused:
        return
    x = np.random.default_rng(0).standard_normal((1, 6, 4, 4)).astype(np.float32) * 3
    want = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    got = evaluate_func(module.regions[0].ops[0], [x], 17)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0


def test_gather_with_runtime_indices_is_bit_exact(tmp_path: Path) -> None:
    table = np.random.default_rng(1).standard_normal((10, 8)).astype(np.float32)
    node = helper.make_node("Gather", ["table", "ids"], ["y"], axis=0)
    graph = helper.make_graph([node], "emb",
                              [helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5, 8])],
                              [numpy_helper.from_array(table, "table")])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["bit_exact"] is True and report["sqnr_db"] > 30
