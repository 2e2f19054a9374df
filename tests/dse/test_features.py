"""Feature values on hand-computed examples (see dse/features.py for the definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from dlac.dse.models.features import (
    HW_FEATURES,
    SW_FEATURES,
    hw_features,
    permutation_importance,
    sw_features,
)
from dlac.ir.target import Target
from dlac.passes.mapping import Mapping, MappingBatch, MatmulLayer


def _row(perm: str) -> dict[str, float]:
    layer = MatmulLayer("fc", i=64, j=128, k=96)
    m = Mapping.create({"I": 32, "J": 48, "K": 96}, perm, "WS")
    f = sw_features(layer, Target(), MappingBatch.from_mappings(layer, [m]))
    assert f.shape == (1, len(SW_FEATURES))
    return {feat.name: float(v) for feat, v in zip(SW_FEATURES, f[0], strict=True)}


def test_sw_features_matmul_by_hand() -> None:
    # tiles I=32 (2 trips), J=48 = 3 blocks (3 trips), K=96 = 6 blocks (1 trip), DIM 16
    f = _row("IJK")
    assert f["kernel_parallelism"] == 1
    assert f["spatial_unroll"] == 16 * 16
    assert f["pe_utilization"] == 1.0
    assert f["loop_iterations_log2"] == pytest.approx(math.log2(6 * 6 * 3))
    assert f["dram_transfers_log2"] == pytest.approx(math.log2(2 * 32))
    assert f["dram_bytes_log2"] == pytest.approx(math.log2(128 * 96 * 2 + 64 * 96 * 3))
    assert f["unrolled_dims_mix"] == 2 * 32 + 3 * 1 + 5 * 16 + 7 * 3 + 11 * 3
    assert f["sp_fill"] == pytest.approx((2 * 6 + 6 * 3) * 16 / 8192)
    assert f["acc_fill"] == pytest.approx(2 * 3 * 16 / 512)
    assert f["weights_reused"] == 0.0  # innermost moving loop J changes the weights
    assert f["output_stationary"] == 0.0 and f["double_buffered"] == 1.0
    assert _row("JIK")["weights_reused"] == 1.0  # I innermost: same weight tile


def test_sw_features_partial_blocks_lower_utilization() -> None:
    layer = MatmulLayer("fc", i=20, j=20, k=20)
    m = Mapping.create({"I": 20, "J": 20, "K": 20}, "IJK", "WS")
    f = sw_features(layer, Target(), MappingBatch.from_mappings(layer, [m]))[0]
    util = f[[x.name for x in SW_FEATURES].index("pe_utilization")]
    assert util == pytest.approx((20 / 32) ** 2)


def test_hw_features_default_gemmini() -> None:
    f = hw_features(np.array([16, 16]), np.array(["BOTH", "WS"]))
    assert f.shape == (2, len(HW_FEATURES))
    assert list(f[0]) == pytest.approx([8, 1, 1])
    assert f[1, -2:].tolist() == [1.0, 0.0]


def test_permutation_importance_finds_the_used_column() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((200, 3))
    y = 2.0 * x[:, 0]
    imp = permutation_importance(lambda a: 2.0 * a[:, 0], x, y, rng)
    assert imp[0] > 0.1
    assert imp[1] == 0.0 and imp[2] == 0.0


def test_every_feature_is_documented() -> None:
    for feat in HW_FEATURES + SW_FEATURES:
        assert feat.measures and feat.counterpart


def test_workload_profile_by_hand() -> None:
    from dlac.dse.models.features import WORKLOAD_FEATURES, WorkloadProfile

    layer = MatmulLayer("fc", i=64, j=20, k=20)
    prof = WorkloadProfile.from_layers([(layer, 2)])
    f = prof.features(np.array([16]), np.array([256]), np.array([64]), np.array([128]), 16.0)
    assert f.shape == (1, len(WORKLOAD_FEATURES))
    macs = 2 * 64 * 20 * 20
    # 20 rows / 2 blocks x 20 cols / 2 blocks = 100 PEs hold a weight on average
    assert f[0, 0] == pytest.approx(math.log2(macs / 100))
    traffic = 2 * (64 * 20 + 20 * 20 + 64 * 20)
    buffers = (0.02513 * 256 + 0.49) + (0.1005 * 64 / 16 + 1.94)
    energy = macs * (0.5608 + 0.4875) + macs / 16 * buffers + traffic * 100.0
    assert f[0, 1] == pytest.approx(math.log2(energy))


def test_reuse_traffic_tile_calls_and_roofline_delay_by_hand() -> None:
    from dlac.dse.models.features import CALL_OVERHEAD_CYCLES, WorkloadProfile

    prof = WorkloadProfile.from_layers([(MatmulLayer("fc", i=64, j=20, k=20), 2)])
    traffic = 2 * (64 * 20 + 20 * 20 + 64 * 20)
    # 64 KiB accumulator: 90x90 int32 output tiles hold the whole 64x20 output
    f = prof.features(np.array([16, 16]), np.array([256, 256]), np.array([64, 8]),
                      np.array([128, 128]), 16.0)
    assert f[0, 2] == pytest.approx(math.log2(traffic))
    delay = max(2 * 64 * 20 * 20 / 100, traffic / 16) + 2 * CALL_OVERHEAD_CYCLES
    assert f[0, 4] == pytest.approx(math.log2(delay))
    # one 64x20 output tile with the whole 20-deep reduction beside it, twice (count 2)
    assert f[0, 3] == pytest.approx(1.0)
    # 8 KiB: 32x32 tiles, so the 64 output rows take two tiles and the weights load twice
    assert f[1, 2] == pytest.approx(math.log2(traffic + 2 * 20 * 20))
