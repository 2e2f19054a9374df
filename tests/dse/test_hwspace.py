from __future__ import annotations

import json

import numpy as np
import pytest
from dlac.dse.errors import DseError
from dlac.dse.hwspace import HwSpace, load_space, preset, smallest_tile_rows
from dlac.ir.hwcost import area_mm2
from dlac.ir.target import Target, legal_banks
from dlac.passes.mapping import MappingSpace, NoLegalMapping

from .conftest import tiny_models


def test_legal_banks_follow_generator_rules() -> None:
    # 256 KiB of 16-byte rows: 16384 rows; 4 banks of 4096 (power of two, multiple of 16)
    assert 4 in legal_banks(256, 16, 16)
    # 24 KiB needs 3 banks (512 rows each) to keep bank rows a power of two
    assert legal_banks(24, 16, 16)[0] == 3
    # accumulator rows must be a power of two too (LocalAddr.scala)
    assert 1 not in legal_banks(24, 64, 16) and 3 in legal_banks(24, 64, 16)


@pytest.mark.parametrize("name", ["edge", "cloud"])
def test_every_design_of_the_shipped_spaces_is_buildable(name: str) -> None:
    """Target() applies every generator rule, so building each grid point checks them all."""
    grid = preset(name).grid()
    for i in range(len(grid)):
        t = grid.target(i)
        assert t.sp_bank_rows & (t.sp_bank_rows - 1) == 0
        assert t.acc_bank_rows & (t.acc_bank_rows - 1) == 0
        assert t.acc_rows // t.dim <= t.sp_rows // t.dim - 2


def test_every_grid_point_is_a_valid_target_with_matching_area(small_space: HwSpace) -> None:
    grid = small_space.grid()
    area = grid.area()
    for i in range(0, len(grid), max(1, len(grid) // 50)):
        t = grid.target(i)
        assert t.sp_kib % 8 == 0 and t.acc_kib % 8 == 0
        assert area[i] == pytest.approx(area_mm2(t))


def test_feasible_points_respect_area_and_have_mappings(small_space: HwSpace) -> None:
    layers = [layer for layer, _ in tiny_models()["tiny"]]
    grid = small_space.grid()
    feas = grid.feasible(layers)
    assert 0 < len(feas) < len(grid)
    assert (grid.area()[feas] <= small_space.area_budget_mm2).all()
    for i in feas[:: max(1, len(feas) // 40)]:
        t = grid.target(int(i))
        for layer in layers:
            MappingSpace(layer, t)  # must not raise
    # the converse: a point rejected for mapping reasons really has no mapping
    in_budget = np.flatnonzero(grid.area() <= small_space.area_budget_mm2)
    rejected = sorted(set(in_budget.tolist()) - set(feas.tolist()))
    assert rejected
    for i in rejected[:: max(1, len(rejected) // 20)]:
        t = grid.target(i)
        with pytest.raises(NoLegalMapping):
            for layer in layers:
                MappingSpace(layer, t)


def test_widest_bus_keeps_one_bus_per_design(small_space: HwSpace) -> None:
    grid = small_space.grid()
    feas = grid.feasible([layer for layer, _ in tiny_models()["tiny"]])
    kept = grid.widest_bus(feas)
    assert (grid.bus_bits[kept] == max(small_space.bus_bits)).all()
    # every feasible design (all but the bus) keeps exactly one point
    assert len(np.unique(grid.rows[kept][:, :6], axis=0)) == len(kept)
    assert len(np.unique(grid.rows[feas][:, :6], axis=0)) == len(kept)
    # a design whose widest bus is missing from the index keeps its widest remaining one
    widest = grid.bus_bits[feas] == max(small_space.bus_bits)
    narrower = grid.widest_bus(feas[~widest])
    assert len(narrower) == len(kept)
    assert set(narrower.tolist()).isdisjoint(kept.tolist())


def test_smallest_tile_rows_matmul() -> None:
    layer = tiny_models()["tiny"][1][0]  # 64 x 128 x 96 matmul
    assert smallest_tile_rows(layer, 16) == ((1 + 1) * 16, 16)


def test_default_area_budget_is_default_gemmini() -> None:
    assert HwSpace().area_budget_mm2 == pytest.approx(area_mm2(Target()))
    assert preset("cloud").dims == (16, 32, 64)


@pytest.mark.parametrize("kw, msg", [
    ({"dims": ()}, "empty"),
    ({"sp_kib": (64, 8, 8)}, "inverted"),
    ({"acc_kib": (32, 16, 8)}, "inverted"),
    ({"dims": (12,)}, "power of two"),
    ({"dataflows": ()}, "dataflows"),
    ({"area_budget_mm2": 0.0}, "positive"),
])
def test_bad_spaces(kw: dict, msg: str) -> None:
    with pytest.raises(DseError, match=msg):
        HwSpace(**kw)


def test_area_below_smallest_design(small_space: HwSpace) -> None:
    space = small_space.with_area_budget(0.01)
    with pytest.raises(DseError, match="below the smallest design"):
        space.grid().feasible([])


def test_space_file(tmp_path) -> None:
    f = tmp_path / "space.json"
    f.write_text(json.dumps({"dims": [8, 16], "sp_kib": [16, 64], "area_budget_mm2": 0.7}))
    s = load_space(str(f))
    assert s.dims == (8, 16) and s.sp_kib == (16, 64, 8) and s.area_budget_mm2 == 0.7
    f.write_text(json.dumps({"sp_kib": [64, 16]}))
    with pytest.raises(DseError, match="inverted"):
        load_space(str(f))
    f.write_text("{not json")
    with pytest.raises(DseError, match="invalid JSON"):
        load_space(str(f))
    with pytest.raises(DseError, match="no such"):
        load_space(str(tmp_path / "missing.json"))
