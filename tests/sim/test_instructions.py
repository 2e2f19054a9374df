"""Per-instruction unit tests against hand-computed results."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.ir.target import Target
from dlac.sim import isa
from dlac.sim.simulator import Simulator

DIM = 4


@pytest.fixture
def sim() -> Simulator:
    # A 4x4 array keeps hand-computed matrices small.
    return Simulator(Target(dim=4, sp_kib=16, acc_kib=8))


def test_mvin_mvout_roundtrip_and_stride(sim: Simulator) -> None:
    src = sim.dram(np.arange(32, dtype=np.int8).reshape(4, 8))
    out = sim.alloc((4, 4), np.int8)
    sim.run([isa.config_ld(16), isa.config_st(4), isa.mvin(sim.addr(src), 0, 4, 2),
             isa.mvout(sim.addr(out), 0, 4, 2)])
    # stride 16 bytes = two rows of the 4x8 source per step
    assert out[:2].tolist() == [[0, 1, 2, 3], [16, 17, 18, 19]]
    assert out[2:].tolist() == [[0] * 4] * 2


def test_mvin_zero_address_writes_zeros(sim: Simulator) -> None:
    src = sim.dram(np.full((4, 4), 5, np.int8))
    sim.run([isa.config_ld(4), isa.mvin(sim.addr(src), 8, 4, 4), isa.mvin(0, 8, 4, 2)])
    assert sim.spad_row(8).tolist() == [0, 0, 0, 0]
    assert sim.spad_row(10).tolist() == [5, 5, 5, 5]


def test_mvin_stride_zero_broadcasts_row(sim: Simulator) -> None:
    src = sim.dram(np.array([1, -2, 3, -4], np.int32))
    sim.run([isa.config_ld(0, which=2), isa.mvin(sim.addr(src), isa.acc_addr(0), 4, 3, which=2)])
    for r in range(3):
        assert sim.acc_row(r).tolist() == [1, -2, 3, -4]


def test_block_mvin_uses_block_stride(sim: Simulator) -> None:
    src = sim.dram(np.arange(16, dtype=np.int8).reshape(2, 8))
    sim.run([isa.config_ld(8, block_stride=10), isa.mvin(sim.addr(src), 0, 8, 2)])
    assert sim.spad_row(1).tolist() == [8, 9, 10, 11]
    assert sim.spad_row(10).tolist() == [4, 5, 6, 7]
    assert sim.spad_row(11).tolist() == [12, 13, 14, 15]


def test_mvin_scale_rounds_half_even_and_saturates(sim: Simulator) -> None:
    src = sim.dram(np.array([1, 3, 5, 100], np.int8))
    sim.run([isa.config_ld(4, scale=0.5), isa.mvin(sim.addr(src), 0, 4, 1)])
    assert sim.spad_row(0).tolist() == [0, 2, 2, 50]
    sim.run([isa.config_ld(4, scale=2.0), isa.mvin(sim.addr(src), 1, 4, 1)])
    assert sim.spad_row(1).tolist() == [2, 6, 10, 127]


def test_shrunk_accumulating_mvin(sim: Simulator) -> None:
    src = sim.dram(np.array([-1, 2, -3, 4], np.int8))
    sim.run([isa.config_ld(4, shrunk=True), isa.mvin(sim.addr(src), isa.acc_addr(0), 4, 1),
             isa.mvin(sim.addr(src), isa.acc_addr(0, accumulate=True), 4, 1)])
    assert sim.acc_row(0).tolist() == [-2, 4, -6, 8]


def test_mvout_scale_relu_and_full_width(sim: Simulator) -> None:
    src = sim.dram(np.array([[5, -7, 300, 6], [2, 3, -1000, 1]], np.int32))
    small = sim.alloc((2, 4), np.int8)
    full = sim.alloc((2, 4), np.int32)
    sim.run([isa.config_ld(16, which=2), isa.mvin(sim.addr(src), isa.acc_addr(0), 4, 2, which=2),
             isa.config_st(4, act=isa.RELU, scale=0.5),
             isa.mvout(sim.addr(small), isa.acc_addr(0), 4, 2),
             isa.config_st(16), isa.mvout(sim.addr(full), isa.acc_addr(0, full=True), 4, 2)])
    # 2.5 -> 2, -3.5 -> -4 -> ReLU 0, 150 -> 127, 3 ; 1, 1.5 -> 2, -500 -> 0, 0.5 -> 0
    assert small.tolist() == [[2, 0, 127, 3], [1, 2, 0, 0]]
    assert full.tolist() == src.tolist()


def _load(sim: Simulator, mat: np.ndarray, row: int) -> None:
    buf = sim.dram(mat.astype(np.int8))
    sim.run([isa.config_ld(mat.shape[1]), isa.mvin(sim.addr(buf), row, mat.shape[1], mat.shape[0])])


A = np.array([[1, 2, 0, -1], [0, 1, 3, 2], [2, -2, 1, 0], [1, 1, 1, 1]])
B = np.array([[1, 0, 2, 1], [0, 1, -1, 2], [3, 1, 0, 0], [-1, 2, 1, 1]])


def test_ws_preload_compute_into_accumulator(sim: Simulator) -> None:
    _load(sim, A, 0)
    _load(sim, B, 4)
    sim.run([isa.config_ex(isa.WS), isa.preload(4, isa.acc_addr(0), 4, 4, 4, 4),
             isa.compute(0, isa.GARBAGE, 4, 4, 4, 4, preloaded=True)])
    expect = A @ B
    for r in range(4):
        assert sim.acc_row(r).tolist() == expect[r].tolist()
    # compute_accumulated keeps the weights; accumulate bit adds onto the result
    sim.run([isa.preload(isa.GARBAGE, isa.acc_addr(0, accumulate=True), 4, 4, 4, 4),
             isa.compute(0, isa.GARBAGE, 4, 4, 4, 4, preloaded=False)])
    for r in range(4):
        assert sim.acc_row(r).tolist() == (2 * expect[r]).tolist()


def test_ws_partial_rows_and_d_operand(sim: Simulator) -> None:
    _load(sim, A, 0)
    _load(sim, B, 4)
    _load(sim, np.ones((4, 4)), 8)
    sim.run([isa.config_ex(isa.WS), isa.preload(4, isa.acc_addr(4), 4, 2, 3, 2),
             isa.compute(0, 8, 2, 2, 4, 4, preloaded=True)])
    expect = A[:2, :2] @ B[:2, :] + 1
    assert sim.acc_row(4).tolist()[:3] == expect[0, :3].tolist()
    assert sim.acc_row(5).tolist()[:3] == expect[1, :3].tolist()
    assert sim.acc_row(6).tolist() == [0, 0, 0, 0]


def test_ws_b_transpose_and_scratchpad_output_relu(sim: Simulator) -> None:
    _load(sim, A, 0)
    _load(sim, B, 4)
    sim.run([isa.config_ex(isa.WS, act=isa.RELU, b_transpose=True),
             isa.preload(4, 12, 4, 4, 4, 4),
             isa.compute(0, isa.GARBAGE, 4, 4, 4, 4, preloaded=True)])
    expect = np.maximum(A @ B.T, 0)
    for r in range(4):
        assert sim.spad_row(12 + r).tolist() == expect[r].tolist()


def test_os_preload_d_shift_and_accumulate(sim: Simulator) -> None:
    _load(sim, A, 0)
    _load(sim, B, 4)
    _load(sim, np.full((4, 4), 3), 8)
    sim.run([isa.config_ex(isa.OS, shift=1),
             isa.preload(8, isa.GARBAGE, 4, 4, 4, 4), isa.compute(0, 4, 4, 4, 4, 4, preloaded=True),
             isa.preload(isa.GARBAGE, isa.acc_addr(0), 4, 4, 4, 4),
             isa.compute(0, 4, 4, 4, 4, 4, preloaded=False)])
    total = 2 * (A @ B) + 3
    # round-half-even shift by 1
    expect = np.where((total & 1) == 1, (total >> 1) + ((total >> 1) & 1), total >> 1)
    for r in range(4):
        assert sim.acc_row(r).tolist() == expect[r].tolist()


def test_os_output_saturates_to_20_bits(sim: Simulator) -> None:
    big = np.full((4, 4), 127)
    _load(sim, big, 0)
    _load(sim, big, 4)
    prog = [isa.config_ex(isa.OS), isa.preload(isa.GARBAGE, isa.GARBAGE, 4, 4, 4, 4),
            isa.compute(0, 4, 4, 4, 4, 4, preloaded=True)]
    for _ in range(10):
        prog += [isa.preload(isa.GARBAGE, isa.GARBAGE, 4, 4, 4, 4),
                 isa.compute(0, 4, 4, 4, 4, 4, preloaded=False)]
    prog += [isa.preload(isa.GARBAGE, isa.acc_addr(0), 4, 4, 4, 4),
             isa.compute(0, 4, 4, 4, 4, 4, preloaded=False)]
    sim.run(prog)
    assert 12 * 4 * 127 * 127 > (1 << 19)
    assert sim.acc_row(0).tolist() == [(1 << 19) - 1] * 4


def test_garbage_c_discards_result(sim: Simulator) -> None:
    _load(sim, A, 0)
    _load(sim, B, 4)
    sim.run([isa.config_ex(isa.WS), isa.preload(4, isa.GARBAGE, 4, 4, 4, 4),
             isa.compute(0, isa.GARBAGE, 4, 4, 4, 4, preloaded=True)])
    assert sim.acc_row(0).tolist() == [0, 0, 0, 0]


def test_loop_ws_matches_matmul(sim: Simulator) -> None:
    rng = np.random.default_rng(1)
    a = sim.dram(rng.integers(-128, 128, (6, 10), dtype=np.int8))
    b = sim.dram(rng.integers(-128, 128, (10, 7), dtype=np.int8))
    c = sim.alloc((6, 7), np.int32)
    sim.run([isa.config_ex(isa.WS), isa.config_st(7 * 4), isa.config_ld(10, which=0),
             isa.config_ld(7, which=1),
             *isa.loop_ws(2, 2, 3, 2, 1, 2, sim.addr(a), sim.addr(b), 0, sim.addr(c), 10, 7, 0, 7,
                          full_C=True)])
    sim.fence()
    assert (c == a.astype(np.int32) @ b.astype(np.int32)).all()


def test_fence_and_flush_are_accepted(sim: Simulator) -> None:
    sim.run([(isa.FLUSH, 0, 0), (isa.FENCE, 0, 0)])
    assert sim.stats.counters["flush"] == 1
    assert sim.stats.counters["fence"] == 1
