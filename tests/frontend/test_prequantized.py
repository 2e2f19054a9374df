"""Pre-quantized ONNX models (onnxruntime.quantization's QDQ, QOperator and dynamic forms):
they compile, run bit-exact on the simulator, match onnxruntime running the quantized
model itself, and say in `quant_notes` what could not keep the model's own arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from dlac.flow.stages import run_to
from dlac.frontend.errors import FrontendError
from dlac.frontend.importer import import_onnx
from dlac.frontend.qoperators import rewrite_quantized_ops
from dlac.ir.quant_notes import notes_of
from dlac.ir.semantics.qgraph import run_reference
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper
from onnx_builders import tensor

SHAPE = (1, 3, 8, 8)
SYMMETRIC = {"ActivationSymmetric": True, "WeightSymmetric": True}


class _Net(torch.nn.Module):
    """Conv-BN-ReLU, sigmoid gate, Concat, residual Add, LeakyReLU, Max/AvgPool, GAP,
    MatMul and Linear: every op the quantizer rewrites into a QLinear form."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.c2 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.c3 = torch.nn.Conv2d(16, 8, 1)
        self.w = torch.nn.Parameter(torch.randn(8, 6) * 0.3)
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.bn(self.c1(x)))
        b = torch.sigmoid(self.c2(a)) * a
        c = torch.nn.functional.leaky_relu(self.c3(torch.cat([a, b], 1)) + a, 0.1)
        c = torch.nn.functional.avg_pool2d(torch.nn.functional.max_pool2d(c, 2), 2)
        g = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(c, 1), 1)
        return self.fc(g @ self.w)


def _inputs(seed: int) -> dict[str, np.ndarray]:
    return {"x": np.random.default_rng(seed).standard_normal(SHAPE).astype(np.float32)}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fp32 net and its onnxruntime.quantization outputs (calibration seeds 0-7)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    where = tmp_path_factory.mktemp("prequantized")
    torch.manual_seed(0)
    net = _Net().eval()
    with torch.no_grad():
        net.bn.running_mean.uniform_(-0.2, 0.2)
        net.bn.running_var.uniform_(0.5, 1.5)
    fp32 = where / "fp32.onnx"
    torch.onnx.export(net, torch.randn(SHAPE), str(fp32), dynamo=False, opset_version=17,
                      input_names=["x"])

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([_inputs(s) for s in range(8)])

        def get_next(self) -> dict | None:
            return next(self.items, None)

    out = {"fp32": fp32}
    for name, fmt, act, weight, per_channel, extra in (
            ("qop_sym", QuantFormat.QOperator, QuantType.QInt8, QuantType.QInt8, False,
             SYMMETRIC),
            ("qdq_sym", QuantFormat.QDQ, QuantType.QInt8, QuantType.QInt8, False, SYMMETRIC),
            ("qop", QuantFormat.QOperator, QuantType.QInt8, QuantType.QInt8, False, {}),
            ("qdq_u8_per_channel", QuantFormat.QDQ, QuantType.QUInt8, QuantType.QUInt8,
             True, {})):
        out[name] = where / f"{name}.onnx"
        quantize_static(str(fp32), str(out[name]), Reader(), quant_format=fmt,
                        activation_type=act, weight_type=weight, per_channel=per_channel,
                        extra_options=extra)
    out["dynamic"] = where / "dynamic.onnx"
    quantize_dynamic(str(fp32), str(out["dynamic"]))
    return out


def _quantize_static(fp32: Path, out: Path, shape: tuple[int, ...], **options: object) -> Path:
    from onnxruntime.quantization import CalibrationDataReader, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self.items = iter([{"x": rng.standard_normal(shape).astype(np.float32)}
                               for _ in range(8)])

        def get_next(self) -> dict | None:
            return next(self.items, None)

    quantize_static(str(fp32), str(out), Reader(), **options)
    return out


def sqnr(want: np.ndarray, got: np.ndarray) -> float:
    noise = float(((want - got) ** 2).sum())
    return float("inf") if noise == 0 else 10 * np.log10(float((want ** 2).sum()) / noise)


