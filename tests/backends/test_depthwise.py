"""Depthwise convs run as block-diagonal dense convs over channel groups, bit-exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import compile_model, depthwise_net
from dlac.flow.emit import emit
from dlac.flow.validate import validate
from dlac.ir.dialects import gemmini
from dlac.ir.semantics.qgraph import run_reference
from dlac.ir.target import Target


def _point(tmp_path: Path, tiles: list[int], perm: str) -> str:
    """A design point giving the depthwise kernel an explicit NGPQRS mapping."""
    path = tmp_path / "point.json"
    path.write_text(json.dumps({"kernels": {"conv_0": {
        "dims": "NGPQRS", "tiles": tiles, "perm": perm, "dataflow": "WS",
        "double_buffer": True}}}))
    return f"materialize{{point={path}}}"


# (channels, stride, dilation, pipeline or a point's (tiles, perm), expected group width);
# 40 channels in groups of 16 leave a last group of 8.
CASES = {
    "g40-auto": (40, 1, 1, "", 16),
    "g40-heuristic": (40, 1, 1, "materialize", 16),
    "g40-mapped": (40, 1, 1, ([1, 24, 5, 4, 3, 3], "GNQPSR"), 16),
    "g40-narrow-tile": (40, 2, 1, ([1, 8, 3, 5, 2, 3], "NQPGSR"), 8),
    "g8-auto": (8, 1, 1, "", 8),
    "g8-mapped": (8, 1, 1, ([1, 8, 9, 2, 1, 3], "SNGQPR"), 8),
    "g40-dilated": (40, 1, 2, "materialize{mapper=random seed=3}", None),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_depthwise_groups_are_bit_exact(onnx_file, tmp_path: Path, case: str) -> None:
    channels, stride, dilation, how, width = CASES[case]
    pipeline = how if isinstance(how, str) else _point(tmp_path, *how)
    quantized, lowered = compile_model(onnx_file(depthwise_net(channels, stride, dilation)),
                                       pipeline)
    [conv] = [op for op in lowered.walk() if isinstance(op, gemmini.TiledConvOp)]
    geometry = dict(conv.attr("geometry"))
    assert conv.attr("block_diagonal") and geometry["channels"] == channels
    if width is not None:
        assert geometry["in_channels"] == geometry["out_channels"] == width
    assert (conv.attr("tiles") is None) == (pipeline == "")
    depthwise_weights = [op for op in lowered.walk() if op.name == "loop.constant"
                         and op.results[0].type.shape == (3, 3, 1, channels)]
    assert not depthwise_weights

    x = np.random.default_rng(1).normal(0, 1, (1, channels, 9, 9)).astype(np.float32)
    target = Target()
    emitted = emit(lowered, target, tmp_path / "out", "dw")
    report = validate(emitted, lowered, run_reference(quantized, [x]), [x], target,
                      tmp_path / "build")
    assert report.bit_exact, report.outputs
    layers = [s for s in report.steps if s["kind"] == "tiled_conv"]
    assert [s["name"] for s in layers] == ["layer_conv_dw"]
    out = (9 - 1) // stride + 1
    assert report.macs == out * out * channels * 9
