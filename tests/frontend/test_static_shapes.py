"""Dynamic input dims, --input-shape, and shape computations folded to constants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from dlac.flow.stages import import_stage, prepare_stage
from dlac.frontend.errors import FrontendError
from dlac.ir.semantics.graph import evaluate_func
from onnx import TensorProto, helper, numpy_helper


def _dynamic_model(batch: object = "N") -> onnx.ModelProto:
    """Conv, then Shape->Gather->Concat->Reshape, Range over a computed length, Expand."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32), "w")
    c = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["c"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="batch", axis=0),
        helper.make_node("Unsqueeze", ["n", "zero1"], ["n1"], name="n1"),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], name="target", axis=0),
        helper.make_node("Reshape", ["c", "target"], ["flat"], name="reshape"),
        helper.make_node("Gather", ["s", "one"], ["ch"], name="channels", axis=0),
        helper.make_node("Range", ["zero", "ch", "one"], ["r"], name="range"),
        helper.make_node("Cast", ["r"], ["rf"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Concat", ["n1", "ch1"], ["eshape"], name="eshape", axis=0),
        helper.make_node("Unsqueeze", ["ch", "zero1"], ["ch1"], name="ch1"),
        helper.make_node("Expand", ["rf", "eshape"], ["e"], name="expand"),
        helper.make_node("ReduceMean", ["flat"], ["m"], name="mean", axes=[1]),
        helper.make_node("Add", ["e", "m"], ["y"], name="add"),
    ]
    nodes.insert(9, nodes.pop(10))  # ch1 before eshape (topological order)
    graph = helper.make_graph(
        nodes, "dyn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4])],
        [w, c("zero", 0), c("one", 1), c("zero1", [0]), c("minus1", [-1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    return model


def test_input_shape_fixes_symbolic_dims_and_folds_shape_math(tmp_path: Path) -> None:
    path = tmp_path / "dyn.onnx"
    onnx.save(_dynamic_model(), path)
    module = prepare_stage(import_stage(path, {"x": (2, 3, 8, 8)}))
    func = module.regions[0].ops[0]
    names = {op.name for op in func.body.block.ops}
    assert not names & {"graph.shape", "graph.range", "graph.gather", "graph.concat"}
    assert func.body.block.ops[-1].operands[0].type.shape == (2, 4)
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    np.testing.assert_allclose(evaluate_func(func, [x], 13)[0], want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch", ["N", -1, None])
def test_dynamic_dim_message_names_each_dynamic_dim(tmp_path: Path, batch: object) -> None:
    path = tmp_path / "dyn.onnx"
    model = _dynamic_model("N" if batch is None else batch)
    if batch is None:
        model.graph.input[0].type.tensor_type.shape.dim[0].Clear()
    onnx.save(model, path)
    with pytest.raises(FrontendError) as err:
        import_stage(path)
    text = str(err.value)
    shown = {"N": "'N'", -1: "'?'", None: "'?'"}[batch]
    assert f"[{shown}, 3, 8, 8]" in text and "dynamic dim(s) 0" in text
    assert "--input-shape x=" in text


def test_minus_one_dim_accepts_input_shape(tmp_path: Path) -> None:
    path = tmp_path / "dyn.onnx"
    onnx.save(_dynamic_model(-1), path)
    module = import_stage(path, {"x": (1, 3, 8, 8)})
    assert module.regions[0].ops[0].args[0].type.shape == (1, 3, 8, 8)


def test_static_dim_conflict_still_rejected(tmp_path: Path) -> None:
    path = tmp_path / "dyn.onnx"
    onnx.save(_dynamic_model(), path)
    with pytest.raises(FrontendError, match="conflicts"):
        import_stage(path, {"x": (1, 4, 8, 8)})


def _if_on_shape_model() -> onnx.ModelProto:
    """y = x * 2 if x.shape[1] == 3 else x + 1, then Gather(y, 0) on axis 1 (a scalar
    index): the shape check torch exports for LocalResponseNorm, ViT's class token."""
    then_g = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)],
                               [numpy_helper.from_array(np.array(2, np.float32), "two")])
    else_g = helper.make_graph([helper.make_node("Add", ["x", "one"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)],
                               [numpy_helper.from_array(np.array(1, np.float32), "one")])
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "i1"], ["c"], axis=0),
             helper.make_node("Equal", ["c", "three"], ["cond"]),
             helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g),
             helper.make_node("Gather", ["y", "i0"], ["z"], axis=1)]
    inits = [numpy_helper.from_array(np.array(1, np.int64), "i1"),
             numpy_helper.from_array(np.array(3, np.int64), "three"),
             numpy_helper.from_array(np.array(0, np.int64), "i0")]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 4])],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_if_with_a_folded_condition_is_inlined_and_scalars_stay_scalars(tmp_path: Path
                                                                       ) -> None:
    from dlac.tools.dlac_main import main

    path = tmp_path / "m.onnx"
    onnx.save(_if_on_shape_model(), path)
    module = import_stage(path)
    assert not [op for op in module.walk() if op.name == "graph.if"]
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    want = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    got = evaluate_func(module.regions[0].ops[0], [x], 17)[0]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
