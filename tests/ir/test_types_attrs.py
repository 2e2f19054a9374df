"""Types and attributes: printing, parsing, interning, numeric edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from dlac.ir.attributes import AffineMapAttr, DenseAttr, FloatAttr, StringAttr
from dlac.ir.parser import parse_module
from dlac.ir.printer import print_op
from dlac.ir.types import MemRefType, TensorType, TypeSyntaxError, f32, i8, index, parse_type


def _attr_roundtrip(text: str) -> str:
    module = parse_module(f"gemmini.fence {{a = {text}}}\n")
    attr = module.regions[0].ops[0].attributes["a"]
    out = print_op(module)
    assert print_op(parse_module(out)) == out
    return str(attr)


@pytest.mark.parametrize("text", ["i8", "i32", "f32", "index", "none", "tensor<1x3x224x224xf32>",
                                  "tensor<?x4xi8>", "tensor<f32>", 'memref<16x16xi8, "spad">',
                                  "memref<4xindex>"])
def test_types_round_trip_and_intern(text: str) -> None:
    ty = parse_type(text)
    assert str(ty) == text
    assert parse_type(str(ty)) is ty


def test_type_construction_interns() -> None:
    assert TensorType([1, 2], f32) is TensorType((1, 2), f32)
    assert MemRefType([4], i8, "acc") is not MemRefType([4], i8, "spad")
    assert TensorType([2, 3], i8).num_elements == 6
    with pytest.raises(TypeSyntaxError):
        parse_type("tensor<2xq8>")


@pytest.mark.parametrize("text", ["1", "-7", "3 : i8", "0.5", "-1.25e-07", "inf", "-inf", "nan",
                                  "0.1 : f32", "true", "false", '"quote\\" tab\\t nl\\n \\01"',
                                  "[]", "[1, [2, 3], {x = 1}]", "{}", "{a, b = unit}", "i32",
                                  "tensor<2xi8>", "(i32, f32) -> (i8, i8)", "@sym", '@"a b"',
                                  "dense<[1, 2]> : tensor<2xi8>", "dense<true> : tensor<2xi1>",
                                  "affine_map<() -> ()>", "affine_map<(d0)[s0] -> (d0 - s0 + 3)>"])
def test_attribute_round_trip(text: str) -> None:
    first = _attr_roundtrip(text)
    assert _attr_roundtrip(first) == first


def test_float_precision_is_exact() -> None:
    for value in [0.1, 1 / 3, 1e-300, 2.0**-149, 123456789.125]:
        assert FloatAttr(float(_attr_roundtrip(repr(value)))).value == value
    scale = float(np.float32(0.00123))
    printed = str(FloatAttr(scale, f32))
    assert printed.endswith(": f32")
    assert float(np.float32(float(printed.split(" ")[0]))) == scale
    assert math.isnan(FloatAttr(float("nan")).value)


def test_dense_large_prints_hex_and_round_trips() -> None:
    arr = np.arange(-64, 64, dtype=np.int8).reshape(8, 16)
    attr = DenseAttr(arr, TensorType([8, 16], i8))
    assert '"0x' in str(attr)
    module = parse_module(f"gemmini.fence {{w = {attr}}}\n")
    back = module.regions[0].ops[0].attributes["w"]
    assert np.array_equal(back.data, arr) and back == attr


def test_dense_floats() -> None:
    arr = np.linspace(-1, 1, 40, dtype=np.float32)
    attr = DenseAttr(arr, TensorType([40], f32))
    back = parse_module(f"gemmini.fence {{w = {attr}}}\n").regions[0].ops[0].attributes["w"]
    assert back.data.tobytes() == arr.tobytes()


def test_affine_map_canonical_print_and_evaluate() -> None:
    amap = parse_module("gemmini.fence {m = affine_map<(d0, d1)[s0] -> (2 * (d0 + 1) - d1, "
                        "s0 * 3, 5)>}\n").regions[0].ops[0].attributes["m"]
    assert isinstance(amap, AffineMapAttr)
    assert str(amap) == "affine_map<(d0, d1)[s0] -> (d0 * 2 - d1 + 2, s0 * 3, 5)>"
    assert amap.evaluate([3, 4], [2]) == (4, 6, 5)
    assert AffineMapAttr.identity(2).evaluate([7, 9]) == (7, 9)


def test_string_attr_escapes() -> None:
    s = 'a"b\\c\nd\te\x01'
    assert StringAttr(s) == StringAttr(s)
    module = parse_module(f"gemmini.fence {{s = {StringAttr(s)}}}\n")
    assert module.regions[0].ops[0].attr("s") == s


def test_index_is_not_an_identifier_in_attr_keys() -> None:
    module = parse_module('gemmini.fence {index = 1, "step" = 2, a.b = 3}\n')
    assert list(module.regions[0].ops[0].attributes) == ["index", "step", "a.b"]
    assert index is parse_type("index")
