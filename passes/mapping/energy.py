"""Per-access energies (pJ) of DOSA's Accelergy fit (anchors.md section 1.2).

The simulator charges the same numbers (dlac.sim.energy); the analytical model reads them
only through this function so that unifying the two copies is a one-line change.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.target import Target


@dataclass(frozen=True)
class AccessEnergies:
    mac: float
    reg: float
    acc: float
    spad: float
    dram: float


def access_energies(target: Target) -> AccessEnergies:
    """Energy per access for one target: MAC 0.5608, register 0.4875, accumulator
    0.1005 * acc_KB / pe_dim + 1.94, scratchpad 0.02513 * sp_KB + 0.49, DRAM 100."""
    return AccessEnergies(mac=0.5608, reg=0.4875,
                          acc=0.1005 * target.acc_kib / target.dim + 1.94,
                          spad=0.02513 * target.sp_kib + 0.49, dram=100.0)