def _vs_onnxruntime(path: Path) -> tuple[float, list[dict[str, str]]]:
    """SQNR of dlac's int8 reference vs onnxruntime running the quantized model itself
    (held-out input, seed 123), and the notes."""
    module = run_to("qgraph", path)
    feeds = _inputs(123)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, feeds)[0]
    return sqnr(want, run_reference(module, [feeds["x"]])[0]), notes_of(module)


def test_qoperator_rewrite_is_exact_on_onnxruntime(models: dict[str, Path]) -> None:
    """The QDQ form says what the QLinear ops say: onnxruntime gives the same bits."""
    model = onnx.load(str(models["qop"]))
    kinds = {n.op_type for n in model.graph.node}
    assert {"QLinearConv", "QLinearMatMul", "QGemm", "QLinearAdd", "QLinearMul",
            "QLinearConcat", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearAveragePool",
            "QLinearGlobalAveragePool"} <= kinds
    rewritten, notes = rewrite_quantized_ops(model)
    assert notes == []
    assert not {n.op_type for n in rewritten.graph.node} - {
        "QuantizeLinear", "DequantizeLinear", "Conv", "MatMul", "Gemm", "Add", "Mul",
        "Concat", "Sigmoid", "LeakyRelu", "AveragePool", "GlobalAveragePool", "MaxPool",
        "Flatten"}
    feeds = _inputs(5)
    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]
    got = ort.InferenceSession(rewritten.SerializeToString()).run(None, feeds)[0]
    np.testing.assert_array_equal(got, want)


def _resadd_only(notes: list[dict[str, str]]) -> bool:
    """Only the residual Add changed: Gemmini's resadd rounds the finer operand to the
    coarser one's scale before the sum."""
    return len(notes) == 1 and "resadd" in notes[0]["why"] and "coarser" in notes[0]["change"]


def test_symmetric_qoperator_model_runs_with_its_own_scales(models: dict[str, Path]) -> None:
    db, notes = _vs_onnxruntime(models["qop_sym"])
    # every op but the residual Add is bit-identical with onnxruntime
    assert db > 40 and _resadd_only(notes)


def test_symmetric_qdq_model_runs_with_its_own_scales(models: dict[str, Path]) -> None:
    db, notes = _vs_onnxruntime(models["qdq_sym"])
    assert db > 35 and _resadd_only(notes)


def test_asymmetric_activations_are_requantized_with_notes(models: dict[str, Path]) -> None:
    db, notes = _vs_onnxruntime(models["qop"])
    assert db > 35
    activations = [n for n in notes if "asymmetric int8 activation" in n["change"]]
    assert activations and all(n["node"] and "zero point 0" in n["why"] for n in activations)
    # onnxruntime folds ReLU into a zero point at the range's bottom: the ReLU comes back
    assert any("clipped by a ReLU" in n["change"] for n in notes)


def test_per_channel_uint8_weights_are_requantized_with_notes(models: dict[str, Path]
                                                              ) -> None:
    db, notes = _vs_onnxruntime(models["qdq_u8_per_channel"])
    assert db > 35
    changes = [n["change"] for n in notes]
    assert sum("per-channel weight scales" in c for c in changes) == 5  # 3 convs, MatMul, fc
    assert any("asymmetric uint8 activation" in c for c in changes)


def test_dynamic_model_is_calibrated_with_notes(models: dict[str, Path]) -> None:
    db, notes = _vs_onnxruntime(models["dynamic"])
    assert db > 35
    dynamic = [n for n in notes if "dynamic activation quantization" in n["change"]]
    integer_ops = [n for n in onnx.load(str(models["dynamic"])).graph.node
                   if n.op_type in ("ConvInteger", "MatMulInteger")]
    assert len(dynamic) == len(integer_ops) == 5
    assert all("compile-time constants" in n["why"] for n in dynamic)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["qop_sym", "qdq_u8_per_channel", "dynamic"])
