"""`--sensitivity N`: the per-layer SQNR-gain ranking names the layer that loses accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
from dlac.passes.quantize import SENSITIVITY
from dlac.tools.dlac_main import main
from onnx import numpy_helper
from onnx_builders import conv_chain_model, save


def _outlier_model(tmp_path: Path) -> Path:
    """conv_chain_model with one weight of conv2 100x the rest: one per-tensor int8 scale
    rounds conv2's other weights to a few levels, so conv2 is the layer to keep exact."""
    model = conv_chain_model(seed=1)
    for init in model.graph.initializer:
        if init.name == "w2":
            w = numpy_helper.to_array(init).copy()
            w[0, 0, 0, 0] = 100 * np.abs(w).max()
            init.CopyFrom(numpy_helper.from_array(w, "w2"))
    return save(model, tmp_path / "m.onnx")


def test_sensitivity_ranks_the_outlier_layer_first(tmp_path: Path) -> None:
    module = quantize_stage(prepare_stage(import_stage(_outlier_model(tmp_path))),
                            sensitivity=3)
    report = module.attr(SENSITIVITY)
    layers = report["layers"]
    assert len(layers) == 3 and layers[0]["node"] == "conv2"
    assert layers[0]["gain_db"] > 1 and layers[0]["gain_db"] >= layers[1]["gain_db"]
    assert np.isfinite(report["sqnr_db"])


def test_sensitivity_goes_to_report_json(tmp_path: Path, capsys: object) -> None:
    out = tmp_path / "out"
    assert main([str(_outlier_model(tmp_path)), "-o", str(out), "--sensitivity", "2"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert [row["node"] for row in report["sensitivity"]["layers"]][0] == "conv2"
    printed = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "conv2" in printed and "noise share" in printed


def test_noise_attribution_names_the_outlier_layer(tmp_path: Path) -> None:
    """One layer rounded at a time: conv2's coarse weights hold most of the noise, and the
    SQNR with conv2 alone rounded is about the whole model's."""
    module = quantize_stage(prepare_stage(import_stage(_outlier_model(tmp_path))),
                            sensitivity=3)
    report = module.attr(SENSITIVITY)
    noise = report["noise"]
    assert len(noise) == 3 and noise[0]["node"] == "conv2" and noise[0]["share"] > 0.5
    assert noise[0]["share"] >= noise[1]["share"]
    assert sum(row["share"] for row in noise) <= 1.0 + 1e-6
    assert abs(noise[0]["alone_db"] - report["sqnr_db"]) < 3
