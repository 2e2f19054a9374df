"""The Spike runner: a Gemmini matmul through Gemmini's own header on Spike + libgemmini.

Needs the cache that `python -m dlac.tools.setup_spike` fills; skips with the reason otherwise.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from dlac.flow import spike
from dlac.flow import spike_cache as sc
from dlac.ir.gemmini_params import render_params_header
from dlac.ir.target import Target
from dlac.tools.dlac_main import main

MATMUL = r"""
#include <stdio.h>
#include "include/gemmini.h"
static elem_t A[DIM][DIM], B[DIM][DIM], C[DIM][DIM];
int main(void) {
  for (int i = 0; i < DIM; i++)
    for (int j = 0; j < DIM; j++) { A[i][j] = (elem_t)(i + j); B[i][j] = (elem_t)(i == j); }
  tiled_matmul_auto(DIM, DIM, DIM, (elem_t *)A, (elem_t *)B, NULL, (elem_t *)C, DIM, DIM, DIM,
                    DIM, 1, 1, 1, NO_ACTIVATION, 1, 0, false, false, false, false, false, 3, WS);
  printf("%d\n", C[3][4]);
  return C[3][4] != 7;
}
"""


def _need_cache() -> None:
    try:
        spike.require_cache()
    except spike.SpikeError as err:
        pytest.skip(str(err))


@pytest.mark.parametrize("preset", ["default", "small"])
def test_matmul_on_spike(tmp_path: Path, preset: str) -> None:
    _need_cache()
    params = render_params_header(Target.parse(preset))
    src = tmp_path / "matmul.c"
    src.write_text(MATMUL)
    binary = spike.cross_compile([src], spike.gemmini_include(params), tmp_path / "matmul.elf",
                                 ("-Wall",))
    result = spike.run(binary, spike.libgemmini(params), timeout=60)
    assert (result.returncode, result.output.strip()) == (0, "7")
    assert result.instructions > 1000


def test_missing_cache_names_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLAC_CACHE", str(tmp_path))
    with pytest.raises(spike.SpikeError, match="setup_spike"):
        spike.require_cache()


def test_trap_is_one_line(tmp_path: Path) -> None:
    _need_cache()
    params = render_params_header(Target())
    src = tmp_path / "trap.c"
    src.write_text("int main(void) { return *(volatile int *)0x10; }\n")
    binary = spike.cross_compile([src], spike.gemmini_include(params), tmp_path / "trap.elf")
    with pytest.raises(spike.SpikeError, match="trap"):
        spike.run(binary, spike.libgemmini(params), timeout=10)


def test_cache_layout_is_pinned() -> None:
    assert sc.libgemmini_src().parent == sc.cache_root() / "src"


def test_validate_spike_cli(tmp_path: Path) -> None:
    """`dlac zoo:tiny_cnn -o DIR --validate spike`, then `make spike` in DIR."""
    _need_cache()
    out = tmp_path / "out"
    assert main(["zoo:tiny_cnn", "-o", str(out), "--validate", "spike"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["spike_bit_exact"] and report["spike_instructions"] > 0
    done = subprocess.run(["make", "-s", "spike"], cwd=out, capture_output=True, text=True)
    assert done.returncode == 0 and "bit-exact" in done.stdout
