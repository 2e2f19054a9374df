"""Gemmini's default tiling heuristics (gemmini.md section 4 worked examples)."""

from __future__ import annotations

from dlac.ir.target import Target
from dlac.sim.simulator import Simulator


def test_matmul_heuristic_worked_examples() -> None:
    sim = Simulator(Target())
    assert sim.matmul_tiles(512, 512, 512, "WS") == (5, 6, 32)
    assert sim.matmul_tiles(64, 64, 64, "WS") == (4, 4, 4)
    i, j, k = sim.matmul_tiles(512, 512, 512, "OS")
    assert (i * k + k * j) * 16 <= 16384 and i * j * 16 <= 1024


def test_conv_heuristic_fits_half_the_memories() -> None:
    sim = Simulator(Target())
    b, pr, pc, poch, kr, kc, kch = sim.conv_tiles(1, 56, 56, 64, 64, 3)
    irows, icols = pr + 3 - 1, pc + 3 - 1
    spad = -(-kch // 16) * b * irows * icols + -(-poch // 16) * kr * kc * kch
    assert spad <= 8192 and -(-poch // 16) * b * pr * pc <= 512
    assert pc >= 16
