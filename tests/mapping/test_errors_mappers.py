"""Impossible targets and the per-layer mappers."""

import pytest
from dlac.errors import DlacError
from dlac.ir.target import Target
from dlac.passes.mapping import (
    ConvLayer,
    MappingError,
    MappingSpace,
    MatmulLayer,
    NoLegalMapping,
    choose,
    heuristic_mapping,
)


def test_no_legal_mapping_names_layer_shape_and_buffers() -> None:
    # A 64x64 WS array needs 64 accumulator rows per output block but this target offers
    # 64 rows in all, so half of them (double buffering) cannot hold one block. The
    # smallest tile needs 2 x 128 rows of 64 B scratchpad and 2 x 64 rows of 256 B acc.
    target = Target(dim=64, sp_kib=64, sp_banks=1, acc_kib=16, acc_banks=1, dataflow="WS")
    layer = MatmulLayer("fc1000", 1, 1000, 2048)
    with pytest.raises(NoLegalMapping) as err:
        MappingSpace(layer, target)
    msg = str(err.value)
    assert isinstance(err.value, DlacError) and "\n" not in msg
    assert "'fc1000'" in msg and "matmul I=1 J=1000 K=2048" in msg
    assert "scratchpad >= 16 KiB, accumulator >= 32 KiB" in msg
    with pytest.raises(NoLegalMapping, match="fc1000"):
        heuristic_mapping(layer, target)


def test_conv_on_os_only_target() -> None:
    layer = ConvLayer("c", 1, 8, 8, 8, 8, 3, 3, padding=1)
    with pytest.raises(NoLegalMapping, match="weight-stationary"):
        MappingSpace(layer, Target(dataflow="OS"))


def test_mappers() -> None:
    layer = ConvLayer("c", 1, 64, 64, 28, 28, 3, 3, padding=1)
    target = Target()
    heur = choose(layer, target, "heuristic")
    best = choose(layer, target, "analytical-best", samples=2000, seed=1)
    assert best.cycles <= heur.cycles and best.candidates == 2001
    rnd = choose(layer, target, "random", seed=3)
    MappingSpace(layer, target).check(rnd.mapping)
    small = MatmulLayer("m", 48, 32, 64)
    ex = choose(small, target, "exhaustive")
    assert ex.candidates == MappingSpace(small, target).count()
    assert ex.cycles <= choose(small, target, "analytical-best", samples=500).cycles
    with pytest.raises(MappingError, match="unknown mapper"):
        choose(layer, target, "greedy")
