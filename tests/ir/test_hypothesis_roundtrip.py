"""Property: randomly built modules print, re-parse and print identically."""

from __future__ import annotations

import string

import numpy as np
from dlac.ir.attributes import (
    AffineMapAttr,
    ArrayAttr,
    BoolAttr,
    DenseAttr,
    DictAttr,
    FloatAttr,
    IntAttr,
    StringAttr,
    SymbolRefAttr,
    TypeAttr,
    UnitAttr,
)
from dlac.ir.dialects.builtin import ModuleOp
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.dialects.gemmini import FenceOp
from dlac.ir.dialects.graph import AddOp, ReluOp
from dlac.ir.dialects.loop import ForOp
from dlac.ir.parser import parse_module
from dlac.ir.printer import print_op
from dlac.ir.types import MemRefType, TensorType, f32, f64, i8, i32, index
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

types = st.sampled_from([i8, i32, f32, index, TensorType([2, 3], f32), TensorType([None, 4], i8),
                         MemRefType([8], i8, "spad")])
keys = st.text(alphabet=string.ascii_letters + string.digits + "_.$ -\"\\", min_size=1,
               max_size=8)
scalars = st.one_of(
    st.integers(-(2**62), 2**62).map(IntAttr),
    st.integers(-128, 127).map(lambda v: IntAttr(v, i8)),
    st.floats(allow_nan=True, allow_infinity=True).map(FloatAttr),
    st.floats(width=32, allow_nan=False).map(lambda v: FloatAttr(v, f32)),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: FloatAttr(v, f64)),
    st.booleans().map(BoolAttr),
    st.text(max_size=12).map(StringAttr),
    types.map(TypeAttr),
    st.text(alphabet=string.ascii_letters + " _", min_size=1, max_size=6).map(SymbolRefAttr),
    st.just(UnitAttr()),
    st.lists(st.integers(-100, 100), min_size=1, max_size=40).map(
        lambda v: DenseAttr(np.array(v, dtype=np.int8), TensorType([len(v)], i8))),
    st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(-5, 5)).map(
        lambda t: AffineMapAttr(t[0], t[1], ((t[2], tuple((p, p - 2) for p in
                                                           range(t[0] + t[1]))),))),
)
attrs = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(ArrayAttr),
    st.dictionaries(keys, inner, max_size=4).map(DictAttr)), max_leaves=12)


@st.composite
def modules(draw: st.DrawFn) -> ModuleOp:
    module = ModuleOp.build()
    t = TensorType([2, 3], f32)
    func = FuncOp.build("f", [t], [t], [draw(st.sampled_from([None, "x", "in put"]))])
    block = func.regions[0].block
    value = block.args[0]
    stack = [block]
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["add", "relu", "fence", "for", "close"]))
        target = stack[-1]
        if kind == "add" and target is block:
            op = AddOp([value, value], [t])
            op.results[0].name_hint = draw(st.sampled_from([None, "a", "a", "1", "arg0"]))
            value = block.append(op).results[0]
        elif kind == "relu" and target is block:
            value = block.append(ReluOp([value], [t])).results[0]
        elif kind == "fence":
            fence = FenceOp()
            fence.attributes = draw(st.dictionaries(keys, attrs, max_size=4))
            target.append(fence)
        elif kind == "for":
            loop = ForOp.build(draw(st.integers(-5, 5)), draw(st.integers(5, 100)),
                               draw(st.integers(1, 9)))
            target.append(loop)
            stack.append(loop.regions[0].block)
        elif kind == "close" and len(stack) > 1:
            stack.pop()
    block.append(ReturnOp([value]))
    module.regions[0].block.append(func)
    if draw(st.booleans()):
        empty = FuncOp.build("g", [], [])
        empty.regions[0].block.append(ReturnOp([]))
        module.regions[0].block.append(empty)
    return module


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules())
def test_random_modules_round_trip(module: ModuleOp) -> None:
    text = print_op(module)
    assert print_op(parse_module(text)) == text
    generic = print_op(module, generic=True)
    assert print_op(parse_module(generic), generic=True) == generic
    assert print_op(parse_module(generic)) == text
