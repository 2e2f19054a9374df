"""Timing-model sanity: monotone in the knobs, independent of data, same results."""

from __future__ import annotations

import numpy as np
from dlac.ir.target import Target
from dlac.sim.simulator import Simulator
from dlac.sim.timing import DEFAULT_TIMING


def _cycles(target: Target = Target(), timing=DEFAULT_TIMING, n: int = 256) -> float:  # noqa: B008
    sim = Simulator(target, timing, timing_only=True)
    sim.matmul_shape(n, n, n)
    return sim.stats.cycles


def test_bigger_problems_take_longer_and_stay_below_peak() -> None:
    small, big = _cycles(n=128), _cycles(n=512)
    assert big > 4 * small
    assert big >= 512**3 / 256  # never faster than DIM*DIM MACs per cycle


def test_memory_latency_and_host_cost_only_add_time() -> None:
    base = _cycles()
    assert _cycles(Target(dram_latency=1000)) >= base
    assert _cycles(timing=DEFAULT_TIMING.replace(host_issue_cycles=200.0)) > base
    assert _cycles(timing=DEFAULT_TIMING.replace(llc_kib=1.0)) >= base


def test_cpu_unrolled_loops_change_time_not_results() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(-128, 128, (100, 80)).astype(np.int8)
    b = rng.integers(-128, 128, (80, 60)).astype(np.int8)
    outs, cycles = [], []
    for on_cpu in (0.0, 1.0):
        sim = Simulator(timing=DEFAULT_TIMING.replace(loops_on_cpu=on_cpu))
        outs.append(sim.matmul(a, b, scale=0.01))
        cycles.append(sim.stats.cycles)
    np.testing.assert_array_equal(outs[0], outs[1])
    assert cycles[1] > cycles[0]


def test_larger_array_is_faster_on_a_large_matmul() -> None:
    assert _cycles(Target(dim=32, sp_kib=512, acc_kib=256), n=1024) < _cycles(n=1024)
