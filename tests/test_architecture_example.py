"""docs/architecture.md's walkthrough is true: its code lines are in the files it names,
and the op it adds (Softsign) compiles from ONNX to C that is bit-exact on the simulator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from dlac.flow.stages import import_stage
from dlac.ir.semantics.graph import evaluate_func
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
BLOCK = re.compile(r"```python file=(\S+)\n(.*?)```", re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    return BLOCK.findall(DOC.read_text())


def test_the_walkthrough_names_three_files() -> None:
    assert [f for f, _ in _blocks()] == ["ir/dialects/graph.py", "ir/semantics/graph.py",
                                         "passes/quantize.py"]


@pytest.mark.parametrize("path,code", _blocks())
def test_walkthrough_lines_are_in_the_code(path: str, code: str) -> None:
    text = (ROOT / path).read_text()
    for line in code.splitlines():
        assert line in text.splitlines(), f"{path} has no line {line!r}"


def _softsign_model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(0, 0.3, (32, 16)).astype(np.float32), "W")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"], name="fc"),
             helper.make_node("Softsign", ["h"], ["y"], name="softsign")]
    graph = helper.make_graph(nodes, "softsign",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 16])],
                              [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def test_the_new_op_means_what_onnx_says(tmp_path: Path) -> None:
    path = tmp_path / "softsign.onnx"
    onnx.save(_softsign_model(), path)
    x = np.random.default_rng(1).standard_normal((4, 32)).astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    func = import_stage(path).regions[0].ops[0]
    np.testing.assert_allclose(evaluate_func(func, [x])[0], want, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_the_new_op_compiles_bit_exact(tmp_path: Path) -> None:
    path = tmp_path / "softsign.onnx"
    onnx.save(_softsign_model(), path)
    out = tmp_path / "out"
    assert main([str(path), "-o", str(out), "--validate"]) == 0
    assert json.loads((out / "report.json").read_text())["bit_exact"] is True
