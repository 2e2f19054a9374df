"""LoopConv's wrapped input loader: a tile with more padding than window rows (gemmini.h's
unclamped pads) costs ~65536 rows of loads on the RTL; dlac's own tile loop clamps."""

from __future__ import annotations

from dlac.ir.target import Target
from dlac.sim.simulator import Simulator

# 7x7 stride 2 padding 3 on a 32x32 image, one output row and one kernel row per tile: the
# first tile's window has 2 rows but 3 rows of padding above it.
SHAPE = dict(n=1, in_rows=32, in_cols=32, cin=3, cout=8, out_rows=16, out_cols=16, kernel=7)
KW = dict(stride=2, padding=3, bias=False, tiles=(1, 1, 16, 8, 1, 7, 3), perm=None)


def _cycles(gemmini_pads: bool) -> float:
    sim = Simulator(Target(dim=8), timing_only=True)
    try:
        sim.conv_shape(*SHAPE.values(), **KW, gemmini_pads=gemmini_pads)
        return sim.stats.cycles
    finally:
        sim.close()


def test_unclamped_padding_costs_the_wrapped_loads() -> None:
    clamped, wrapped = _cycles(False), _cycles(True)
    # 2 wrapped tiles (top and bottom edge), each ~65536 rows of 4 mvins
    assert wrapped > 20 * clamped
    assert wrapped > 2 * 65000 * 4

