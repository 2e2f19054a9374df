"""Gemmini C programs compiled with the host compiler against the simulator header."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dlac.ir.target import Target
from dlac.sim.build import (
    CSRC_DIR,
    EXT_DIR,
    INCLUDE_DIR,
    compile_program,
    core_sources,
    run_program,
)
from dlac.tools.sim_main import main

PROGRAMS = Path(__file__).parent / "programs"


def test_matmul_512_tiled_matmul_auto_is_bit_exact(tmp_path: Path) -> None:
    binary = compile_program([PROGRAMS / "matmul_512.c"], Target(), tmp_path)
    result = run_program(binary, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout
    assert result.cycles and result.cycles > 512**3 / 256
    assert result.counters["loop_ws"] > 0
    assert result.energy_pj and result.energy_pj > 0


def test_default_headers_compile_with_plain_cc(tmp_path: Path) -> None:
    """The committed default headers (and the shared tile loops) are enough for
    `cc -Wall -Werror`."""
    binary = tmp_path / "m512"
    subprocess.run(["cc", "-O2", "-Wall", "-Werror", "-ffp-contract=off", f"-I{INCLUDE_DIR}",
                    f"-I{INCLUDE_DIR / 'default'}", f"-I{EXT_DIR}", str(PROGRAMS / "matmul_512.c"),
                    *map(str, core_sources()), "-lm", "-o", str(binary)], check=True)
    out = subprocess.run([str(binary)], capture_output=True, text=True, check=True)
    assert "PASS" in out.stdout
    assert CSRC_DIR.exists()


def test_hardware_assertion_exits_with_one_line(tmp_path: Path) -> None:
    src = tmp_path / "bad.c"
    src.write_text('#include "gemmini.h"\n'
                   "static elem_t buf[32][DIM];\n"
                   "int main(void) {\n"
                   "    gemmini_config_ld(DIM);\n"
                   "    gemmini_extended_mvin(buf, 0, DIM, DIM + 1);\n"
                   "    return 0;\n}\n")
    result = run_program(compile_program([src], Target(), tmp_path))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == "gemmini-sim: instruction 1: mvin rows 17 > DIM 16"


def test_other_target_and_conv_program(tmp_path: Path) -> None:
    target = Target(dim=8, sp_kib=32, acc_kib=16)
    result = run_program(compile_program([PROGRAMS / "conv_small.c"], target, tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "PASS"
    assert result.counters["loop_conv_ws"] > 0


def test_dlac_sim_run_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(PROGRAMS / "conv_small.c")]) == 0
    captured = capsys.readouterr()
    assert "PASS" in captured.out and '"cycles"' in captured.err
