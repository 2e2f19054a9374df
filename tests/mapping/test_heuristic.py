"""Gemmini's tile heuristic, checked against worked examples done by hand from gemmini.md s4."""

import pytest
from dlac.ir.target import Target
from dlac.passes.mapping import (
    ConvLayer,
    MappingSpace,
    MatmulLayer,
    capacity,
    conv_tiles,
    heuristic_mapping,
    matmul_tiles,
)
from dlac.passes.mapping.workloads import WORKLOADS

DEFAULT = Target()


def test_matmul_worked_examples() -> None:
    assert matmul_tiles(512, 512, 512, DEFAULT) == (5, 6, 32)
    assert matmul_tiles(64, 64, 64, DEFAULT) == (4, 4, 4)
    # OS: m = isqrt(1024/16) = 8, kmax = 8192/16/8 = 64; growth blocked by the accumulator.
    assert matmul_tiles(512, 512, 512, DEFAULT, "OS") == (8, 8, 32)


def test_matmul_non_default_targets() -> None:
    # 32x32, 256/64 KiB: 8192 sp rows, 512 acc rows. m = isqrt(256/32) = 2, kmax = 32.
    # Start (2, 2, 16); J -> 3 (acc 192), I -> 3 would need 288 > 256; J -> 4 (acc 256).
    assert matmul_tiles(512, 512, 512, Target(dim=32)) == (2, 4, 16)
    # chipConfig-like 64/32 KiB WS: m = 4, kmax = 16; J/I -> 5 need 320 > 256 acc rows,
    # K -> 17 needs 2176 > 2048 sp rows.
    chip = Target(sp_kib=64, acc_kib=32, dataflow="WS")
    assert matmul_tiles(512, 512, 512, chip) == (4, 4, 16)
    # fc 1x1000x2048: start (1, 5, 51), J and K alternate up to (1, 8, 56): 8064 sp rows.
    assert matmul_tiles(1, 1000, 2048, DEFAULT) == (1, 8, 56)


def test_conv_worked_example_resnet50_stage4_3x3() -> None:
    # 512 -> 512, 7x7, 3x3 pad 1. Shrink alternates pochs/kchs by DIM from 512 until
    # (112, 112) first fits: 7*81 + 7*9*112 = 7623 sp rows, 7*49 = 343 acc rows.
    # pocols cannot grow (7 = full). Grow pass: pochs 113 needs 8631 rows; kchs grows one
    # channel at a time while 8*81 + 7*9*kchs <= 8192, i.e. up to 119.
    layer = ConvLayer("s4_3x3", 1, 512, 512, 7, 7, 3, 3, padding=1)
    assert conv_tiles(layer, DEFAULT) == (1, 7, 7, 112, 3, 3, 119)
    m = heuristic_mapping(layer, DEFAULT)
    assert m.gemmini_args(layer, DEFAULT) == {"batches": 1, "porows": 7, "pocols": 7,
                                             "pochs": 112, "krows": 3, "kcols": 3,
                                             "kchs": 119}
    assert m.perm == "NQPKSRC" and m.dataflow == "WS" and m.double_buffer


def test_conv_worked_example_first_layer() -> None:
    # 3 -> 64, 224 -> 112, 7x7 s2. The channel dims are small, so the shrink walks the
    # output rows and cols down; pocols then grows back to 23 while porows stays at 22.
    layer = ConvLayer("conv1", 1, 3, 64, 224, 224, 7, 7, stride=2, padding=3)
    args = conv_tiles(layer, DEFAULT)
    assert args == (1, 22, 23, 16, 7, 7, 3)
    sp, acc = capacity.conv_rows(layer, 1, 1, 16, 3, 23, 22, 7, 7, 16)
    assert sp <= 8192 and acc <= 512


@pytest.mark.parametrize("target", [DEFAULT, Target(dim=32),
                                    Target(sp_kib=64, acc_kib=32, dataflow="WS")],
                         ids=lambda t: t.name)
@pytest.mark.parametrize("name", ["resnet50", "mobilenetv2", "bert-base"])
def test_heuristic_is_legal_and_maximal(name, target) -> None:
    """No single +1 step of any conv arg still fits (the growth phase's fixed point)."""
    for layer, _ in WORKLOADS[name]():
        m = heuristic_mapping(layer, target)
        MappingSpace(layer, target).check(m)
        if isinstance(layer, ConvLayer) and not layer.depthwise:
            args = conv_tiles(layer, target)
            full = (1, layer.out_rows, layer.out_cols, layer.out_channels, layer.kernel_rows,
                    layer.kernel_cols, layer.in_channels)
            for i in range(7):
                grown = list(args)
                grown[i] += 1
                if grown[i] > full[i]:
                    continue
                n, q, p, k, s, r, c = grown
                sp, acc = capacity.conv_rows(layer, n, 1, k, c, p, q, r, s, target.dim)
                lim_sp, lim_acc = capacity.limits(target, True)
                assert sp > lim_sp or acc > lim_acc


def test_heuristic_on_os_only_target_uses_os() -> None:
    m = heuristic_mapping(MatmulLayer("m", 512, 512, 512), Target(dataflow="OS"))
    assert m.dataflow == "OS" and not m.double_buffer
    assert m.gemmini_args(MatmulLayer("m", 512, 512, 512), DEFAULT) == {
        "tile_I": 8, "tile_J": 8, "tile_K": 32}


def test_heuristic_uses_os_when_ws_cannot_hold_one_block() -> None:
    from dlac.passes.mapping import MatmulLayer, heuristic_mapping

    target = Target(dim=64, sp_kib=32, sp_banks=1, acc_kib=16, acc_banks=1)
    mapping = heuristic_mapping(MatmulLayer("fc", 1, 10, 128), target)
    assert mapping.dataflow == "OS"
