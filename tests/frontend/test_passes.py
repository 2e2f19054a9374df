"""Graph-level passes and quantization: structure, float equivalence, int8 accuracy."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from dlac.flow import stages as pipeline
from dlac.frontend.importer import import_onnx
from dlac.ir.core import Operation
from dlac.ir.parser import parse_module
from dlac.ir.printer import print_op
from dlac.ir.semantics.graph import evaluate_func
from dlac.ir.semantics.qgraph import run_reference
from dlac.ir.verifier import verify
from dlac.passes.fold_batchnorm import FoldBatchNorm
from dlac.passes.fold_constants import FoldConstants
from dlac.passes.fuse_epilogue import FuseEpilogue
from dlac.passes.fuse_gelu import FuseGelu
from dlac.passes.pass_base import ModulePass
from dlac.passes.quantize import Quantize
from dlac.passes.sqnr import sqnr_db
from onnx import TensorProto, helper
from onnx_builders import conv_chain_model, rng_inputs, single_node_model, tensor


def names(module) -> list[str]:  # noqa: ANN001
    return [op.name for op in module.walk() if "." in op.name
            and op.name not in ("builtin.module", "func.func", "func.return", "graph.constant")]


def run_float(module, feeds: dict) -> list[np.ndarray]:  # noqa: ANN001
    func = module.regions[0].ops[0]
    return evaluate_func(func, [feeds[a.name_hint] for a in func.args],
                         module.attr("onnx_opset", 17))


def apply_keeping_output(model: onnx.ModelProto, *passes: ModulePass,
                         atol: float = 1e-6) -> Operation:
    """Import `model`, run `passes` on it, and check its float output did not change."""
    module = import_onnx(model)
    feeds = rng_inputs(model)
    before = run_float(module, feeds)[0]
    for p in passes:
        p.apply(module)
    np.testing.assert_allclose(run_float(module, feeds)[0], before, rtol=1e-5, atol=atol)
    return module


def sqnr(ref: np.ndarray, got: np.ndarray) -> float:
    return sqnr_db([ref], [got])


def conv_bn_relu6_model() -> onnx.ModelProto:
    rng = np.random.default_rng(1)
    inits = [tensor("w", (rng.standard_normal((4, 3, 3, 3)) * 0.4).astype(np.float32)),
             tensor("g", rng.uniform(0.5, 1.5, 4).astype(np.float32)),
             tensor("b", rng.standard_normal(4).astype(np.float32) * 0.1),
             tensor("m", rng.standard_normal(4).astype(np.float32) * 0.1),
             tensor("v", rng.uniform(0.5, 2, 4).astype(np.float32)),
             tensor("lo", np.float32(0)), tensor("hi", np.float32(6))]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["n"],
                              name="bn"),
             helper.make_node("Clip", ["n", "lo", "hi"], ["y"], name="relu6")]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                             [1, 3, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                             [1, 4, 6, 6])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_fold_batchnorm_and_fuse_relu6_keep_float_semantics() -> None:
    module = apply_keeping_output(conv_bn_relu6_model(), FoldBatchNorm(), FuseEpilogue(),
                                  atol=1e-5)
    verify(module)
    assert names(module) == ["graph.conv"]
    conv = next(op for op in module.walk() if op.name == "graph.conv")
    assert conv.attr("fused_act") == "relu6" and len(conv.operands) == 3


def test_standalone_batchnorm_becomes_mul_add() -> None:
    rng = np.random.default_rng(2)
    model = single_node_model("BatchNormalization", {"x": (1, 3, 4, 4)}, None, None, {
        "g": rng.uniform(0.5, 1, 3).astype(np.float32), "b": np.zeros(3, np.float32),
        "m": np.zeros(3, np.float32), "v": np.ones(3, np.float32)})
    module = apply_keeping_output(model, FoldBatchNorm())
    assert names(module) == ["graph.mul", "graph.add"]


def test_fold_constants_evaluates_shape_computations() -> None:
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["w"], name="cos",
                              value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.5])),
             helper.make_node("Identity", ["x"], ["xi"], name="id"),
             helper.make_node("MatMul", ["xi", "w"], ["y"], name="mm")]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                              [tensor("s", np.array([3, 4], np.int64))])
    module = import_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    FoldConstants().apply(module)
    verify(module)
    assert names(module) == ["graph.matmul"]
    w = [op.attr("value") for op in module.walk() if op.name == "graph.constant"]
    assert len(w) == 1 and w[0].shape == (3, 4) and (w[0] == 0.5).all()


def erf_gelu_model() -> onnx.ModelProto:
    inits = [tensor("r2", np.float32(np.sqrt(2))), tensor("one", np.float32(1)),
             tensor("half", np.float32(0.5))]
    nodes = [helper.make_node("Div", ["x", "r2"], ["d"], name="div"),
             helper.make_node("Erf", ["d"], ["e"], name="erf"),
             helper.make_node("Add", ["e", "one"], ["a"], name="add"),
             helper.make_node("Mul", ["x", "a"], ["m"], name="mul"),
             helper.make_node("Mul", ["m", "half"], ["y"], name="mul2")]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_fuse_gelu_recognises_erf_pattern() -> None:
    module = apply_keeping_output(erf_gelu_model(), FuseGelu())
    assert names(module) == ["graph.gelu"]


def test_fuse_epilogue_merges_matmul_bias_and_relu() -> None:
    rng = np.random.default_rng(3)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
             helper.make_node("Add", ["b", "m"], ["a"], name="bias"),
             helper.make_node("Relu", ["a"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5, 4])],
                              [tensor("w", rng.standard_normal((3, 4)).astype(np.float32)),
                               tensor("b", rng.standard_normal(4).astype(np.float32))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    module = apply_keeping_output(model, FuseEpilogue())
    assert names(module) == ["graph.matmul"]


def quantized(model: onnx.ModelProto, **kw) -> object:  # noqa: ANN003
    module = pipeline.prepare_stage(import_onnx(model))
    Quantize(**kw).apply(module)
    verify(module)
    return module


def test_quantized_chain_is_accurate_and_self_contained() -> None:
    model = conv_chain_model()
    module = quantized(model)
    assert [n for n in names(module) if n.startswith("qgraph")] == [
        "qgraph.quantize", "qgraph.conv", "qgraph.conv", "qgraph.add", "qgraph.avg_pool",
        "qgraph.matmul", "qgraph.dequantize"]
    feeds = rng_inputs(model, seed=5)
    import onnxruntime as ort

    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]
    got = run_reference(module, [feeds["x"]])[0]
    assert sqnr(want, got) > 25
    # the IR text alone determines every bit
    again = parse_module(print_op(module))
    np.testing.assert_array_equal(run_reference(again, [feeds["x"]])[0], got)


def test_relu6_output_scale_maps_six_to_127() -> None:
    module = quantized(conv_bn_relu6_model())
    conv = next(op for op in module.walk() if op.name == "qgraph.conv")
    assert conv.attr("act") == "relu"
    assert conv.attr("out_scale") == pytest.approx(6 / 127, rel=1e-6)
    assert conv.attributes["multiplier"].type.width == 32


def test_calibration_from_npz_changes_scales(tmp_path) -> None:  # noqa: ANN001
    model = conv_chain_model()
    np.savez(tmp_path / "c.npz", x=np.full((3, 1, 3, 8, 8), 4.0, np.float32))
    module = quantized(model, calib=str(tmp_path / "c.npz"))
    q = next(op for op in module.walk() if op.name == "qgraph.quantize")
    assert q.attr("scale") == pytest.approx(4.0 / 127, rel=1e-6)


def test_bert_like_ops_quantize(tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(4)
    inits = [tensor("w", (rng.standard_normal((8, 8)) * 0.3).astype(np.float32)),
             tensor("g", rng.uniform(0.5, 1.5, 8).astype(np.float32)),
             tensor("b", rng.standard_normal(8).astype(np.float32) * 0.1),
             tensor("d", np.float32(2.0))]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["q"], name="q"),
             helper.make_node("Transpose", ["q"], ["qt"], name="t", perm=[0, 2, 1]),
             helper.make_node("MatMul", ["q", "qt"], ["s"], name="s"),
             helper.make_node("Div", ["s", "d"], ["sd"], name="div"),
             helper.make_node("Softmax", ["sd"], ["p"], name="softmax", axis=-1),
             helper.make_node("MatMul", ["p", "q"], ["c"], name="ctx"),
             helper.make_node("Add", ["c", "x"], ["r"], name="res"),
             helper.make_node("LayerNormalization", ["r", "g", "b"], ["y"], name="ln")]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 8])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    feeds = rng_inputs(model, seed=9)
    # calibrate on the evaluated input: the test measures arithmetic, not range estimation
    np.savez(tmp_path / "c.npz", x=feeds["x"])
    module = quantized(model, calib=str(tmp_path / "c.npz"))
    import onnxruntime as ort

    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]
    got = run_reference(module, [feeds["x"]])[0]
    assert sqnr(want, got) > 20
    assert {"qgraph.softmax", "qgraph.layer_norm", "qgraph.requant"} <= set(names(module))


def test_qdq_model_keeps_its_scales(tmp_path) -> None:  # noqa: ANN001
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    model = conv_chain_model()
    src, dst = tmp_path / "f.onnx", tmp_path / "q.onnx"
    onnx.save(model, str(src))

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([rng_inputs(model, seed=s) for s in range(4)])

        def get_next(self) -> dict | None:
            return next(self.items, None)

    quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    per_channel=False, extra_options={"ActivationSymmetric": True,
                                                      "WeightSymmetric": True})
    qdq = onnx.load(str(dst))
    scales = {t.name: float(onnx.numpy_helper.to_array(t).reshape(-1)[0])
              for t in qdq.graph.initializer if t.name.endswith("_scale")}
    module = pipeline.run_to("qgraph", dst)
    conv = next(op for op in module.walk() if op.name == "qgraph.conv")
    assert any(abs(conv.attr("in_scale") - s) < 1e-9 for s in scales.values())
    assert any(abs(conv.attr("w_scale") - s) < 1e-9 for s in scales.values())
    feeds = rng_inputs(model, seed=11)
    import onnxruntime as ort

    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]
    assert sqnr(want, run_reference(module, [feeds["x"]])[0]) > 20


@pytest.mark.parametrize("group", [1, 2])
def test_conv_transpose_becomes_input_dilated_conv(group: int, tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(12)
    model = single_node_model("ConvTranspose", {"x": (1, 4, 5, 5)}, None,
                              {"strides": [2, 2], "pads": [1, 1, 1, 1],
                               "output_padding": [1, 1], "group": group},
                              {"w": (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32),
                               "b": rng.standard_normal(3 * group).astype(np.float32) * 0.1})
    feeds = rng_inputs(model, seed=2)
    np.savez(tmp_path / "c.npz", x=feeds["x"])
    module = quantized(model, calib=str(tmp_path / "c.npz"))
    conv = next(op for op in module.walk() if op.name == "qgraph.conv")
    assert conv.attr("input_dilation") == (2, 2) and conv.attr("strides") == (1, 1)
    import onnxruntime as ort

    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]
    assert sqnr(want, run_reference(module, [feeds["x"]])[0]) > 30


def test_lrn_quantizes(tmp_path) -> None:  # noqa: ANN001
    model = single_node_model("LRN", {"x": (1, 6, 4, 4)}, None,
                              {"size": 5, "alpha": 0.05, "beta": 0.75, "bias": 1.0}, opset=13)
    feeds = rng_inputs(model, seed=3)
    np.savez(tmp_path / "c.npz", x=feeds["x"])
    module = quantized(model, calib=str(tmp_path / "c.npz"))
    assert "qgraph.lrn" in names(module)
    import onnxruntime as ort

    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]
    assert sqnr(want, run_reference(module, [feeds["x"]])[0]) > 30


def test_fold_batchnorm_into_gemm() -> None:
    rng = np.random.default_rng(6)
    nodes = [helper.make_node("Gemm", ["x", "w", "c"], ["g"], name="fc", transB=1, alpha=0.5),
             helper.make_node("BatchNormalization", ["g", "s", "b", "m", "v"], ["y"],
                              name="bn")]
    inits = [tensor("w", rng.standard_normal((4, 3)).astype(np.float32)),
             tensor("c", rng.standard_normal(4).astype(np.float32)),
             tensor("s", rng.uniform(0.5, 2, 4).astype(np.float32)),
             tensor("b", rng.standard_normal(4).astype(np.float32)),
             tensor("m", rng.standard_normal(4).astype(np.float32)),
             tensor("v", rng.uniform(0.5, 2, 4).astype(np.float32))]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    module = apply_keeping_output(model, FoldBatchNorm(), atol=1e-5)
    assert names(module) == ["graph.gemm"]


def test_embedding_gather_with_integer_input() -> None:
    rng = np.random.default_rng(8)
    table = rng.standard_normal((10, 6)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["table", "ids"], ["e"], name="embed", axis=0),
             helper.make_node("Relu", ["e"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6])],
                              [tensor("table", table)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    module = quantized(model, samples=16)  # 64 random ids: every table row is seen
    ids = np.array([[3, 0, 9, 3]], np.int64)
    got = run_reference(module, [ids])[0]
    want = np.maximum(table[ids], 0)
    assert sqnr(want, got) > 30
    pipeline.lower_stage(module)
