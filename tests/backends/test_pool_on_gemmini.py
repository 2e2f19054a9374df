"""Max pools fused into their conv's store and global average pools run as matmuls stay
bit-exact with the quantized reference on the bundled simulator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from dlac.flow import spike
from dlac.flow.emit import emit
from dlac.flow.validate import validate
from dlac.ir.semantics.qgraph import run_reference
from dlac.ir.target import Target
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper, numpy_helper

TARGETS = [Target(), Target(dim=8, sp_kib=64, acc_kib=16)]


def pooled_net(batch: int, pool: tuple[int, int, int], seed: int = 0) -> onnx.ModelProto:
    """conv3x3+relu -> maxpool(size, stride, pad) -> conv3x3+relu -> global avg pool -> fc."""
    size, stride, pad = pool
    rng = np.random.default_rng(seed)
    w = lambda *s: rng.normal(0, 0.3, s).astype(np.float32)  # noqa: E731
    inits = [numpy_helper.from_array(w(24, 3, 3, 3), "W1"), numpy_helper.from_array(w(24), "B1"),
             numpy_helper.from_array(w(40, 24, 3, 3), "W2"),
             numpy_helper.from_array(w(10, 40), "W3"), numpy_helper.from_array(w(10), "B3")]
    nodes = [helper.make_node("Conv", ["x", "W1", "B1"], ["c1"], pads=[1] * 4, strides=[2, 2]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p"], kernel_shape=[size] * 2,
                              strides=[stride] * 2, pads=[pad] * 4),
             helper.make_node("Conv", ["p", "W2"], ["c2"], pads=[1] * 4),
             helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "W3", "B3"], ["y"], transB=1)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 38, 38])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 10])
    graph = helper.make_graph(nodes, "pooled", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def _lowered(path: Path, mapper: str, seed: int, target: Target):  # noqa: ANN202
    from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
    from dlac.tools.compile_flow import map_and_lower

    quantized = quantize_stage(prepare_stage(import_stage(path)))
    return quantized, map_and_lower(quantized, target, mapper, seed)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@pytest.mark.parametrize(("batch", "pool", "mapper"), [
    (1, (3, 2, 1), "heuristic"), (2, (2, 2, 0), "heuristic"), (1, (3, 2, 1), "random"),
    (1, (3, 1, 1), "analytical-best")])
def test_pools_on_gemmini_bit_exact(tmp_path: Path, target: Target, batch: int,
                                    pool: tuple[int, int, int], mapper: str) -> None:
    path = tmp_path / "pooled.onnx"
    onnx.save(pooled_net(batch, pool), path)
    quantized, lowered = _lowered(path, mapper, 1, target)
    kinds = [op.attr("kind") for op in lowered.walk() if op.name == "loop.host"]
    assert "qgraph.max_pool" not in kinds and "qgraph.avg_pool" not in kinds
    assert any(op.attr("pool") for op in lowered.walk() if op.name == "gemmini.tiled_conv")
    shape = quantized.regions[0].ops[0].args[0].type.shape
    x = np.random.default_rng(3).normal(0, 1, shape).astype(np.float32)
    emitted = emit(lowered, target, tmp_path / "out", "test")
    report = validate(emitted, lowered, run_reference(quantized, [x]), [x], target,
                      tmp_path / "build")
    assert report.bit_exact, report.outputs


@pytest.mark.parametrize(("batch", "pool"), [(1, (3, 2, 1)), (2, (2, 2, 0))])
def test_pools_on_gemmini_bit_exact_on_spike(tmp_path: Path, batch: int,
                                             pool: tuple[int, int, int]) -> None:
    """Gemmini's own library (Spike + libgemmini) pools and averages the same bytes."""
    try:
        spike.require_cache()
    except spike.SpikeError as err:
        pytest.skip(str(err))
    path = tmp_path / "pooled.onnx"
    onnx.save(pooled_net(batch, pool), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate", "spike"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["spike_bit_exact"] and report["bit_exact"]
