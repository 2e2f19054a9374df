"""`--weight-splits N`: runs of consecutive output channels with their own weight scale,
one Gemmini call each, bit-exact and no host regrouping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from dlac.flow.stages import import_stage, prepare_stage, run_to
from dlac.ir.diagnostics import DiagnosticError
from dlac.ir.semantics.graph import evaluate_func
from dlac.passes.channel_groups import contiguous_splits
from dlac.passes.graph_utils import const_value, functions
from dlac.passes.pass_base import run_pass
from dlac.passes.permute_channels import PermuteChannels
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper, numpy_helper
from onnx_builders import single_node_model


def _spread_conv(path: Path) -> Path:
    """A 3x3 conv whose output channels' weight ranges rise over 1000x (BN folded)."""
    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.3, (8, 8, 3, 3)) * np.geomspace(0.002, 2.0, 8)[:, None, None, None]
    onnx.save(single_node_model("Conv", {"x": (1, 8, 6, 6)}, None, {"pads": [1] * 4},
                                {"w": w.astype(np.float32),
                                 "b": rng.normal(0, 0.1, 8).astype(np.float32)}), path)
    return path


def test_contiguous_splits_only_when_they_pay() -> None:
    even = np.ones((8, 4, 1, 1))
    assert contiguous_splits(even, 4) == [0, 8]
    rising = even * np.geomspace(0.01, 1.0, 8)[:, None, None, None]
    bounds = contiguous_splits(rising, 4)
    assert len(bounds) == 5 and bounds[0] == 0 and bounds[-1] == 8
    assert contiguous_splits(rising, 1) == [0, 8]


def test_weight_splits_are_bit_exact_and_finer(tmp_path: Path) -> None:
    path = _spread_conv(tmp_path / "m.onnx")
    (conv,) = [op for op in run_to("qgraph", path, weight_splits=4).walk()
               if op.name == "qgraph.conv"]
    bounds, mults = conv.attr("k_splits"), conv.attr("split_multipliers")
    assert len(bounds) == 5 and len(mults) == 4 and mults[0] < mults[-1] / 10
    sqnr = []
    for n in (1, 4):
        out = tmp_path / f"out{n}"
        assert main([str(path), "-o", str(out), "--validate", "--weight-splits", str(n)]) == 0
        report = json.loads((out / "report.json").read_text())
        assert report["bit_exact"] is True
        sqnr.append(report["sqnr_db"])
    assert sqnr[1] > sqnr[0] + 1
    conv.set_attr("k_splits", [0, 5, 3, 8])
    with pytest.raises(DiagnosticError, match="k_splits"):
        conv.verify_()


def _squeeze_excite(path: Path) -> Path:
    """expand conv (BN-like channel spread) -> HardSwish -> depthwise -> SE (GAP, fc1,
    fc2, HardSigmoid, Mul) -> project conv: one region the permutation must cross whole."""
    rng = np.random.default_rng(7)
    spread = np.geomspace(0.01, 2.0, 8)[rng.permutation(8)]
    inits = {"we": rng.normal(0, 0.5, (8, 4, 1, 1)) * spread[:, None, None, None],
             "be": rng.normal(0, 0.1, 8), "wd": rng.normal(0, 0.5, (8, 1, 3, 3)),
             "w1": rng.normal(0, 0.5, (2, 8, 1, 1)), "w2": rng.normal(0, 0.5, (8, 2, 1, 1)),
             "b2": rng.normal(0, 0.1, 8), "wp": rng.normal(0, 0.5, (4, 8, 1, 1))}
    node = helper.make_node
    nodes = [node("Conv", ["x", "we", "be"], ["e"]), node("HardSwish", ["e"], ["h"]),
             node("Conv", ["h", "wd"], ["d"], group=8, pads=[1] * 4),
             node("GlobalAveragePool", ["d"], ["g"]), node("Conv", ["g", "w1"], ["f1"]),
             node("Relu", ["f1"], ["r"]), node("Conv", ["r", "w2", "b2"], ["f2"]),
             node("HardSigmoid", ["f2"], ["s"]), node("Mul", ["d", "s"], ["m"]),
             node("Conv", ["m", "wp"], ["y"])]
    graph = helper.make_graph(
        nodes, "se", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_permute_channels_crosses_squeeze_excite_unchanged(tmp_path: Path) -> None:
    module = prepare_stage(import_stage(_squeeze_excite(tmp_path / "se.onnx")))
    func = next(functions(module))
    x = np.random.default_rng(0).standard_normal((1, 4, 6, 6)).astype(np.float32)
    want = evaluate_func(func, [x], 17)[0]
    run_pass(PermuteChannels(max_splits=4), module)
    expand = next(op for op in func.body.block.ops if op.name == "graph.conv")
    ranges = np.abs(const_value(expand.operands[1])).reshape(8, -1).max(axis=1)
    assert np.all(np.diff(ranges) >= 0)  # sorted: the region took the permutation
    np.testing.assert_allclose(evaluate_func(func, [x], 17)[0], want, rtol=1e-5, atol=1e-5)
    assert main([str(tmp_path / "se.onnx"), "-o", str(tmp_path / "out"), "--validate"]) == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["bit_exact"] is True


def test_split_conv_pools_on_the_store(tmp_path: Path) -> None:
    """Conv (4 weight runs) -> ReLU -> MaxPool: every run's call pools its channel slice
    on Gemmini's store (no host max pool), bit-exact."""
    rng = np.random.default_rng(4)
    w = rng.normal(0, 0.3, (8, 8, 3, 3)) * np.geomspace(0.002, 2.0, 8)[:, None, None, None]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1] * 4),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[2, 2], strides=[2, 2])]
    graph = helper.make_graph(
        nodes, "pool", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 4, 4])],
        [numpy_helper.from_array(w.astype(np.float32), "w")])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    out = tmp_path / "out"
    assert main([str(path), "-o", str(out), "--validate", "--weight-splits", "4"]) == 0
    assert json.loads((out / "report.json").read_text())["bit_exact"] is True
    code = "".join(p.read_text() for p in out.glob("*.c"))
    assert "max_pool" not in code and code.count("tiled_conv") >= 2