def test_compiles_bit_exact_with_notes_in_report(models: dict[str, Path], name: str,
                                                 tmp_path: Path) -> None:
    assert main([str(models[name]), "-o", str(tmp_path / "out"), "--validate"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["bit_exact"] is True
    assert report["quant_notes"] == notes_of(run_to("qgraph", models[name]))
    assert _resadd_only(report["quant_notes"]) == (name == "qop_sym")


def _integer_model(op_type: str) -> onnx.ModelProto:
    """A ConvInteger/MatMulInteger over a graph input: not onnxruntime's dynamic chain."""
    w = np.ones((4, 3, 1, 1) if op_type == "ConvInteger" else (3, 4), np.int8)
    shape = [1, 3, 4, 4] if op_type == "ConvInteger" else [2, 3]
    out = [1, 4, 4, 4] if op_type == "ConvInteger" else [2, 4]
    graph = helper.make_graph(
        [helper.make_node(op_type, ["x", "w"], ["y"], name="int_node")], "g",
        [helper.make_tensor_value_info("x", TensorProto.INT8, shape)],
        [helper.make_tensor_value_info("y", TensorProto.INT32, out)], [tensor("w", w)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("op_type", ["ConvInteger", "MatMulInteger"])
def test_integer_op_outside_the_dynamic_chain_is_one_line_error(op_type: str) -> None:
    with pytest.raises(FrontendError, match=rf"unsupported ONNX op type\(s\): {op_type} "
                                            r"\(first at node 'int_node'\)"):
        import_onnx(_integer_model(op_type))


@pytest.mark.parametrize("name", ["qdq_sym", "qop_sym"])
def test_qdq_pairs_leave_no_copies_and_relu_fuses(models: dict[str, Path], name: str) -> None:
    """Q/DQ pairs become no op at all, and a ReLU between them fuses into the conv."""
    module = run_to("qgraph", models[name])
    kinds = [op.name for op in module.walk()]
    assert "graph.identity" not in kinds
    assert not [op for op in module.walk() if op.name == "qgraph.lut"
                and op.attr("function") == "relu"]
    assert any(op.name == "qgraph.conv" and op.attr("act") == "relu" for op in module.walk())


_F = torch.nn.functional
SINGLE_OPS = {"leaky_relu": lambda x: _F.leaky_relu(x, 0.1),
              "avg_pool": lambda x: _F.avg_pool2d(x, 2), "max_pool": lambda x: _F.max_pool2d(x, 2),
              "sigmoid": torch.sigmoid, "relu": torch.relu,
              "global_avg_pool": lambda x: _F.adaptive_avg_pool2d(x, 1)}


class _ConvThen(torch.nn.Module):
    def __init__(self, op: object) -> None:
        super().__init__()
        self.conv, self.op = torch.nn.Conv2d(3, 8, 3, padding=1), op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(self.conv(x))


@pytest.mark.parametrize("op", sorted(SINGLE_OPS))
def test_symmetric_qoperator_ops_equal_onnxruntime_bit_for_bit(op: str, tmp_path: Path) -> None:
    """QLinearConv followed by one op, the model's own symmetric scales: dlac's int8
    reference gives onnxruntime's output exactly."""
    from onnxruntime.quantization import QuantFormat, QuantType

    torch.manual_seed(0)
    fp32 = tmp_path / "f.onnx"
    torch.onnx.export(_ConvThen(SINGLE_OPS[op]).eval(), torch.randn(SHAPE), str(fp32),
                      dynamo=False, opset_version=17, input_names=["x"])
    path = _quantize_static(fp32, tmp_path / "q.onnx", SHAPE,
                            quant_format=QuantFormat.QOperator,
                            activation_type=QuantType.QInt8, extra_options=SYMMETRIC)
    feeds = _inputs(123)
    want = ort.InferenceSession(str(path)).run(None, feeds)[0]
    module = run_to("qgraph", path)
    np.testing.assert_array_equal(run_reference(module, [feeds["x"]])[0], want)
    assert notes_of(module) == []
