"""A pointwise conv given a matmul mapping lowers to tiled_matmul over its NHWC buffers
and stays bit-exact on the simulator."""

from __future__ import annotations

import pytest
from dlac.errors import DlacError
from dlac.ir.dialects import gemmini
from dlac.ir.target import Target
from dlac.passes.mapping import ConvLayer, choose
from dlac.tools.compile_flow import map_and_lower, zoo_layers

from .test_sampled_mappings import emitted_bit_exact, quantized


def _matmul_mappings(model: str, target: Target, seed: int) -> dict[str, object]:
    return {layer.workload_hash(): choose(layer.as_matmul(), target, "random", seed=seed).mapping
            for layer, _ in zoo_layers(model)
            if isinstance(layer, ConvLayer) and layer.pointwise}


@pytest.mark.parametrize("model", ["tiny_cnn", "unet"])
def test_pointwise_convs_run_as_tiled_matmul_bit_exact(model: str) -> None:
    target = Target()
    q = quantized(model)
    mappings = _matmul_mappings(model, target, seed=3)
    assert mappings
    lowered = map_and_lower(q, target, "heuristic", 0, mappings)
    matmuls = [op for op in lowered.walk() if isinstance(op, gemmini.TiledMatmulOp)
               and op.attr("tiles") is not None and "D" in str(op.attr("roles"))]
    assert len(matmuls) >= len(mappings)
    for op in matmuls:
        i, j, k = op.attr("dims")
        a_stride, b_stride, _, c_stride = op.attr("strides")
        assert a_stride >= k and b_stride >= j and c_stride >= j and op.attr("repeating_bias")
    emitted_bit_exact(lowered, target, model, q)


def test_matmul_mapping_on_a_3x3_conv_is_an_error() -> None:
    target = Target()
    layer = next(layer for layer, _ in zoo_layers("tiny_cnn")
                 if isinstance(layer, ConvLayer) and layer.kernel_rows == 3)
    mapping = choose(layer.as_matmul(), target, "random", seed=0).mapping
    with pytest.raises(DlacError, match="1x1, stride-1, unpadded conv"):
        map_and_lower(quantized("tiny_cnn"), target, "heuristic", 0,
                      {layer.workload_hash(): mapping})
