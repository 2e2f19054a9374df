"""Timing-model sanity: monotone in the knobs, independent of data, same results."""

from __future__ import annotations

import numpy as np
from dlac.ir.target import Target
from dlac.sim import isa
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


def _accumulate_chain(rows: int, n: int) -> float:
    """Cycles of n one-block WS computes accumulating `rows` rows into the same C rows."""
    sim = Simulator(Target(dim=16), timing_only=True)
    prog = [isa.config_ex(isa.WS)]
    for i in range(n):
        prog += [isa.preload(0, isa.acc_addr(0, accumulate=i > 0), 16, 16, 16, rows),
                 isa.compute(16, isa.GARBAGE, 16, rows, 16, 16, preloaded=True)]
    sim.run(prog)
    sim.fence()
    return sim.stats.cycles


def test_accumulating_computes_pipeline_instead_of_waiting_for_the_array() -> None:
    # Results reach the accumulator in issue order, so a compute into the rows the previous
    # one is still filling need not wait for it to leave the array: a step costs its
    # preload and compute slots (2 x 16 rows), not those plus the fill latency on top.
    per_step = (_accumulate_chain(1, 65) - _accumulate_chain(1, 1)) / 64
    assert per_step <= 2 * 16


def test_cycles_do_not_depend_on_where_earlier_calls_left_buffers() -> None:
    """A functional run that frees each layer's buffers (so the next layer reuses their
    addresses) and a timing-only run (fresh fake addresses) give the same cycles: each call
    starts from its own L2 and TLB state (timing_mem_reset)."""
    target = Target(dim=16, sp_kib=256, acc_kib=64)
    layers = [(28, 64, 128, 3, 1, 1), (28, 128, 128, 3, 1, 1), (28, 128, 256, 1, 2, 0)]
    shape, data = Simulator(target, timing_only=True), Simulator(target)
    rng = np.random.default_rng(0)
    for hw, cin, cout, k, stride, pad in layers:
        out = (hw + 2 * pad - k) // stride + 1
        shape.conv_shape(1, hw, hw, cin, cout, out, out, k, stride=stride, padding=pad)
        x = rng.integers(-128, 128, (1, hw, hw, cin), dtype=np.int8)
        w = rng.integers(-128, 128, (k, k, cin, cout), dtype=np.int8)
        data.conv(x, w, np.zeros(cout, np.int32), stride=stride, padding=pad, scale=1 / 4096)
        data._buffers.clear()
        assert data.stats.cycles == shape.stats.cycles
