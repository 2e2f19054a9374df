"""Mappings from the space run on the bundled simulator's C library, bit-exact.

The space must only offer mappings dlac's Gemmini library can execute: these tests hand
sampled mappings (explicit tiles + DRAM order) to the simulator's tiled_matmul/tiled_conv
and check the results against numpy, and check that every zoo layer's samples pass the
library's own capacity checks. They also check that our heuristic is the library's.
"""

import numpy as np
import pytest
from dlac.ir.target import Target
from dlac.passes.mapping import (
    ConvLayer,
    Layer,
    Mapping,
    MappingSpace,
    MatmulLayer,
    conv_tiles,
    heuristic_mapping,
    matmul_tiles,
)
from dlac.passes.mapping.workloads import WORKLOADS

sim_mod = pytest.importorskip("dlac.sim.simulator")
timing_mod = pytest.importorskip("dlac.sim.timing")

TARGETS = [Target(), Target(dim=8, sp_kib=32, acc_kib=16),
           Target(dim=32, sp_kib=128, acc_kib=64, dataflow="WS")]


def _sim(target: Target, timing_only: bool = False):
    return sim_mod.Simulator(target, timing_mod.DEFAULT_TIMING, timing_only=timing_only)


def _conv_ref(x, w, bias, stride, pad):
    n, h, wd, cin = x.shape
    k, _, _, cout = w.shape
    xp = np.pad(x.astype(np.int64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    out = np.zeros((n, oh, ow, cout), dtype=np.int64) + bias
    for r in range(k):
        for c in range(k):
            patch = xp[:, r:r + stride * oh:stride, c:c + stride * ow:stride, :]
            out += patch @ w[r, c].astype(np.int64)
    return np.clip(out, -128, 127).astype(np.int8)


def _run(sim, layer: Layer, m: Mapping, target: Target, rng) -> None:
    args = m.gemmini_args(layer, target)
    if isinstance(layer, MatmulLayer):
        a = rng.integers(-3, 4, (layer.i, layer.k), dtype=np.int8)
        b = rng.integers(-3, 4, (layer.k, layer.j), dtype=np.int8)
        d = rng.integers(-50, 50, (layer.i, layer.j), dtype=np.int32)
        got = sim.matmul(a, b, d, tiles=(args["tile_I"], args["tile_J"], args["tile_K"]),
                         perm=m.perm, dataflow=m.dataflow)
        ref = np.clip(a.astype(np.int64) @ b + d, -128, 127).astype(np.int8)
    else:
        x = rng.integers(-3, 4, (layer.batch, layer.in_rows, layer.in_cols,
                                 layer.in_channels), dtype=np.int8)
        w = rng.integers(-3, 4, (layer.kernel_rows, layer.kernel_cols, layer.in_channels,
                                 layer.out_channels), dtype=np.int8)
        bias = rng.integers(-50, 50, layer.out_channels, dtype=np.int32)
        tiles = tuple(args[k] for k in ("batches", "porows", "pocols", "pochs", "krows",
                                        "kcols", "kchs"))
        got = sim.conv(x, w, bias, stride=layer.stride, padding=layer.padding, tiles=tiles,
                       perm=m.perm)
        ref = _conv_ref(x, w, bias, layer.stride, layer.padding)
    np.testing.assert_array_equal(got, ref, err_msg=f"{layer.name} {m}")


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_sampled_mappings_are_bit_exact(target) -> None:
    rng = np.random.default_rng(0)
    layers = [MatmulLayer("mm", 40, 72, 96), MatmulLayer("mm_edge", 33, 17, 50),
              ConvLayer("conv", 2, 24, 40, 10, 9, 3, 3, padding=1),
              ConvLayer("conv_s2", 1, 16, 20, 11, 11, 3, 3, stride=2, padding=1),
              ConvLayer("pw", 1, 40, 24, 7, 7, 1, 1)]
    for layer in layers:
        space = MappingSpace(layer, target)
        for m in space.sample(6, seed=1).mappings(layer) + [heuristic_mapping(layer, target)]:
            sim = _sim(target)
            try:
                _run(sim, layer, m, target, rng)
            finally:
                sim.close()


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_zoo_samples_pass_the_library_checks(target) -> None:
    for net in ("resnet50", "bert-base"):
        for layer, _ in WORKLOADS[net]():
            space = MappingSpace(layer, target)
            for m in space.sample(4, seed=2).mappings(layer):
                args = m.gemmini_args(layer, target)
                sim = _sim(target, timing_only=True)
                try:
                    if isinstance(layer, ConvLayer):
                        sim.conv_shape(layer.batch, layer.in_rows, layer.in_cols,
                                       layer.in_channels, layer.out_channels, layer.out_rows,
                                       layer.out_cols, layer.kernel_rows, stride=layer.stride,
                                       padding=layer.padding,
                                       tiles=tuple(args[k] for k in (
                                           "batches", "porows", "pocols", "pochs", "krows",
                                           "kcols", "kchs")), perm=m.perm)
                    else:
                        sim.matmul_shape(layer.i, layer.j, layer.k, bias=True,
                                         tiles=(args["tile_I"], args["tile_J"],
                                                args["tile_K"]),
                                         perm=m.perm, dataflow=m.dataflow)
                finally:
                    sim.close()


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_heuristic_matches_the_library(target) -> None:
    """Independently written: our tiled_*_auto reimplementation vs the simulator's C."""
    sim = _sim(target, timing_only=True)
    try:
        for net in ("resnet50", "resnet18", "mobilenetv2", "bert-base"):
            for layer, _ in WORKLOADS[net]():
                if isinstance(layer, ConvLayer):
                    if layer.depthwise:
                        continue
                    ours = conv_tiles(layer, target)
                    theirs = sim.conv_tiles(layer.batch, layer.out_rows, layer.out_cols,
                                            layer.in_channels, layer.out_channels,
                                            layer.kernel_rows, layer.stride, layer.dilation)
                else:
                    ours = matmul_tiles(layer.i, layer.j, layer.k, target)
                    theirs = sim.matmul_tiles(layer.i, layer.j, layer.k)
                assert tuple(ours) == tuple(theirs), f"{net}/{layer.name}"
    finally:
        sim.close()
