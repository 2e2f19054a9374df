"""Energy and area models."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.ir.hwcost import access_energies, area_mm2
from dlac.ir.target import Target
from dlac.sim.simulator import Simulator


def test_dosa_per_access_energies() -> None:
    e = access_energies(Target(dim=16, sp_kib=128, acc_kib=32))
    assert e.mac == pytest.approx(0.5608) and e.register == pytest.approx(0.4875)
    assert e.accumulator == pytest.approx(0.1005 * 32 / 16 + 1.94)
    assert e.scratchpad == pytest.approx(0.02513 * 128 + 0.49)
    assert e.dram == 100.0


def test_area_grows_with_array_and_memories() -> None:
    base = area_mm2(Target())
    assert area_mm2(Target(dim=32, sp_kib=256, acc_kib=128)) > base
    assert area_mm2(Target(sp_kib=512)) > base
    assert area_mm2(Target(dim=128, sp_kib=1024, acc_kib=1024)) == pytest.approx(16.107, rel=0.01)


def test_simulated_energy_is_the_sum_of_access_energies() -> None:
    sim = Simulator()
    a = np.ones((32, 32), np.int8)
    sim.matmul(a, a)
    st, e = sim.stats, access_energies(Target())
    acc = st.accesses
    want = (e.mac * st.macs + e.register * (st.macs + acc["reg_writes"])
            + e.accumulator * (acc["acc_reads"] + acc["acc_writes"])
            + e.scratchpad * (acc["spad_reads"] + acc["spad_writes"])
            + e.dram * (acc["dram_reads"] + acc["dram_writes"]))
    assert st.energy_pj == pytest.approx(want)
    assert st.macs == 32**3
