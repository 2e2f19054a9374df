"""legalize-conv: every conv shape ONNX allows becomes one Gemmini conv (plus host data
movement), with the same int8 result as the conv it replaces, bit-exact in C."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from dlac.flow.stages import import_stage, prepare_stage
from dlac.ir.semantics.graph import evaluate_func
from dlac.ir.semantics.qgraph import run_reference
from dlac.passes.legalize_conv import LegalizeConv
from dlac.passes.quantize import Quantize
from dlac.tools.dlac_main import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "frontend"))
from onnx_builders import single_node_model  # noqa: E402

CASES = {
    "transpose_s2": ("ConvTranspose", (1, 4, 5, 5), (4, 3, 3, 3), {"strides": [2, 2]}),
    "transpose_s21_pads": ("ConvTranspose", (1, 4, 5, 6), (4, 2, 3, 3),
                           {"strides": [2, 1], "pads": [1, 0, 1, 1], "output_padding": [1, 0]}),
    "transpose_wide_pads": ("ConvTranspose", (1, 2, 6, 6), (2, 2, 2, 2),
                            {"strides": [2, 2], "pads": [2, 2, 2, 2]}),
    "transpose_groups": ("ConvTranspose", (1, 4, 4, 4), (4, 2, 3, 3),
                         {"strides": [2, 2], "group": 2}),
    "strides_21": ("Conv", (1, 4, 9, 9), (3, 4, 3, 3), {"strides": [2, 1], "pads": [1, 1, 1, 1]}),
    "strides_23": ("Conv", (1, 4, 13, 13), (3, 4, 3, 3), {"strides": [2, 3]}),
    "asym_pads": ("Conv", (1, 4, 8, 8), (3, 4, 3, 3), {"pads": [1, 0, 2, 1]}),
    "kernel_1x3": ("Conv", (1, 4, 7, 7), (5, 4, 1, 3), {"pads": [0, 1, 0, 1]}),
    "kernel_3x1_dil": ("Conv", (1, 4, 9, 9), (5, 4, 3, 1), {"dilations": [2, 1]}),
    "dilations_12": ("Conv", (1, 3, 9, 9), (4, 3, 3, 3),
                     {"dilations": [1, 2], "pads": [1, 2, 1, 2]}),
    "groups_2": ("Conv", (1, 8, 6, 6), (6, 4, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}),
    "depthwise_x2": ("Conv", (1, 4, 6, 6), (8, 1, 3, 3), {"group": 4}),
}


def _model(case: str) -> onnx.ModelProto:
    op, x, w, attrs = CASES[case]
    rng = np.random.default_rng(0)
    return single_node_model(op, {"x": x}, None, attrs,
                             inits={"w": rng.normal(0, 0.3, w).astype(np.float32)})


@pytest.mark.parametrize("case", sorted(CASES))
def test_legalized_conv_equals_the_original(tmp_path: Path, case: str) -> None:
    path = tmp_path / f"{case}.onnx"
    onnx.save(_model(case), path)
    x = np.random.default_rng(1).standard_normal(CASES[case][1]).astype(np.float32)
    module = prepare_stage(import_stage(path))
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    np.testing.assert_allclose(evaluate_func(module.regions[0].ops[0], [x])[0], want,
                               rtol=1e-4, atol=1e-4)
    Quantize().apply(module)
    before = run_reference(module, [x])[0]
    LegalizeConv().apply(module)
    for op in module.walk():
        if op.name == "qgraph.conv":
            assert len(set(op.attr("strides"))) == 1 and len(set(op.attr("pads"))) == 1
            assert op.attr("input_dilation") is None
            assert op.operands[1].type.shape[0] == op.operands[1].type.shape[1]
    np.testing.assert_array_equal(run_reference(module, [x])[0], before)


@pytest.mark.parametrize("case", ["transpose_s21_pads", "strides_23", "kernel_3x1_dil"])
def test_legalized_conv_is_bit_exact_in_c(tmp_path: Path, case: str) -> None:
    path = tmp_path / f"{case}.onnx"
    onnx.save(_model(case), path)
    assert main([str(path), "-o", str(tmp_path / "out"), "--validate"]) == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["bit_exact"] is True
