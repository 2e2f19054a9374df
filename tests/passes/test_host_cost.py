"""The host-step cost model: what it counts in a lowered model, its fallbacks for steps no
calibration model had, and the shipped fit's provenance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
from dlac.ir.target import Target
from dlac.passes.host_cost import (
    COEFFICIENTS_FILE,
    HOST_CPI,
    HostModel,
    HostStep,
    host_steps,
    load_host_model,
)
from dlac.tools.compile_flow import host_cost_of, map_and_lower
from onnx import TensorProto, helper, numpy_helper


def _model(tmp_path: Path) -> Path:
    w = numpy_helper.from_array(
        np.random.default_rng(0).standard_normal((16, 8, 3, 3)).astype(np.float32), "W")
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1], name="pool"),
             helper.make_node("HardSwish", ["p"], ["h"], name="hswish"),
             helper.make_node("GlobalAveragePool", ["h"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flat"),
             helper.make_node("Softmax", ["f"], ["y"], axis=-1, name="softmax")]
    graph = helper.make_graph(
        nodes, "host", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])], [w])
    path = tmp_path / "host.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _quantized(tmp_path: Path):  # noqa: ANN202
    return quantize_stage(prepare_stage(import_stage(_model(tmp_path))))


def test_steps_in_program_order(tmp_path: Path) -> None:
    steps = list(host_steps(map_and_lower(_quantized(tmp_path), Target(), "heuristic", 0)))
    kinds = [s.kind for s in steps]
    # the pool pads a conv without ReLU (stays on the CPU); the global average pool runs
    # on Gemmini (avg-pool-to-gemmini)
    assert kinds == ["nest", "qgraph.max_pool", "nest", "gather", "qgraph.softmax", "nest"]
    quantize = steps[0].counts
    assert quantize["loop.quantize"] == quantize["iterations"] == 8 * 16 * 16
    pool = steps[1].counts
    assert pool["outputs"] == 16 * 8 * 8 and pool["padded_window"] == 9 * 16 * 8 * 8
    assert "window" not in pool


def test_cost_is_instructions_times_cpi(tmp_path: Path) -> None:
    cost = host_cost_of(_quantized(tmp_path))
    assert cost.steps == 6 and cost.instructions > 0
    assert cost.cycles == pytest.approx(cost.instructions * HOST_CPI)
    assert cost.energy_pj > 0


def test_unseen_features_fall_back() -> None:
    model = HostModel({"nest:loop.load": 2.0, "nest:call": 1.0},
                      {"op": 5.0, "host:inputs": 3.0, "host:call": 7.0})
    nest = HostStep("nest", {"loop.load": 10, "loop.never_seen": 10}, 0.0)
    assert model.instructions(nest) == 2 * 10 + 5 * 10 + 1
    library = HostStep("qgraph.new_kind", {"inputs": 4}, 0.0)
    assert model.instructions(library) == 3 * 4 + 7


def test_shipped_fit_says_how_it_was_made() -> None:
    data = json.loads(COEFFICIENTS_FILE.read_text())
    assert data["command"].startswith("python -m dlac.tools.calibrate_host")
    assert len(data["models"]) >= 5
    assert data["cross_validation"]["mean_abs_total_error"] < 0.5
    model = load_host_model()
    assert all(v >= 0 for v in model.coefficients.values())
