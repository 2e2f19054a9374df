"""`dlac MODEL --check`: every problem of a model on its own line, exit 1 if any."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper, numpy_helper


def _model(nodes: list, x_shape: list, inits: dict | None = None, opset: int = 17
           ) -> onnx.ModelProto:
    """Declared output shapes are ignored by dlac; the checker only wants one."""
    graph = helper.make_graph(
        nodes, "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["any"])],
        [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                   helper.make_opsetid("com.acme", 1)])


def _run(tmp_path: Path, model: onnx.ModelProto, capsys: pytest.CaptureFixture, *extra: str
         ) -> tuple[int, list[str]]:
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    code = main([str(path), "--check", *extra])
    return code, capsys.readouterr().out.splitlines()


def test_every_unsupported_op_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r"),
             helper.make_node("Fancy", ["a"], ["b"], name="f1", domain="com.acme"),
             helper.make_node("Hardmax", ["b"], ["c"], name="hm"),
             helper.make_node("Fancy", ["c"], ["y"], name="f2", domain="com.acme")]
    code, lines = _run(tmp_path, _model(nodes, [1, 4]), capsys)
    assert code == 1
    assert "dlac: check: node 'f1' (com.acme.Fancy): unsupported ONNX op" in lines
    assert "dlac: check: node 'hm' (Hardmax): unsupported ONNX op" in lines
    assert "dlac: check: node 'f2' (com.acme.Fancy): unsupported ONNX op" in lines
    assert lines[-1] == "dlac: check: 3 problem(s) in " + str(tmp_path / "m.onnx")


def test_dynamic_inputs_are_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    code, lines = _run(tmp_path, _model(nodes, ["N", 4]), capsys)
    assert code == 1 and "input 'x': dynamic dim(s) 0; give --input-shape x=D0x..." in lines[0]
    code, lines = _run(tmp_path, _model(nodes, ["N", 4]), capsys, "--input-shape", "x=2x4")
    assert code == 0 and lines[-1].endswith("compiles")


def test_every_op_without_an_int8_form_is_listed(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["a"], name="fc"),
             helper.make_node("Pad", ["a", "pads", "one"], ["b"], name="pad1"),
             helper.make_node("Relu", ["b"], ["c"], name="relu"),
             helper.make_node("Pad", ["c", "pads", "one"], ["y"], name="pad2")]
    inits = {"w": rng.standard_normal((8, 8)).astype(np.float32),
             "pads": np.array([0, 0, 0, 1, 0, 0, 0, 1], np.int64),
             "one": np.array(1.0, np.float32)}
    code, lines = _run(tmp_path, _model(nodes, [1, 1, 4, 8], inits), capsys)
    assert code == 1
    named = [line for line in lines if "failed on node" in line]
    assert len(named) == 2 and "'pad1' (graph.pad)" in named[0] and "'pad2'" in named[1]


def test_a_supported_model_passes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], name="conv", strides=[2, 1]),
             helper.make_node("LRN", ["a"], ["y"], name="lrn", size=3)]
    code, lines = _run(tmp_path, _model(nodes, [1, 3, 8, 8],
                                        {"w": rng.standard_normal((4, 3, 3, 3))
                                         .astype(np.float32)}), capsys)
    assert code == 0 and lines == [f"dlac: check: {tmp_path / 'm.onnx'} compiles"]


def test_lrn_is_bit_exact_in_c(tmp_path: Path) -> None:
    nodes = [helper.make_node("LRN", ["x"], ["y"], name="lrn", size=5, alpha=1e-2, beta=0.75,
                              bias=2.0)]
    path = tmp_path / "lrn.onnx"
    onnx.save(_model(nodes, [1, 7, 4, 5]), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["bit_exact"] is True


def test_a_data_dependent_shape_is_named_where_it_starts(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    nodes = [helper.make_node("Cast", ["x"], ["s"], name="cast", to=TensorProto.INT64),
             helper.make_node("ConstantOfShape", ["s"], ["c"], name="fill"),
             helper.make_node("Relu", ["c"], ["y"], name="relu")]
    code, lines = _run(tmp_path, _model(nodes, [2]), capsys)
    assert code == 1
    assert lines[0] == "dlac: check: node 'fill' (ConstantOfShape): output 'c' has no static shape"
    assert len(lines) == 2
