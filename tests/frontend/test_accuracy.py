"""Accuracy features: per-channel-group weight scales, --calib batches, mse ranges, and the
SQNR in report.json; each compiles bit-exact on the simulator."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from dlac.flow.accuracy import onnx_sqnr
from dlac.flow.stages import import_stage, prepare_stage, quantize_stage, run_to
from dlac.ir.dialects.func import FuncOp
from dlac.ir.semantics.graph import evaluate_func
from dlac.ir.semantics.qgraph import run_reference
from dlac.passes.calibration import load_calibration, mse_amax
from dlac.passes.channel_groups import _best_cuts, channel_groups
from dlac.passes.equalize import Equalize
from dlac.passes.pass_base import PassError, run_pass
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper, numpy_helper
from onnx_builders import single_node_model

R = np.random.default_rng(3)


def _folded_bn_conv(group: int) -> onnx.ModelProto:
    """A conv whose output channels' weight ranges spread over 1000x (BatchNorm folded)."""
    cin = 8 if group == 1 else group
    w = R.normal(0, 0.3, (8, cin // group, 3, 3)) * np.geomspace(0.002, 2.0, 8)[:, None, None,
                                                                               None]
    return single_node_model("Conv", {"x": (1, cin, 6, 6)}, None,
                             {"group": group, "pads": [1] * 4},
                             {"w": w.astype(np.float32), "b": R.normal(0, 0.1, 8).astype(
                                 np.float32)})


def test_best_cuts_is_optimal() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        k, groups = int(rng.integers(1, 8)), int(rng.integers(1, 4))
        sq = np.sort(rng.random(k))

        def cost(cuts: tuple[int, ...], sq: np.ndarray = sq, k: int = k) -> float:
            b = [0, *cuts, k]
            return sum(sq[e - 1] * (e - s) for s, e in zip(b, b[1:], strict=False))

        best = min(cost(c) for r in range(groups)
                   for c in itertools.combinations(range(1, k), r))
        cuts, noise = _best_cuts(sq, groups)
        assert noise == pytest.approx(best) and cost(tuple(cuts)) == pytest.approx(best)


def test_groups_only_when_ranges_differ() -> None:
    even = np.ones((8, 4, 3, 3))
    assert [g.tolist() for g in channel_groups(even, 4)] == [list(range(8))]
    spread = even * np.geomspace(0.01, 1.0, 8)[::-1, None, None, None]
    sets = channel_groups(spread, 4)
    assert 1 < len(sets) <= 4
    assert sorted(np.concatenate(sets).tolist()) == list(range(8))
    assert len(channel_groups(spread, 1)) == 1


@pytest.mark.parametrize("group", [1, 8])
def test_channel_groups_compile_bit_exact_and_help(tmp_path: Path, group: int) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(_folded_bn_conv(group), path)
    (one,) = [float(op.attr("w_scale")) for op in run_to("qgraph", path, weight_groups=1)
              .walk() if op.name == "qgraph.conv"]
    scales = [float(op.attr("w_scale")) for op in run_to("qgraph", path, weight_groups=4)
              .walk() if op.name == "qgraph.conv"]
    # small channels get their own, much finer, scale; the largest keep the layer's
    assert 1 < len(scales) <= 4 and max(scales) == pytest.approx(one)
    assert min(scales) < one / 10
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate",
                 "--weight-groups", "4"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["bit_exact"] is True and report["sqnr_db"] > 20


def test_calib_batch_is_cut_into_samples(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(_folded_bn_conv(1), path)
    func = next(op for op in run_to("graph", path).walk() if isinstance(op, FuncOp))
    batch = R.standard_normal((5, 8, 6, 6)).astype(np.float32)
    np.savez(tmp_path / "c.npz", x=batch)
    samples = load_calibration(tmp_path / "c.npz", func)
    assert len(samples) == 5 and samples[2][0].shape == (1, 8, 6, 6)
    np.testing.assert_array_equal(samples[2][0][0], batch[2])
    np.savez(tmp_path / "bad.npz", x=batch[:, :3])
    with pytest.raises(PassError, match="'x' has shape"):
        load_calibration(tmp_path / "bad.npz", func)
    out = tmp_path / "out"
    assert main([str(path), "-o", str(out), "--validate", "--calib", str(tmp_path / "c.npz"),
                 "--calib-method", "mse"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["bit_exact"] is True and "--calib samples (5" in report["sqnr_input"]


def test_mse_clips_outliers_but_not_uniform_values() -> None:
    uniform = np.random.default_rng(0).uniform(0, 1, 10000)
    assert mse_amax(uniform) > 0.9
    normal = np.abs(np.random.default_rng(0).standard_normal(100000))
    assert 2.0 < mse_amax(normal) < normal.max()
    assert mse_amax(np.zeros(4)) == 0.0


def test_bias_correction_removes_the_weight_rounding_shift(tmp_path: Path) -> None:
    """A 1x1 conv over positive inputs: rounding its weights shifts every output channel's
    mean; --bias-correction takes that shift out of the bias."""

    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.3, (16, 32, 1, 1)).astype(np.float32)
    path = tmp_path / "m.onnx"
    onnx.save(single_node_model("Conv", {"x": (1, 32, 8, 8)}, None, {}, {"w": w}), path)
    np.savez(tmp_path / "c.npz", x=np.abs(rng.standard_normal((16, 32, 8, 8))).astype(
        np.float32) + 1)
    x = np.abs(rng.standard_normal((1, 32, 8, 8))).astype(np.float32) + 1
    want = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    shift = []
    for corrected in (False, True):
        module = quantize_stage(prepare_stage(import_stage(path)), str(tmp_path / "c.npz"),
                                bias_correction=corrected)
        err = run_reference(module, [x])[0] - want
        shift.append(float(np.abs(err.mean(axis=(0, 2, 3))).mean()))
    assert shift[1] < shift[0] / 3
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate", "--calib",
                 str(tmp_path / "c.npz"), "--bias-correction"]) == 0


def test_equalize_keeps_the_function_and_evens_out_channels(tmp_path: Path) -> None:
    """1x1 conv with BN-like channel spread -> ReLU -> depthwise 3x3: after equalisation
    the fp32 function is the same, the int8 one closer to it, and it is bit-exact."""

    rng = np.random.default_rng(5)
    spread = np.geomspace(0.02, 3.0, 8)
    w1 = rng.normal(0, 0.3, (8, 4, 1, 1)) * spread[:, None, None, None]
    w2 = rng.normal(0, 0.3, (8, 1, 3, 3)) / spread[:, None, None, None]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["a"]),
             helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("Conv", ["r", "w2"], ["y"], group=8, pads=[1] * 4)]
    inits = [numpy_helper.from_array(v.astype(np.float32), n)
             for n, v in (("w1", w1), ("b1", 0.1 * spread), ("w2", w2))]
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 6, 6])],
                              inits)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    x = [rng.standard_normal((1, 4, 6, 6)).astype(np.float32)]
    module = prepare_stage(run_to("graph", path))
    before = evaluate_func(module.regions[0].ops[0], x, 17)[0]
    run_pass(Equalize(), module)
    after = evaluate_func(module.regions[0].ops[0], x, 17)[0]
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-5)
    plain, equal = (onnx_sqnr(path, run_to("qgraph", path, equalize=e), x) for e in (0, 1))
    assert equal > plain + 3
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
