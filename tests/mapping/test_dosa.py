"""DOSA mapping strings: exact round trip on the FireSim calibration rows."""

import csv
from pathlib import Path

import pytest
from dlac.ir.target import Target
from dlac.passes.mapping import (
    ConvLayer,
    DosaMapping,
    Mapping,
    MappingError,
    from_dosa,
    layer_from_dosa_problem,
    to_dosa,
)

CSV = Path("/work/shared/data/firesim/calibration.csv")


def _rows() -> list[dict[str, str]]:
    if not CSV.exists():
        pytest.skip("FireSim calibration data not present")
    with CSV.open() as f:
        return list(csv.DictReader(f))


def _layer(row: dict[str, str]):
    g = {k: int(float(row[f"prob.{k}"])) for k in "NCKPQRS"}
    return layer_from_dosa_problem("row", g["N"], g["C"], g["K"], g["P"], g["Q"], g["R"],
                                   g["S"], int(float(row["prob.Wstride"])))


def test_parse_print_round_trip_all_rows() -> None:
    rows = _rows()
    assert len(rows) > 1000
    for row in rows:
        text = row["mapping.mapping"]
        dm = DosaMapping.parse(text)
        assert str(dm) == text
        assert [lv.index for lv in dm.levels] == [3, 2, 1, 0]


def test_factors_multiply_to_the_layer_dims() -> None:
    for row in _rows():
        dm = DosaMapping.parse(row["mapping.mapping"])
        for d in "NCKPQRS":
            assert dm.total(d) == int(float(row[f"prob.{d}"]))


def test_from_dosa_tiles_fit_the_layer() -> None:
    for row in _rows():
        layer = _layer(row)
        m = from_dosa(layer, DosaMapping.parse(row["mapping.mapping"]), harness_quirk=True)
        m.check_layer(layer)


def test_from_dosa_example() -> None:
    layer = ConvLayer("c1", 1, 3, 64, 224, 224, 7, 7, stride=2, padding=3)
    dm = DosaMapping.parse("L3[WIO] K8 Q28 - L2[WI] N1 K4X - L1[O] K2 S7 R7 Q4 P7 C3X - "
                           "L0[W] P16")
    m = from_dosa(layer, dm)
    assert m.tile == {"N": 1, "K": 8, "C": 3, "P": 112, "Q": 4, "R": 7, "S": 7}
    assert m.perm == "NPSRCKQ"


def test_to_dosa_and_back() -> None:
    layer = ConvLayer("c", 1, 64, 128, 28, 28, 3, 3, padding=1)
    m = Mapping.create({"N": 1, "K": 32, "C": 64, "P": 14, "Q": 7, "R": 3, "S": 3}, "NKQPSRC")
    dm = to_dosa(layer, m, Target())
    assert str(dm) == ("L3[WIO] K4 Q4 P2 - L2[WI] K16X - L1[O] K2 S3 R3 C4 Q7 C16X - "
                       "L0[W] P14")
    assert from_dosa(layer, DosaMapping.parse(str(dm))).canonical_form(layer) == \
        m.canonical_form(layer)


def test_bad_strings() -> None:
    with pytest.raises(MappingError, match="bad loop"):
        DosaMapping.parse("L3[WIO] K8q - L2[WI] N1")
    with pytest.raises(MappingError, match="bad level"):
        DosaMapping.parse("X3[WIO] K8")
