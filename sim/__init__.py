"""dlac's bundled Gemmini simulator: bit-exact ISA execution, timing, energy and area.

One C core (sim/csrc) executes the instructions; compiled Gemmini C programs link it and
Python drives it through ctypes (`Simulator`). See docs/simulator.md.
"""

from dlac.ir.hwcost import access_energies, area_mm2
from dlac.sim.errors import BuildError, SimError
from dlac.sim.simulator import SimStats, Simulator
from dlac.sim.timing import DEFAULT_TIMING, TimingParams

__all__ = ["DEFAULT_TIMING", "BuildError", "SimError", "SimStats", "Simulator", "TimingParams",
           "access_energies", "area_mm2"]
