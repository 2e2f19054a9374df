"""Small ONNX models built in-test, and the compile flow up to a validated C program."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).parent))

HOSTILE = 'x*/ int main(){return 1;} /*"\n\\'


def tiny_cnn(names: dict[str, str] | None = None, seed: int = 0) -> onnx.ModelProto:
    """conv3x3(pad 1)+relu -> maxpool 2 -> residual-free flatten -> fc, on a 1x3x8x8 input."""
    n = {k: k for k in ("x", "W", "B", "c", "r", "p", "f", "W2", "B2", "y", "conv1", "fc")}
    n.update(names or {})
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(rng.normal(0, 0.2, (8, 3, 3, 3)).astype(np.float32), n["W"]),
             numpy_helper.from_array(rng.normal(0, 0.1, (8,)).astype(np.float32), n["B"]),
             numpy_helper.from_array(rng.normal(0, 0.2, (10, 128)).astype(np.float32), n["W2"]),
             numpy_helper.from_array(rng.normal(0, 0.1, (10,)).astype(np.float32), n["B2"])]
    nodes = [helper.make_node("Conv", [n["x"], n["W"], n["B"]], [n["c"]], pads=[1, 1, 1, 1],
                              name=n["conv1"]),
             helper.make_node("Relu", [n["c"]], [n["r"]]),
             helper.make_node("MaxPool", [n["r"]], [n["p"]], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", [n["p"]], [n["f"]]),
             helper.make_node("Gemm", [n["f"], n["W2"], n["B2"]], [n["y"]], transB=1,
                              name=n["fc"])]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info(n["x"], TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info(n["y"], TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def residual_net(seed: int = 0) -> onnx.ModelProto:
    """Two 3x3 convs with a residual add, global average pool and softmax."""
    rng = np.random.default_rng(seed)
    w = lambda *s: rng.normal(0, 0.2, s).astype(np.float32)  # noqa: E731
    inits = [numpy_helper.from_array(w(16, 16, 3, 3), "W1"),
             numpy_helper.from_array(w(16, 16, 3, 3), "W2"),
             numpy_helper.from_array(w(16).astype(np.float32), "B1")]
    nodes = [helper.make_node("Conv", ["x", "W1", "B1"], ["a"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["ar"]),
             helper.make_node("Conv", ["ar", "W2"], ["b"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["b", "x"], ["s"]),
             helper.make_node("Relu", ["s"], ["sr"]),
             helper.make_node("GlobalAveragePool", ["sr"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Softmax", ["f"], ["y"], axis=-1)]
    graph = helper.make_graph(
        nodes, "res", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def depthwise_net(channels: int, stride: int = 1, dilation: int = 1, seed: int = 0
                  ) -> onnx.ModelProto:
    """A 3x3 depthwise conv with bias and ReLU over a 1 x channels x 9 x 9 input."""
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, (channels, 1, 3, 3)).astype(np.float32),
                                     "W"),
             numpy_helper.from_array(rng.normal(0, 0.1, (channels,)).astype(np.float32), "B")]
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["c"], group=channels,
                              pads=[dilation] * 4, strides=[stride] * 2,
                              dilations=[dilation] * 2),
             helper.make_node("Relu", ["c"], ["y"])]
    out = (9 - 1) // stride + 1
    graph = helper.make_graph(
        nodes, "dw", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, 9, 9])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, out, out])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def compile_model(path: Path, pipeline: str = ""):  # noqa: ANN201
    """(quantized module, lowered module) for an ONNX file, with `pipeline` applied."""
    from dlac.flow.stages import import_stage, lower_stage, prepare_stage, quantize_stage
    from dlac.passes.pass_manager import PassManager
    from dlac.passes.pipeline import parse_pipeline

    quantized = quantize_stage(prepare_stage(import_stage(path)))
    lowered = lower_stage(quantized.clone())
    middle = "," + pipeline if pipeline else ""
    passes = f"lower-data-movement,dce{middle},allocate-buffers,lower-to-gemmini"
    PassManager(parse_pipeline(passes)).run(lowered)
    return quantized, lowered


@pytest.fixture
def onnx_file(tmp_path: Path):  # noqa: ANN201
    def save(model: onnx.ModelProto, name: str = "model.onnx") -> Path:
        path = tmp_path / name
        onnx.save(model, path)
        return path
    return save
