"""Tiny hand-built ONNX graphs for frontend tests (onnx.helper only, seeded data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tensor(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array), name)


def single_node_model(op_type: str, inputs: dict[str, tuple[int, ...]],
                      output_shape: tuple[int, ...] | None, attrs: dict | None = None,
                      inits: dict[str, np.ndarray] | None = None, opset: int = 17,
                      input_order: list[str] | None = None, n_outputs: int = 1,
                      domain: str = "") -> onnx.ModelProto:
    """One node whose float inputs are graph inputs and whose `inits` are initializers."""
    inits = inits or {}
    order = input_order or [*inputs, *inits]
    graph_inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s))
                    for n, s in inputs.items()]
    outs = [f"y{i}" for i in range(n_outputs)]
    node = helper.make_node(op_type, order, outs, name=f"{op_type.lower()}_node",
                            domain=domain, **(attrs or {}))
    graph_outputs = [helper.make_tensor_value_info(
        o, TensorProto.FLOAT, None if output_shape is None else list(output_shape))
        for o in outs]
    graph = helper.make_graph([node], "t", graph_inputs, graph_outputs,
                              [tensor(k, v) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if output_shape is None:  # let ONNX fill in the output shapes the checker wants
        inferred = onnx.shape_inference.infer_shapes(model)
        model.graph.ClearField("output")
        model.graph.output.extend(inferred.graph.output)
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def rng_inputs(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    init = {t.name for t in model.graph.initializer}
    out = {}
    for i in model.graph.input:
        if i.name in init:
            continue
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        out[i.name] = rng.standard_normal(shape).astype(np.float32)
    return out


def conv_chain_model(seed: int = 0) -> onnx.ModelProto:
    """x -> Conv(3x3, bias) -> Relu -> Conv(1x1) -> Add(residual) -> GAP -> Flatten -> Gemm."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    b1 = (rng.standard_normal(8) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((8, 8, 1, 1)) * 0.3).astype(np.float32)
    fc = (rng.standard_normal((4, 8)) * 0.3).astype(np.float32)
    fcb = (rng.standard_normal(4) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2"),
        helper.make_node("Add", ["c2", "r1"], ["a"], name="add"),
        helper.make_node("GlobalAveragePool", ["a"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [tensor("w1", w1), tensor("b1", b1), tensor("w2", w2), tensor("fc", fc),
         tensor("fcb", fcb)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def typed_node_model(op_type: str, inputs: dict[str, tuple[int, ...]],
                     outputs: dict[str, int], attrs: dict | None = None,
                     inits: dict[str, np.ndarray] | None = None, opset: int = 17
                     ) -> onnx.ModelProto:
    """One node with float graph inputs, `inits` as initializers and outputs of the given
    element types (TensorProto codes), their shapes filled in by ONNX shape inference."""
    inits = inits or {}
    node = helper.make_node(op_type, [*inputs, *inits], list(outputs),
                            name=f"{op_type.lower()}_node", **(attrs or {}))
    graph = helper.make_graph(
        [node], "t", [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s))
                      for n, s in inputs.items()],
        [helper.make_tensor_value_info(o, t, None) for o, t in outputs.items()],
        [tensor(k, v) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    inferred = onnx.shape_inference.infer_shapes(model)
    model.graph.ClearField("output")
    model.graph.output.extend(inferred.graph.output)
    return model
