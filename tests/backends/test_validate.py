"""Emitted C is bit-exact with the quantized reference on the bundled simulator."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import HOSTILE, compile_model, residual_net, tiny_cnn
from dlac.backends.errors import BackendError
from dlac.flow.emit import emit
from dlac.flow.validate import validate
from dlac.ir.semantics.qgraph import run_reference
from dlac.ir.target import Target

TARGETS = [Target(), Target(dim=8, sp_kib=64, acc_kib=16), Target(dim=32, sp_kib=512, acc_kib=128)]


def _check(path: Path, tmp_path: Path, target: Target, pipeline: str = "", seed: int = 0):
    quantized, lowered = compile_model(path, pipeline)
    shape = quantized.regions[0].ops[0].args[0].type.shape
    x = np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32)
    emitted = emit(lowered, target, tmp_path / "out", "test")
    report = validate(emitted, lowered, run_reference(quantized, [x]), [x], target,
                      tmp_path / "build")
    assert report.bit_exact, report.outputs
    assert report.cycles > 0 and report.energy_pj > 0
    return report


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_tiny_cnn_bit_exact_on_three_configs(onnx_file, tmp_path: Path, target: Target) -> None:
    _check(onnx_file(tiny_cnn()), tmp_path, target)


@pytest.mark.parametrize("pipeline", ["materialize", "materialize{mapper=analytical-best}",
                                      "materialize{mapper=random seed=1}",
                                      "materialize{mapper=random seed=2}"])
def test_mapped_kernels_stay_bit_exact(onnx_file, tmp_path: Path, pipeline: str) -> None:
    _check(onnx_file(tiny_cnn()), tmp_path, Target(), pipeline)


def test_residual_softmax_net(onnx_file, tmp_path: Path) -> None:
    for target in TARGETS[:2]:
        _check(onnx_file(residual_net()), tmp_path, target, seed=3)


def test_hostile_names_compile_and_run(onnx_file, tmp_path: Path) -> None:
    names = {"x": HOSTILE + "in", "c": HOSTILE, "conv1": "*/ exit(3); /*", "y": 'out"\n',
             "fc": "fc\\", "W": "int", "p": "main"}
    _check(onnx_file(tiny_cnn(names)), tmp_path, Target())
    code = re.sub(r"/\*.*?\*/", "", (tmp_path / "out" / "model.c").read_text(), flags=re.S)
    assert "exit(3)" not in code and "return 1;}" not in code


def test_emit_failure_leaves_output_untouched(onnx_file, tmp_path: Path) -> None:
    _, lowered = compile_model(onnx_file(tiny_cnn()))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    host = next(op for op in lowered.walk() if op.name == "loop.host")
    host.set_attr("kind", "mystery")
    with pytest.raises(BackendError, match="mystery"):
        emit(lowered, Target(), out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dlac-emit")]


@pytest.mark.skipif(shutil.which("riscv64-unknown-elf-gcc") is None,
                    reason="riscv64-unknown-elf-gcc is not installed (.ci/run installs it)")
def test_emitted_sources_cross_compile_for_riscv(onnx_file, tmp_path: Path) -> None:
    _, lowered = compile_model(onnx_file(residual_net()))
    emit(lowered, Target(), tmp_path / "out", "test")
    proc = subprocess.run(["make", "-C", str(tmp_path / "out"), "riscv"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "out" / "model.o.riscv").stat().st_size > 0


@pytest.mark.parametrize("build_model", [tiny_cnn, residual_net])
def test_emitted_program_is_clean_under_sanitizers(onnx_file, tmp_path: Path,
                                                   build_model) -> None:
    from dlac.sim.build import compile_program, run_program

    quantized, lowered = compile_model(onnx_file(build_model()), "materialize")
    emitted = emit(lowered, Target(), tmp_path / "out", "test")
    out = emitted.out_dir.resolve()
    binary = compile_program([emitted.model_c], Target(), tmp_path / "build",
                             extra_flags=(f"-I{out}", f"-Wa,-I{out}", "-Wextra", "-g",
                                          "-fsanitize=address,undefined",
                                          "-fno-sanitize-recover=all"))
    shape = quantized.regions[0].ops[0].args[0].type.shape
    x = np.random.default_rng(0).normal(0, 1, shape).astype(np.float32)
    (tmp_path / "in.bin").write_bytes(x.tobytes())
    result = run_program(binary, [str(tmp_path / "in.bin"), str(tmp_path / "out.bin")])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "runtime error" not in result.stderr and "AddressSanitizer" not in result.stderr
    got = np.frombuffer((tmp_path / "out.bin").read_bytes(), np.float32)
    assert got.tobytes() == np.asarray(run_reference(quantized, [x])[0], np.float32).tobytes()
