"""dlac-sim against Spike + libgemmini: the same seeded Gemmini kernels, bit for bit.

programs/crosscheck.c prints a hash per kernel (mvin/mvout with strides and scales,
preload/compute in OS and WS with accumulation, tiled_matmul via loop_ws with bias,
activations, scales and operand layouts, tiled_conv via loop_conv_ws with stride, padding,
split kernel tiles, pooling, input and kernel dilation, wrot180 and the four transposes,
resadd, and every function of dlac_gemmini_ext.h: permuted matmul / conv tile orders,
depthwise groups, flat depthwise). Built once against dlac's simulator header and once
against Gemmini's own, with the same extension header, every line must agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dlac.flow import spike
from dlac.ir.gemmini_params import render_params_header
from dlac.ir.target import Target
from dlac.sim.build import EXT_DIR, compile_program, run_program

PROGRAM = Path(__file__).parent / "programs" / "crosscheck.c"


@pytest.mark.parametrize("preset", ["default", "small"])
def test_sim_matches_spike(tmp_path: Path, preset: str) -> None:
    try:
        spike.require_cache()
    except spike.SpikeError as err:
        pytest.skip(str(err))
    target = Target.parse(preset)
    ext = (f"-I{EXT_DIR}",)
    on_sim = run_program(compile_program([PROGRAM], target, tmp_path / "sim", extra_flags=ext))
    assert on_sim.returncode == 0, on_sim.stderr
    params = render_params_header(target)
    binary = spike.cross_compile([PROGRAM], spike.gemmini_include(params),
                                 tmp_path / "crosscheck.elf", extra_flags=ext)
    on_spike = spike.run(binary, spike.libgemmini(params), timeout=120)
    assert on_spike.returncode == 0
    sim_lines = on_sim.stdout.split("\n")
    spike_lines = on_spike.output.split("\n")
    assert len(sim_lines) > 75
    assert sim_lines == spike_lines
