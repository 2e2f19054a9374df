"""Depthwise convs given the flat lowering become `dlac_conv_dw_flat` calls and the whole
model stays bit-exact on the simulator."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.errors import DlacError
from dlac.ir.dialects import gemmini
from dlac.ir.target import Target
from dlac.passes.mapping import ConvLayer
from dlac.passes.mapping.flat_depthwise import LOWERING, candidates, to_mapping
from dlac.tools.compile_flow import map_and_lower, zoo_layers

from .test_sampled_mappings import emitted_bit_exact, quantized


def _flat_mappings(target: Target, seed: int) -> dict[str, dict]:
    """A random fitting flat tile for every depthwise layer of MobileNetV2."""
    rng = np.random.default_rng(seed)
    out = {}
    for layer, _ in zoo_layers("mobilenetv2"):
        if isinstance(layer, ConvLayer) and layer.depthwise:
            tiles = candidates(layer, target)
            porows, pgroups = tiles[rng.integers(len(tiles))]
            mapping = to_mapping(layer, target.dim, int(porows), int(pgroups))
            out[layer.workload_hash()] = {**mapping.to_attrs(), "lowering": LOWERING}
    return out


@pytest.mark.parametrize("target", [Target(), Target(dim=32, sp_kib=80, sp_banks=5,
                                                     acc_kib=64, dataflow="WS")],
                         ids=lambda t: t.name)
def test_flat_depthwise_mobilenetv2_bit_exact(target: Target) -> None:
    from dlac.flow.validate import total_macs

    q = quantized("mobilenetv2")
    mappings = _flat_mappings(target, seed=1)
    lowered = map_and_lower(q, target, "heuristic", 0, mappings)
    flat = [op for op in lowered.walk() if isinstance(op, gemmini.TiledConvOp)
            and op.attr("flat")]
    assert len(flat) == sum(n for layer, n in zoo_layers("mobilenetv2")
                            if layer.workload_hash() in mappings)
    # utilisation counts a flat layer's diagonal MACs only, as for the direct lowering
    assert total_macs(lowered) == total_macs(map_and_lower(q, target, "heuristic", 0))
    assert "dlac_conv_dw_flat(" in emitted_bit_exact(lowered, target, "mobilenetv2", q)


def test_flat_tile_that_does_not_fit_is_an_error() -> None:
    target = Target()
    layer = next(layer for layer, _ in zoo_layers("mobilenetv2")
                 if isinstance(layer, ConvLayer) and layer.depthwise)
    mapping = to_mapping(layer, target.dim, layer.out_rows, -(-layer.groups // target.dim))
    with pytest.raises(DlacError, match="flat depthwise tile .* does not fit"):
        map_and_lower(quantized("mobilenetv2"), target, "heuristic", 0,
                      {layer.workload_hash(): {**mapping.to_attrs(), "lowering": LOWERING}})
