"""The legal mapping space: count, enumerate, sample, Sobol, encode/decode."""

import itertools
import math

import numpy as np
import pytest
from dlac.ir.target import Target
from dlac.passes.mapping import (
    VECTOR_LEN,
    ConvLayer,
    Mapping,
    MappingBatch,
    MappingError,
    MappingSpace,
    MatmulLayer,
    capacity,
)
from dlac.passes.mapping.workloads import WORKLOADS

SMALL = Target(dim=4, sp_kib=1, sp_banks=1, acc_kib=1, acc_banks=1)
TARGETS = [Target(), SMALL, Target(dim=8, sp_kib=16, acc_kib=8, dataflow="WS")]
LAYERS = [
    MatmulLayer("mm", 40, 50, 70),
    MatmulLayer("mm_tiny", 1, 10, 12, has_bias=False),
    ConvLayer("conv", 1, 12, 8, 5, 6, 3, 3, padding=1),
    ConvLayer("conv_s2", 2, 6, 9, 7, 5, 3, 2, stride=2, padding=1),
    ConvLayer("conv_ds", 1, 8, 12, 8, 8, 1, 1, stride=2),
    ConvLayer("dw", 1, 8, 8, 6, 6, 3, 3, padding=1, groups=8),
]


def _brute_count(space: MappingSpace) -> int:
    """Independent count: every tile tuple, legality by the capacity formulas, and the
    orders of its moving output loops times those of its moving reduction loops."""
    layer = space.layer
    names = layer.dim_names
    total = 0
    for _, db in space.options:
        sp_lim, acc_lim = capacity.limits(space.target, db)
        for combo in itertools.product(*(space.choices[layer.to_canon(d)] for d in names)):
            canon = dict.fromkeys("NGKCPQRS", 1)
            canon.update({layer.to_canon(d): int(t) for d, t in zip(names, combo, strict=True)})
            sp, acc = capacity.tile_rows(layer, canon, space.target.dim)
            if sp <= sp_lim and acc <= acc_lim:
                moving = [layer.to_canon(d) for d, t in zip(names, combo, strict=True)
                          if int(t) < layer.dims[d]]
                m_r = sum(d in "CRS" for d in moving)
                total += math.factorial(len(moving) - m_r) * math.factorial(m_r)
    return total


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
@pytest.mark.parametrize("divisors_only", [False, True])
def test_count_matches_enumeration(layer, target, divisors_only) -> None:
    space = MappingSpace(layer, target, divisors_only=divisors_only)
    mappings = list(space.enumerate(limit=2_000_000))
    assert space.count() == len(mappings) == len(set(mappings)) == _brute_count(space)
    for m in mappings[:: max(1, len(mappings) // 500)]:
        space.check(m)
        assert m.canonical_form(layer) == m


def test_enumerate_refuses_big_spaces() -> None:
    space = MappingSpace(MatmulLayer("big", 512, 512, 512), Target())
    with pytest.raises(MappingError, match="enumeration limit"):
        next(space.enumerate(limit=10))


@pytest.mark.parametrize("name", ["resnet50", "mobilenetv2", "bert-base"])
@pytest.mark.parametrize("target", TARGETS[:1] + TARGETS[2:], ids=lambda t: t.name)
def test_samples_are_legal_and_cover_dims(name, target) -> None:
    for layer, _ in WORKLOADS[name]():
        space = MappingSpace(layer, target)
        batch = space.sample(64, seed=3)
        assert len(batch) == 64
        assert space.legal_mask(batch.tiles, batch.double_buffer).all()
        for m in batch.mappings(layer)[:8]:
            space.check(m)
            for d, trips in m.trips(layer).items():
                # the tiles cover the dim exactly once: full tiles plus one partial at most
                assert (trips - 1) * m.tile[d] < layer.dims[d] <= trips * m.tile[d]


def test_sample_is_uniform_over_distinct_mappings() -> None:
    layer = MatmulLayer("mm", 40, 50, 70)
    space = MappingSpace(layer, SMALL)
    everything = MappingBatch.from_mappings(layer, list(space.enumerate()))
    n = 40 * len(everything)
    batch = space.sample(n, seed=11)

    def keys(b: MappingBatch) -> np.ndarray:
        return np.concatenate([b.tiles, b.rank, b.os[None, :]]).T

    uniq, counts = np.unique(keys(batch), axis=0, return_counts=True)
    assert len(uniq) == len(everything)
    assert (np.unique(keys(everything), axis=0) == uniq).all()
    chi2 = ((counts - 40.0) ** 2 / 40.0).sum()
    assert chi2 < len(everything) + 6 * math.sqrt(2 * len(everything))


def test_sampling_and_sobol_are_deterministic() -> None:
    layer = ConvLayer("c", 1, 64, 64, 28, 28, 3, 3, padding=1)
    space = MappingSpace(layer, Target())
    a, b = space.sample(100, seed=5), space.sample(100, seed=5)
    assert np.array_equal(a.tiles, b.tiles) and np.array_equal(a.rank, b.rank)
    assert not np.array_equal(a.tiles, space.sample(100, seed=6).tiles)
    s1, s2 = space.sobol(50, seed=1), space.sobol(50, seed=1)
    assert np.array_equal(s1.tiles, s2.tiles) and np.array_equal(s1.rank, s2.rank)
    assert space.legal_mask(s1.tiles, s1.double_buffer).all()
    assert not np.array_equal(s1.tiles, space.sobol(50, seed=2).tiles)


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
def test_encode_decode_round_trip(layer) -> None:
    space = MappingSpace(layer, Target())
    for m in space.sample(200, seed=0).mappings(layer):
        vec = space.encode(m)
        assert vec.shape == (VECTOR_LEN,) and ((vec >= 0) & (vec < 1)).all()
        assert space.decode(vec) == m
    decoded = space.decode_batch(np.random.default_rng(0).random((100, VECTOR_LEN)))
    assert len(decoded) == 100


def test_batch_round_trip() -> None:
    layer = ConvLayer("c", 1, 32, 48, 14, 14, 3, 3, padding=1)
    space = MappingSpace(layer, Target())
    ms = space.sample(30, seed=2).mappings(layer)
    again = MappingBatch.from_mappings(layer, ms).mappings(layer)
    assert again == ms


def test_os_only_for_matmuls_and_capacity_differs() -> None:
    mm = MappingSpace(MatmulLayer("m", 512, 512, 512), Target())
    assert mm.options == [("WS", True), ("OS", False)]
    big = Mapping.create({"I": 128, "J": 128, "K": 512}, "IJK", "OS")
    mm.check(big)  # 8x8 blocks of output fit the full accumulator ...
    with pytest.raises(MappingError, match="accumulator rows"):
        mm.check(Mapping.create(big.tile, "IJK", "WS"))  # ... but not half of it
    conv = MappingSpace(ConvLayer("c", 1, 8, 8, 8, 8, 3, 3, padding=1), Target())
    assert conv.options == [("WS", True)]


def test_reduction_outside_output_is_illegal() -> None:
    layer = MatmulLayer("m", 256, 256, 256)
    space = MappingSpace(layer, Target())
    tiles = {"I": 64, "J": 64, "K": 64}
    space.check(Mapping.create(tiles, "JIK"))
    with pytest.raises(MappingError, match="reduction loop outside an output loop"):
        space.check(Mapping.create(tiles, "KIJ"))
    assert not space.is_legal(Mapping.create(tiles, "KIJ"))
    # a reduction loop with one trip does not move, so its position is free
    space.check(Mapping.create({"I": 64, "J": 64, "K": 256}, "KIJ"))
