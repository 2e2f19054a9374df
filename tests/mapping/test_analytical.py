"""The analytical model: batch == one-by-one, exact counts on a small case, monotonicity."""

from dataclasses import fields

import numpy as np
import pytest
from dlac.ir.hwcost import access_energies
from dlac.ir.target import Target
from dlac.passes.mapping import (
    AnalyticalModel,
    ConvLayer,
    Mapping,
    MappingBatch,
    MappingSpace,
    MatmulLayer,
    ModelParams,
    heuristic_mapping,
)

LAYERS = [MatmulLayer("mm", 300, 200, 500),
          ConvLayer("conv", 1, 64, 96, 28, 28, 3, 3, padding=1),
          ConvLayer("ds", 1, 64, 128, 56, 56, 1, 1, stride=2),
          ConvLayer("dw", 1, 32, 32, 28, 28, 3, 3, padding=1, groups=32)]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
def test_batch_equals_one_by_one(layer) -> None:
    target = Target()
    space = MappingSpace(layer, target)
    batch = space.sample(300, seed=4)
    model = AnalyticalModel(layer, target)
    whole = model.evaluate(batch)
    for i in range(0, 300, 37):
        one = model.evaluate(batch.take(np.array([i])))
        for key, value in one.row(0).items():
            assert value == pytest.approx(whole.row(i)[key], rel=1e-12)
    assert (whole.cycles * target.dim ** 2 >= layer.macs).all()
    assert ((whole.utilization > 0) & (whole.utilization <= 1)).all()


def test_exact_access_counts_small_matmul() -> None:
    layer = MatmulLayer("m", 64, 64, 64)
    m = Mapping.create({"I": 16, "J": 16, "K": 64}, "IJK")
    batch = MappingBatch.from_mappings(layer, [m])
    cost = AnalyticalModel(layer, Target()).evaluate(batch)
    # Library semantics: each of the 16 tile calls loads its 16x64 A and 64x16 B and its
    # 16-wide bias row (repeating_bias: one row per 16-row block), and stores its 16x16
    # output once.
    assert cost.dram_reads[0] == 16 * (16 * 64 + 64 * 16 + 16)
    assert cost.dram_writes[0] == 64 * 64
    # Timeloop's reuse rule: A (I, K) is reloaded only when I moves (4 times).
    reuse = AnalyticalModel(layer, Target(), ModelParams(reuse_unchanged_operands=True))
    assert reuse.evaluate(batch).dram_reads[0] == 16 * 64 * 16 + 4 * 16 * 64 + 16 * 16
    e = access_energies(Target())
    expected = (cost.macs * e.mac + cost.reg_accesses[0] * e.register
                + cost.acc_accesses[0] * e.accumulator + cost.spad_accesses[0] * e.scratchpad
                + (cost.dram_reads[0] + cost.dram_writes[0]) * e.dram)
    assert cost.energy_pj[0] == pytest.approx(expected)
    assert cost.edp[0] == pytest.approx(expected * cost.cycles[0])


def test_matmul_pinning_loads_operand_once() -> None:
    layer = MatmulLayer("m", 512, 64, 64)
    m = Mapping.create({"I": 64, "J": 64, "K": 64}, "IJK")  # B has one tile: pinned
    cost = AnalyticalModel(layer, Target()).evaluate(MappingBatch.from_mappings(layer, [m]))
    # A in full, B once, per tile the bias row once per 16-row block of its 64 rows
    assert cost.dram_reads[0] == 8 * 64 * 64 + 64 * 64 + 8 * (64 // 16) * 64


def test_reduction_outside_outputs_costs_partial_sums() -> None:
    layer = MatmulLayer("m", 256, 256, 256)
    tiles = {"I": 64, "J": 64, "K": 64}
    inner = Mapping.create(tiles, "IJK")
    outer = Mapping.create(tiles, "KIJ")
    cost = AnalyticalModel(layer, Target()).evaluate(
        MappingBatch.from_mappings(layer, [inner, outer]))
    assert cost.dram_writes[1] == 4 * cost.dram_writes[0]  # 3 int32 partial visits + final
    assert cost.cycles[1] > cost.cycles[0]
    assert cost.energy_pj[1] > cost.energy_pj[0]


def test_more_bandwidth_never_hurts() -> None:
    layer = ConvLayer("conv", 1, 64, 96, 28, 28, 3, 3, padding=1)
    slow = Target(dram_bytes_per_cycle=4.0, dram_latency=300)
    fast = Target(dram_bytes_per_cycle=16.0, dram_latency=100)
    batch = MappingSpace(layer, slow).sample(2000, seed=1)
    no_llc = ModelParams(llc_kib=0.0)  # the whole layer fits the default LLC
    c_slow = AnalyticalModel(layer, slow, no_llc).evaluate(batch).cycles
    c_fast = AnalyticalModel(layer, fast, no_llc).evaluate(batch).cycles
    c_llc = AnalyticalModel(layer, slow).evaluate(batch).cycles
    assert (c_fast <= c_slow).all() and (c_fast < c_slow).any()
    assert (c_llc <= c_slow).all()


def test_bigger_buffers_cost_more_energy_per_access() -> None:
    layer = MatmulLayer("m", 128, 128, 128)
    m = heuristic_mapping(layer, Target())
    batch = MappingBatch.from_mappings(layer, [m])
    small = AnalyticalModel(layer, Target()).evaluate(batch).energy_pj[0]
    big = AnalyticalModel(layer, Target(sp_kib=1024, acc_kib=256)).evaluate(batch).energy_pj[0]
    assert big > small


def test_heuristic_512_cube_is_compute_bound() -> None:
    layer = MatmulLayer("m", 512, 512, 512)
    m = heuristic_mapping(layer, Target())
    cost = AnalyticalModel(layer, Target()).evaluate(MappingBatch.from_mappings(layer, [m]))
    assert 0.8 < cost.utilization[0] <= 1.0


def test_params_follow_simulator_timing_names() -> None:
    class Timing:
        host_issue_cycles = 3.0
        llc_latency = 77.0
        unrelated_knob = 1.0

    params = ModelParams.from_timing(Timing(), fence_cycles=5.0)
    assert params.host_issue_cycles == 3.0 and params.llc_latency == 77.0
    assert params.fence_cycles == 5.0
    assert params.host_tile_cycles == ModelParams().host_tile_cycles


def test_default_params_equal_the_simulators_calibrated_timing() -> None:
    """The search ranks on the model, so it must start from the constants the simulator
    was calibrated with (a refit of dlac.sim.timing has to be copied here)."""
    from dlac.sim.timing import TimingParams

    sim = TimingParams()
    shared = [f.name for f in fields(ModelParams) if hasattr(sim, f.name)]
    assert len(shared) >= 15
    assert {n: getattr(ModelParams(), n) for n in shared} == {n: getattr(sim, n) for n in shared}
