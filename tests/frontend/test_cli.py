"""`dlac model.onnx --emit ...`: output goes to stdout or -o FILE and re-parses with dlac-opt."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from dlac.ir.parser import parse_module
from dlac.tools.dlac_main import main
from onnx_builders import conv_chain_model, save


@pytest.mark.parametrize("stage", ["graph", "qgraph", "loops", "ir"])
def test_emit_stage_to_file(stage: str, tmp_path: Path) -> None:
    path = save(conv_chain_model(), tmp_path / "m.onnx")
    out = tmp_path / "m.mlir"
    assert main([str(path), "--emit", stage, "-o", str(out)]) == 0
    text = out.read_text()
    marker = {"graph": "graph.conv", "qgraph": "qgraph.conv"}.get(stage, "loop.kernel")
    assert marker in text
    parse_module(text)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dlac-")] == []


def test_emit_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = save(conv_chain_model(), tmp_path / "m.onnx")
    assert main([str(path), "--emit", "graph"]) == 0
    assert capsys.readouterr().out.startswith("builtin.module")


@pytest.mark.skipif(shutil.which("dlac-opt") is None or shutil.which("dlac") is None,
                    reason="console scripts not installed")
def test_console_scripts_roundtrip(tmp_path: Path) -> None:
    path = save(conv_chain_model(), tmp_path / "m.onnx")
    out = tmp_path / "m.mlir"
    subprocess.run(["dlac", str(path), "--emit", "ir", "-o", str(out)], check=True)
    again = subprocess.run(["dlac-opt", str(out)], check=True, capture_output=True, text=True)
    assert again.stdout == out.read_text()


def test_calib_option(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import numpy as np

    path = save(conv_chain_model(), tmp_path / "m.onnx")
    good, bad = tmp_path / "good.npz", tmp_path / "bad.npz"
    np.savez(good, x=np.full((1, 3, 8, 8), 2.0, np.float32))
    np.savez(bad, wrong=np.zeros((1, 3, 8, 8), np.float32))
    out = tmp_path / "q.mlir"
    assert main([str(path), "--emit", "qgraph", "--calib", str(good), "-o", str(out)]) == 0
    assert "scale = 0.015748031 : f32" in out.read_text()  # 2 / 127
    assert main([str(path), "--emit", "qgraph", "--calib", str(bad)]) == 1
    assert "no array named 'x'" in capsys.readouterr().err
