"""fuse-layernorm: layer norm written as separate ops, and InstanceNormalization, become
the integer layer norm; same fp32 meaning as onnxruntime, bit-exact C."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from dlac.flow.stages import import_stage, prepare_stage
from dlac.ir.semantics.graph import evaluate_func
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "frontend"))
from onnx_builders import single_node_model  # noqa: E402

R = np.random.default_rng(3)


def _decomposed(opset: int, square: str) -> onnx.ModelProto:
    """What exporters write for a hand-rolled LayerNorm over the last axis (H = 16)."""
    c = lambda name, v: numpy_helper.from_array(np.asarray(v), name)  # noqa: E731
    axes = {"axes": [-1]} if opset < 18 else {}
    mean_in = (lambda t: [t]) if opset < 18 else (lambda t: [t, "ax"])
    sq = helper.make_node("Pow", ["d", "two"], ["p"], name="pow") if square == "pow" else \
        helper.make_node("Mul", ["d", "d"], ["p"], name="sq")
    nodes = [helper.make_node("ReduceMean", mean_in("x"), ["m"], name="mean", **axes),
             helper.make_node("Sub", ["x", "m"], ["d"], name="sub"), sq,
             helper.make_node("ReduceMean", mean_in("p"), ["v"], name="var", **axes),
             helper.make_node("Add", ["v", "eps"], ["e"], name="add_eps"),
             helper.make_node("Sqrt", ["e"], ["r"], name="sqrt"),
             helper.make_node("Div", ["d", "r"], ["n"], name="div"),
             helper.make_node("Mul", ["n", "gamma"], ["g"], name="gamma_mul"),
             helper.make_node("Add", ["g", "beta"], ["y"], name="beta_add")]
    inits = [c("two", np.float32(2)), c("eps", np.float32(1e-5)),
             c("gamma", R.normal(1, 0.2, 16).astype(np.float32)),
             c("beta", R.normal(0, 0.2, 16).astype(np.float32)), c("ax", np.array([-1]))]
    graph = helper.make_graph(nodes, "ln", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [2, 5, 16])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [2, 5, 16])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _instance_norm() -> onnx.ModelProto:
    return single_node_model("InstanceNormalization", {"x": (1, 3, 4, 5)}, None,
                             {"epsilon": 1e-4}, {"s": R.normal(1, .3, 3).astype(np.float32),
                                                 "b": R.normal(0, .3, 3).astype(np.float32)})


MODELS = {"pow_13": lambda: _decomposed(13, "pow"), "mul_18": lambda: _decomposed(18, "mul"),
          "instance_norm": _instance_norm,
          "layernorm_axis1": lambda: single_node_model(
              "LayerNormalization", {"x": (2, 3, 4)}, None, {"axis": 1},
              {"g": R.normal(1, .2, (3, 4)).astype(np.float32),
               "b": R.normal(0, .2, (3, 4)).astype(np.float32)})}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fused_to_one_layer_norm_with_the_same_meaning(tmp_path: Path, name: str) -> None:
    path = tmp_path / "m.onnx"
    model = MODELS[name]()
    onnx.save(model, path)
    module = prepare_stage(import_stage(path))
    func = module.regions[0].ops[0]
    kinds = [op.name for op in func.body.block.ops if op.name != "graph.constant"]
    assert kinds.count("graph.layer_norm") == 1
    assert not {"graph.sqrt", "graph.div", "graph.reduce_mean", "graph.instance_norm"} & \
        set(kinds)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    x = R.standard_normal(shape).astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    opset = model.opset_import[0].version
    np.testing.assert_allclose(evaluate_func(func, [x], opset)[0], want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fused_layer_norm_is_bit_exact(tmp_path: Path, name: str) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(MODELS[name](), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
