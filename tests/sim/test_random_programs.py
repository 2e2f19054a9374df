"""Random matmul and conv programs (WS and OS, edge tiles, several array sizes) against
numpy, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.ir.target import Target
from dlac.sim.simulator import Simulator
from sim_reference import conv as ref_conv
from sim_reference import matmul as ref_matmul

TARGETS = [Target(), Target(dim=4, sp_kib=16, acc_kib=8), Target(dim=8, sp_kib=32, acc_kib=16),
           Target(dim=32, sp_kib=256, acc_kib=128)]


def _rand(rng: np.random.Generator, shape: tuple[int, ...], lo: int = -128,
          hi: int = 128) -> np.ndarray:
    return rng.integers(lo, hi, shape).astype(np.int8)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dataflow", ["WS", "OS"])
def test_random_matmul(seed: int, dataflow: str) -> None:
    rng = np.random.default_rng(seed)
    target = TARGETS[seed % len(TARGETS)]
    sim = Simulator(target)
    I, J, K = (int(x) for x in rng.integers(1, 5 * target.dim, 3))  # noqa: E741, N806
    A, B = _rand(rng, (I, K)), _rand(rng, (K, J))  # noqa: N806
    D = rng.integers(-5000, 5000, (I, J)).astype(np.int32) if seed % 2 else None  # noqa: N806
    scale = float(rng.choice([1 / 64, 1 / 300, 0.37]))
    relu = bool(seed % 3 == 0)
    full_C = seed % 4 == 1  # noqa: N806
    tiles = None
    if seed % 3 == 1:
        tiles = tuple(int(rng.integers(1, -(-n // target.dim) + 1)) for n in (I, J, K))
        if dataflow == "WS":
            tiles = (min(tiles[0], 2), min(tiles[1], 2), min(tiles[2], 2))
    got = sim.matmul(A, B, D, act=int(relu), scale=scale, full_C=full_C, dataflow=dataflow,
                     tiles=tiles)
    os_k = None
    if dataflow == "OS":
        os_k = (tiles or sim.matmul_tiles(I, J, K, "OS"))[2] * target.dim
    want = ref_matmul(A, B, D, scale=scale, relu=relu, full_C=full_C, os_tile_k=os_k)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(3))
def test_matmul_repeating_bias_low_d_and_transposes(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    sim = Simulator()
    I, J, K = 37, 45, 70  # noqa: E741, N806
    A, B = _rand(rng, (I, K)), _rand(rng, (K, J))  # noqa: N806
    bias = rng.integers(-3000, 3000, (1, J)).astype(np.int32)
    got = sim.matmul(A, B, bias, repeating_bias=True, scale=1 / 128)
    np.testing.assert_array_equal(got, ref_matmul(A, B, bias, scale=1 / 128))
    low = _rand(rng, (I, J))
    got = sim.matmul(A, B, low, scale=1 / 100)
    np.testing.assert_array_equal(got, ref_matmul(A, B, low, scale=1 / 100))
    got = sim.matmul(np.ascontiguousarray(A.T), B, transpose_A=True, full_C=True)
    np.testing.assert_array_equal(got, ref_matmul(A, B, full_C=True))
    got = sim.matmul(A, np.ascontiguousarray(B.T), transpose_B=True, full_C=True)
    np.testing.assert_array_equal(got, ref_matmul(A, B, full_C=True))


@pytest.mark.parametrize("seed", range(8))
def test_random_conv(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    target = TARGETS[seed % len(TARGETS)]
    sim = Simulator(target)
    n = int(rng.integers(1, 3))
    h = int(rng.integers(3, 12))
    cin = int(rng.integers(1, 2 * target.dim + 3))
    cout = int(rng.integers(1, 2 * target.dim + 3))
    k = int(rng.choice([1, 2, 3]))
    stride = int(rng.choice([1, 2]))
    padding = int(rng.integers(0, k))
    if h + 2 * padding < k:
        h = k
    x, w = _rand(rng, (n, h, h + 1, cin)), _rand(rng, (k, k, cin, cout))
    bias = rng.integers(-2000, 2000, cout).astype(np.int32) if seed % 2 else None
    scale = 1 / float(rng.choice([64, 200, 1000]))
    relu = seed % 3 == 0
    tiles = None
    if seed % 4 == 3:
        tiles = (1, 2, 3, min(cout, target.dim), 1, k, min(cin, target.dim + 1))
    got = sim.conv(x, w, bias, stride=stride, padding=padding, act=int(relu), scale=scale,
                   tiles=tiles)
    want = ref_conv(x, w, bias, stride=stride, padding=padding, scale=scale, relu=relu)
    np.testing.assert_array_equal(got, want)


def test_resadd_and_global_average() -> None:
    rng = np.random.default_rng(5)
    sim = Simulator()
    a, b = _rand(rng, (40, 70)), _rand(rng, (40, 70))
    got = sim.resadd(a, b, a_scale=0.5, b_scale=1.0, c_scale=0.75, relu=True)
    sa = np.clip(np.rint(a.astype(np.float32) * np.float32(0.5)), -128, 127)
    tot = (sa + b).astype(np.float32) * np.float32(0.75)
    want = np.maximum(np.clip(np.rint(tot), -128, 127), 0).astype(np.int8)
    np.testing.assert_array_equal(got, want)
    x = _rand(rng, (2, 5, 5, 40))
    got = sim.global_average(x)
    s = x.astype(np.int32).sum(axis=(1, 2)).astype(np.float32) * np.float32(1 / 25)
    np.testing.assert_array_equal(got, np.clip(np.rint(s), -128, 127).astype(np.int8))


def test_timing_only_gives_identical_cycles() -> None:
    rng = np.random.default_rng(9)
    A, B = _rand(rng, (70, 90)), _rand(rng, (90, 50))  # noqa: N806
    x, w = _rand(rng, (1, 9, 9, 20)), _rand(rng, (3, 3, 20, 24))
    cycles = []
    for timing_only in (False, True):
        sim = Simulator(timing_only=timing_only)
        sim.matmul(A, B, scale=0.01)
        sim.matmul(A, B, dataflow="OS", scale=0.01)
        sim.conv(x, w, None, padding=1, scale=0.01)
        cycles.append((sim.stats.cycles, sim.stats.energy_pj, sim.stats.counters))
    assert cycles[0] == cycles[1]


def test_explicit_loop_permutations() -> None:
    """dlac's perm variants: Gemmini's own order is bit-exact; other orders only reorder."""
    rng = np.random.default_rng(11)
    sim = Simulator()
    A, B = _rand(rng, (70, 90)), _rand(rng, (90, 50))  # noqa: N806
    want = ref_matmul(A, B, full_C=True)
    for perm in ("IJK", "JIK"):
        got = sim.matmul(A, B, full_C=True, tiles=(2, 1, 2), perm=perm)
        np.testing.assert_array_equal(got, want)
    x, w = _rand(rng, (1, 8, 8, 20)), _rand(rng, (3, 3, 20, 24))
    want = ref_conv(x, w, None, padding=1, scale=0.01)
    got = sim.conv(x, w, None, padding=1, scale=0.01, tiles=(1, 3, 4, 16, 3, 3, 20),
                   perm="NQPKSRC")
    np.testing.assert_array_equal(got, want)
    with pytest.raises(Exception, match="permutation"):
        sim.conv(x, w, None, padding=1, perm="NQPKSRX")
