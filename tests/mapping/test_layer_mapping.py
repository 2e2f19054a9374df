"""Layer shapes, the Mapping value and its IR-attribute form."""

import pytest
from dlac.errors import DlacError
from dlac.ir.target import Target
from dlac.passes.mapping import (
    ConvLayer,
    LayerError,
    Mapping,
    MappingError,
    MatmulLayer,
    layer_from_dict,
)
from dlac.passes.mapping.workloads import WORKLOADS, resnet50


def test_conv_dims_and_macs() -> None:
    layer = ConvLayer("c", batch=1, in_channels=64, out_channels=128, in_rows=56, in_cols=56,
                      kernel_rows=3, kernel_cols=3, stride=2, padding=1)
    assert layer.dims == {"N": 1, "K": 128, "C": 64, "P": 28, "Q": 28, "R": 3, "S": 3}
    assert layer.macs == 128 * 64 * 28 * 28 * 9
    assert layer.default_perm == "NQPKSRC"


def test_depthwise_and_matmul_dims() -> None:
    dw = ConvLayer("dw", 1, 96, 96, 112, 112, 3, 3, stride=2, padding=1, groups=96)
    assert dw.dims == {"N": 1, "G": 96, "P": 56, "Q": 56, "R": 3, "S": 3}
    mm = MatmulLayer("m", i=128, j=768, k=3072)
    assert mm.canonical() == {"N": 1, "G": 1, "K": 768, "C": 3072, "P": 128, "Q": 1, "R": 1,
                              "S": 1}


def test_workload_hash_ignores_name_and_is_stable() -> None:
    a = MatmulLayer("a", 4, 5, 6)
    assert a.workload_hash() == MatmulLayer("b", 4, 5, 6).workload_hash()
    assert a.workload_hash() != MatmulLayer("a", 4, 5, 7).workload_hash()
    assert layer_from_dict({"kind": "matmul", "name": "a", "i": 4, "j": 5, "k": 6}) == a


def test_bad_layers_are_dlac_errors() -> None:
    with pytest.raises(LayerError, match="groups=2"):
        ConvLayer("g", 1, 8, 8, 8, 8, 3, 3, groups=2)
    with pytest.raises(DlacError, match="kernel larger"):
        ConvLayer("k", 1, 8, 8, 2, 2, 5, 5)


def test_zoo_mac_counts() -> None:
    gmacs = {name: sum(layer.macs * n for layer, n in build()) / 1e9
             for name, build in WORKLOADS.items()}
    assert gmacs["resnet50"] == pytest.approx(4.089, abs=0.01)
    assert gmacs["resnet18"] == pytest.approx(1.814, abs=0.01)
    assert gmacs["mobilenetv2"] == pytest.approx(0.30, abs=0.01)
    assert sum(n for layer, n in resnet50() if isinstance(layer, ConvLayer)) == 53


def test_mapping_attrs_round_trip() -> None:
    m = Mapping.create({"I": 80, "J": 96, "K": 512}, "IJK")
    attrs = m.to_attrs()
    assert attrs == {"dims": "IJK", "tiles": [80, 96, 512], "perm": "IJK", "dataflow": "WS",
                     "double_buffer": True}
    assert all(isinstance(v, str | bool | list) for v in attrs.values())
    assert Mapping.from_attrs(attrs) == m


def test_mapping_validation() -> None:
    with pytest.raises(MappingError, match="permutation"):
        Mapping.create({"I": 16, "J": 16, "K": 16}, "IJJ")
    with pytest.raises(MappingError, match="dataflow"):
        Mapping.create({"I": 16, "J": 16, "K": 16}, "IJK", "XS")
    with pytest.raises(MappingError, match="lack"):
        Mapping.from_attrs({"dims": "IJK"})
    layer = MatmulLayer("m", 32, 32, 32)
    with pytest.raises(MappingError, match="exceeds"):
        Mapping.create({"I": 48, "J": 16, "K": 16}, "IJK").check_layer(layer)


def test_canonical_form_and_gemmini_args() -> None:
    layer = MatmulLayer("m", 512, 512, 64)
    m = Mapping.create({"I": 80, "J": 96, "K": 64}, "KJI")
    assert m.canonical_form(layer).perm == "KJI"  # K has one trip: moved outside, same order
    assert m.trips(layer) == {"I": 7, "J": 6, "K": 1}
    assert m.gemmini_args(layer, Target()) == {"tile_I": 5, "tile_J": 6, "tile_K": 4}
    assert m.spatial(layer, Target()) == {"rows": ("K", 16), "cols": ("J", 16)}
