"""The `dlac` command: compile to C, co-design, and its one-line usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dlac.tools.dlac_main import main


def _dlac(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlac.tools.dlac_main", *args],
                          capture_output=True, text=True, timeout=600)


def test_compile_zoo_model_to_validated_c(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["zoo:tiny_cnn", "-o", str(out), "--validate", "--target", "small",
                 "--mapper", "analytical-best"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["bit_exact"] is True
    assert report["cycles"] > 0 and report["energy_pj"] > 0 and report["edp"] > 0
    assert {"model.c", "gemmini_params.h", "Makefile", "dlac_host.h"} <= set(report["files"])
    assert "#define DIM 8" in (out / "gemmini_params.h").read_text()
    assert (out / "inputs.bin").stat().st_size > 0, "make spike needs the check's inputs"
    assert (out / "expected.bin").stat().st_size > 0


def test_emit_gemmini_prints_library_ops(tmp_path: Path) -> None:
    out = tmp_path / "g.mlir"
    assert main(["zoo:tiny_cnn", "--emit", "gemmini", "-o", str(out)]) == 0
    text = out.read_text()
    assert "gemmini.tiled_conv" in text and "loop.kernel" not in text


def test_autotune_two_models_emits_each_bit_exact(tmp_path: Path) -> None:
    out = tmp_path / "at"
    proc = _dlac("zoo:tiny_cnn", "zoo:mlp", "--autotune", "-o", str(out), "--budget", "6",
                 "--db", str(tmp_path / "t.sqlite"), "--no-progress", "--sim-check", "none")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["bit_exact"] is True
    assert set(report["validation"]) == {"tiny_cnn", "mlp"}
    for name in ("tiny_cnn", "mlp"):
        assert (out / name / "model.c").exists()
    assert (out / "report.md").exists() and (out / "best_edp.png").exists()


@pytest.mark.parametrize("args, message", [
    (["zoo:tiny_cnn"], "writing C needs an output directory"),
    (["zoo:tiny_cnn", "zoo:mlp", "--emit", "ir"], "several models are only accepted"),
    (["zoo:nope", "--emit", "graph"], "unknown zoo model 'nope'"),
    (["zoo:tiny_cnn", "-o", "x", "--target", "dim=3"], "array dim must be a power of two"),
    (["zoo:tiny_cnn", "--autotune"], "--autotune needs an output directory"),
])
def test_usage_errors_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "dlac.tools.dlac_main", *args],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.startswith("dlac: error: ") and message in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()


def test_target_that_holds_no_tile_names_layer_and_sizes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    proc = _dlac("zoo:tiny_cnn", "-o", str(out), "--target",
                 "dim=64,sp_kib=32,sp_banks=1,acc_kib=16,acc_banks=1,dataflow=WS")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "no legal mapping for layer" in proc.stderr
    assert "smallest buffers that fit: scratchpad >=" in proc.stderr
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
