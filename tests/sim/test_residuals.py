"""Residual groups: every row lands in one group per feature, signs say too fast / too slow."""

from __future__ import annotations

import math

from dlac.sim.calibration_data import CalCase
from dlac.sim.residuals import FEATURES, format_groups, residual_groups


def _case(index: int, dim: int, tile_c: int, measured: float) -> CalCase:
    dims = {"N": 1, "C": 256, "K": 64, "P": 14, "Q": 14, "R": 3, "S": 3}
    tiles = {"N": 1, "C": tile_c, "K": 16, "P": 7, "Q": 7, "R": 3, "S": 3}
    return CalCase(index, "3_3_14_14_256_64_1_1_1", "conv", dims, 1, dim, 256, 64, 4, 2, tiles,
                   "NQPKSRC", measured)


def test_groups_cover_every_row_once_per_feature() -> None:
    cases = [_case(0, 16, 16, 100.0), _case(1, 16, 128, 100.0), _case(2, 64, 256, 100.0)]
    groups = residual_groups(cases, [50.0, 200.0, 100.0])
    for feature in FEATURES:
        assert sum(g.rows for g in groups if g.feature == feature) == 3
    by = {(g.feature, g.value): g for g in groups}
    assert math.isclose(by["C tile, DIM blocks", "1"].log_mean, math.log(0.5))  # too fast
    assert by["C tile, DIM blocks", ">=8"].log_mean > 0          # predicted 2x: too slow
    assert math.isclose(sum(g.points for g in groups if g.feature == "stride"), 0.5)
    assert "C tile, DIM blocks" in format_groups(groups)


def test_rejected_rows_are_left_out() -> None:
    groups = residual_groups([_case(0, 16, 16, 100.0)], [float("nan")])
    assert groups == []
