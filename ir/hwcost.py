"""What a `Target` costs: per-access energies and silicon area.

Energies are DOSA's Accelergy-fitted numbers (40 nm; anchors.md section 1.2), in pJ per
element access. The simulator's C core receives them at run time and the analytical model
and co-design search read them here, so this module is the only place they are defined.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.target import Target

MAC_PJ = 0.5608
REGISTER_PJ = 0.4875
DRAM_PJ = 100.0

# Area model (mm^2, 40 nm). Anchored so the calibration data's modelled arch (128x128 PEs,
# 1 MiB scratchpad, 1 MiB accumulator) lands on its Accelergy total of 16.107 mm^2; the
# split between PEs and SRAM is an assumption (about 60% PEs), not a fit.
PE_AREA_MM2 = 6.08e-4
SPAD_AREA_MM2_PER_KIB = 3.0e-3
ACC_AREA_MM2_PER_KIB = 3.0e-3
FIXED_AREA_MM2 = 0.0


def accumulator_pj(target: Target) -> float:
    """Energy of one accumulator element access; grows with KiB per array column."""
    return 0.1005 * target.acc_kib / target.dim + 1.94


def scratchpad_pj(target: Target) -> float:
    """Energy of one scratchpad element access; grows with capacity."""
    return 0.02513 * target.sp_kib + 0.49


@dataclass(frozen=True)
class AccessEnergies:
    mac: float
    register: float
    accumulator: float
    scratchpad: float
    dram: float


def access_energies(target: Target) -> AccessEnergies:
    """All per-access energies (pJ) for `target`."""
    return AccessEnergies(MAC_PJ, REGISTER_PJ, accumulator_pj(target), scratchpad_pj(target),
                          DRAM_PJ)


def area_mm2(target: Target) -> float:
    """Silicon area of the accelerator (PE array plus SRAMs), for area budgets."""
    return (FIXED_AREA_MM2 + PE_AREA_MM2 * target.dim * target.dim
            + SPAD_AREA_MM2_PER_KIB * target.sp_kib + ACC_AREA_MM2_PER_KIB * target.acc_kib)
