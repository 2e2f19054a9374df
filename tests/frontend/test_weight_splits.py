"""`--weight-splits N`: runs of consecutive output channels with their own weight scale,
one Gemmini call each, bit-exact and no host regrouping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from dlac.flow.stages import run_to
from dlac.ir.diagnostics import DiagnosticError
from dlac.passes.channel_groups import contiguous_splits
from dlac.tools.dlac_main import main
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
