"""Hardware assertions stop the run with the instruction index and the reason."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.sim import isa
from dlac.sim.errors import SimError
from dlac.sim.simulator import Simulator


@pytest.fixture
def sim() -> Simulator:
    return Simulator()


def _expect(sim: Simulator, program: list[tuple[int, int, int]], reason: str, index: int) -> None:
    with pytest.raises(SimError, match=reason) as err:
        sim.run(program)
    assert err.value.index == index
    assert f"instruction {index}:" in str(err.value)


def test_rows_greater_than_dim(sim: Simulator) -> None:
    buf = sim.alloc((17, 16))
    _expect(sim, [isa.config_ld(16), isa.mvin(sim.addr(buf), 0, 16, 17)], r"rows 17 > DIM 16", 1)


def test_scratchpad_address_out_of_range(sim: Simulator) -> None:
    buf = sim.alloc((16, 16))
    _expect(sim, [isa.config_ld(16), isa.mvin(sim.addr(buf), 16380, 16, 16)],
            "out of range: scratchpad", 1)


def test_accumulator_address_out_of_range(sim: Simulator) -> None:
    buf = sim.alloc((16, 16))
    _expect(sim, [isa.mvout(sim.addr(buf), isa.acc_addr(1020), 16, 16)], "accumulator", 0)


def test_block_mvin_too_wide(sim: Simulator) -> None:
    buf = sim.alloc((16, 128))
    _expect(sim, [isa.config_ld(128), isa.mvin(sim.addr(buf), 0, 80, 16)], "cols 80 > 64", 1)


def test_bad_block_stride(sim: Simulator) -> None:
    buf = sim.alloc((16, 64))
    _expect(sim, [isa.config_ld(64, block_stride=8), isa.mvin(sim.addr(buf), 0, 32, 16)],
            "block_stride 8 < rows 16", 1)


def test_illegal_transpose(sim: Simulator) -> None:
    _expect(sim, [isa.config_ex(isa.WS, a_transpose=True, b_transpose=True)],
            "cannot transpose both", 0)


def test_compute_without_preload(sim: Simulator) -> None:
    _expect(sim, [isa.compute(0, isa.GARBAGE, 16, 16, 16, 16, preloaded=True)],
            "without a preceding preload", 0)


def test_loop_ws_that_overflows_half_the_accumulator(sim: Simulator) -> None:
    prog = isa.loop_ws(8, 8, 1, 0, 0, 0, 0x1000, 0x2000, 0, 0x3000, 16, 16, 0, 16)
    _expect(sim, prog, "half the accumulator", 5)


def test_run_stays_stopped_after_an_assertion(sim: Simulator) -> None:
    with pytest.raises(SimError):
        sim.run([isa.config_ex(isa.WS, a_transpose=True, b_transpose=True)])
    with pytest.raises(SimError):
        sim.issue(*isa.config_st(16))


def test_library_rejects_oversized_tiles(sim: Simulator) -> None:
    a = np.zeros((512, 512), np.int8)
    with pytest.raises(SimError, match="do not fit"):
        sim.matmul(a, a, tiles=(32, 32, 32))
