"""LSTM and GRU: float meaning equals onnxruntime's, the unrolled graph computes the same,
and the int8 program (gate Gemms on Gemmini, gates on the host) is bit-exact on the
simulator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from dlac.flow.stages import import_stage
from dlac.ir.semantics.graph import evaluate_func
from dlac.ir.verifier import verify
from dlac.passes.fold_constants import FoldConstants
from dlac.passes.pass_base import PassError, run_pass
from dlac.passes.unroll_rnn import UnrollRnn
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper, numpy_helper


def rnn_model(kind: str, direction: str = "forward", states: bool = False, lbr: int = 0,
              dims: tuple[int, int, int, int] = (3, 1, 4, 4), **extra: object
              ) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """One LSTM/GRU node, time-major; `states` makes the initial states graph inputs."""
    rng = np.random.default_rng(3)
    t, b, i, h = dims
    d = 2 if direction == "bidirectional" else 1
    g = 4 if kind == "LSTM" else 3
    inits = [numpy_helper.from_array(rng.normal(0, 0.5, s).astype(np.float32), n)
             for n, s in (("W", (d, g * h, i)), ("R", (d, g * h, h)), ("B", (d, 2 * g * h)))]
    feeds = {"x": rng.standard_normal((t, b, i)).astype(np.float32)}
    names = ["x", "W", "R", "B", ""]
    for s in (("h0", "c0") if kind == "LSTM" else ("h0",)) if states else ():
        feeds[s] = rng.normal(0, 0.5, (d, b, h)).astype(np.float32)
        names.append(s)
    outs = ["y", "yh"] + (["yc"] if kind == "LSTM" else [])
    attrs = {"hidden_size": h, "direction": direction, **extra}
    if kind == "GRU":
        attrs["linear_before_reset"] = lbr
    node = helper.make_node(kind, names, outs, name="rnn", **attrs)
    ins = [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape))
           for k, v in feeds.items()]
    graph = helper.make_graph([node], "g", ins, [
        helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    inferred = onnx.shape_inference.infer_shapes(model)
    model.graph.ClearField("output")
    model.graph.output.extend(inferred.graph.output)
    return model, feeds


CASES = [("LSTM", "forward", False, 0), ("LSTM", "bidirectional", True, 0),
         ("LSTM", "reverse", True, 0), ("GRU", "forward", False, 1),
         ("GRU", "bidirectional", True, 0), ("GRU", "reverse", True, 1)]


@pytest.mark.parametrize("kind,direction,states,lbr", CASES)
def test_float_meaning_and_unrolled_graph_match_onnxruntime(
        tmp_path: Path, kind: str, direction: str, states: bool, lbr: int) -> None:
    model, feeds = rnn_model(kind, direction, states, lbr, dims=(4, 2, 3, 5))
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    module = import_stage(path)
    args = list(feeds.values())
    got = evaluate_func(module.regions[0].ops[0], args, 14)
    run_pass(FoldConstants(), module)
    run_pass(UnrollRnn(), module)
    verify(module)
    unrolled = evaluate_func(module.regions[0].ops[0], args, 14)
    assert not any(op.name in ("graph.lstm", "graph.gru") for op in module.walk())
    for w, g, u in zip(want, got, unrolled, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(u, w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind,direction,states,lbr", [CASES[1], CASES[3], CASES[4]])
def test_compiles_bit_exact(tmp_path: Path, kind: str, direction: str, states: bool,
                            lbr: int) -> None:
    model, _ = rnn_model(kind, direction, states, lbr)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["bit_exact"] is True


def test_unsupported_attribute_is_one_line_naming_the_node(tmp_path: Path) -> None:
    model, _ = rnn_model("LSTM", clip=3.0)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    module = import_stage(path)
    with pytest.raises(PassError, match=r"node 'rnn' \(graph.lstm\).*clip"):
        run_pass(UnrollRnn(), module)


def test_hidden_size_one_gru_maps_its_1x1x1_matmuls(tmp_path: Path) -> None:
    """Fuzz seed 12 of the recurrent family: every recurrent Gemm is 1x1x1."""
    model, _ = rnn_model("GRU", "bidirectional", True, 0, dims=(1, 1, 1, 1))
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0


def test_only_the_final_state_used_with_y_absent(tmp_path: Path) -> None:
    """Y = '' and Y_h as the graph output (as Keras-style exporters write it)."""
    model, feeds = rnn_model("LSTM", "forward")
    node = model.graph.node[0]
    node.output[0] = ""
    del node.output[2]
    outs = [o for o in model.graph.output if o.name == "yh"]
    model.graph.ClearField("output")
    model.graph.output.extend(outs)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    got = evaluate_func(import_stage(path).regions[0].ops[0], list(feeds.values()), 14)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-5)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
