"""Depthwise convs as block-diagonal dense convs: weight layout, group split, errors."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.ir.diagnostics import DiagnosticError
from dlac.ir.parser import parse_module
from dlac.passes.depthwise_groups import block_diagonal, dense_perm, group_width, groups
from dlac.passes.lower_to_gemmini import LowerToGemmini


@pytest.mark.parametrize("channels, width", [(40, 16), (8, 16), (5, 2), (32, 8), (7, 7)])
def test_each_group_reads_its_block_diagonal_weights(channels: int, width: int) -> None:
    """Index the expanded tensor as tiled_conv does for a group of w channels: weight row
    ((r * S + s) * w + c), column g0 + k, row stride = channels."""
    rng = np.random.default_rng(channels)
    weights = rng.integers(-128, 128, (3, 3, 1, channels), dtype=np.int8)
    dense = block_diagonal(weights, width)
    assert dense.shape == (3, 3, width, channels)
    flat = dense.reshape(-1, channels)
    for g0, w in groups(channels, width):
        for r in range(3):
            for s in range(3):
                block = flat[(r * 3 + s) * w:(r * 3 + s + 1) * w, g0:g0 + w]
                np.testing.assert_array_equal(block, np.diag(weights[r, s, 0, g0:g0 + w]))


def test_groups_and_widths() -> None:
    assert groups(40, 16) == [(0, 16), (16, 16), (32, 8)]
    assert groups(8, 16) == [(0, 8)]
    assert [group_width(tile, 16) for tile in (None, 24, 16, 8)] == [16, 16, 16, 8]


def test_dense_perm_keeps_gemmini_order() -> None:
    assert dense_perm("NQPGSR") == "NQPKSRC"
    assert dense_perm("GNQPSR") == "KNQPSRC"


KERNEL = (
    'builtin.module attributes {{dlac.target = {target}}} {{\n'
    '  func.func @f(%x: memref<1x4x4x16xi8, "dram">, {weights_arg}'
    '%y: memref<1x4x4x16xi8, "dram">) {{\n'
    '    {weights_def}"loop.kernel"(%x, %w, %y) ({{\n'
    '      gemmini.fence\n'
    '    }}) {{sym_name = "dw", kind = "conv_dw", '
    'dims = {{N = 1, K = 16, C = 1, P = 4, Q = 4, R = 3, S = 3}}, strides = [1, 1], '
    'pads = [1, 1, 1, 1], dilations = [1, 1], multiplier = 0.5 : f32, act = "none", '
    'roles = "IWO"{mapping}}} : (memref<1x4x4x16xi8, "dram">, memref<3x3x1x16xi8, "dram">, '
    'memref<1x4x4x16xi8, "dram">) -> ()\n'
    '    func.return\n'
    '  }}\n'
    '}}\n')
CONST = ('%w = loop.constant {value = dense<1> : tensor<3x3x1x16xi8>} : () -> '
         'memref<3x3x1x16xi8, "dram">\n    ')
MAPPING = (', mapping = {dims = "NGPQRS", tiles = [1, 16, 4, 4, 3, 3], perm = "NQPGSR", '
           'dataflow = "WS", double_buffer = true}')


def _lower(target: str, weights_arg: str, weights_def: str, mapping: str) -> None:
    module = parse_module(KERNEL.format(target=target, weights_arg=weights_arg,
                                        weights_def=weights_def, mapping=mapping))
    LowerToGemmini().apply(module)


def test_runtime_weights_are_an_error() -> None:
    with pytest.raises(DiagnosticError, match="depthwise conv needs constant weights"):
        _lower("{dim = 16}", '%w: memref<3x3x1x16xi8, "dram">, ', "", "")


def test_tile_too_large_as_dense_group_is_an_error() -> None:
    """4 KiB of scratchpad: 128 rows per tile. The depthwise tile needs 36 input and 9
    weight rows; as a dense group of 16 channels its weights need 144."""
    target = "{dim = 16, sp_kib = 4, acc_kib = 8}"
    _lower(target, "", CONST, "")
    with pytest.raises(DiagnosticError, match="dense group of 16 channels needs 180 "
                                              "scratchpad and 16 accumulator rows"):
        _lower(target, "", CONST, MAPPING)
