"""print -> parse -> print is a fixed point for every registered op, in every form."""

from __future__ import annotations

import dlac.ir.dialects  # noqa: F401  (registers the bundled ops)
import pytest
from dlac.ir.core import Block, Region
from dlac.ir.dialects.builtin import ModuleOp
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.opdef import REGISTRY
from dlac.ir.parser import parse_module
from dlac.ir.printer import print_op
from sample_ops import module_with_every_op, sample_op


def _fixed_point(module: ModuleOp) -> str:
    text = print_op(module)
    again = print_op(parse_module(text))
    assert again == text
    generic = print_op(module, generic=True)
    assert print_op(parse_module(generic)) == text
    assert print_op(parse_module(generic), generic=True) == generic
    located = print_op(parse_module(text), debug_locs=True)
    assert print_op(parse_module(located), debug_locs=True) == located
    return text


@pytest.mark.parametrize("op_name", sorted(REGISTRY))
def test_every_registered_op_round_trips(op_name: str) -> None:
    cls = REGISTRY[op_name]
    module = ModuleOp.build()
    if cls is ModuleOp:
        module.regions[0].block.append(ModuleOp.build("inner"))
    else:
        func = FuncOp.build("f", [], [])
        module.regions[0].block.append(func)
        if cls is not FuncOp:
            from sample_ops import _TYPE_SAMPLES
            types = list(dict.fromkeys(_TYPE_SAMPLES.values()))
            func2 = FuncOp.build("g", types, [])
            values = dict(zip(types, func2.regions[0].block.args, strict=True))
            if cls is not ReturnOp:
                func2.regions[0].block.append(sample_op(cls, values))
            func2.regions[0].block.append(ReturnOp([]))
            module.regions[0].block.append(func2)
        func.regions[0].block.append(ReturnOp([]))
    text = _fixed_point(module)
    assert op_name in text or op_name == "builtin.module"


def test_module_with_every_op() -> None:
    text = _fixed_point(module_with_every_op(REGISTRY))
    for name in REGISTRY:
        assert name in text


def test_multi_block_region_and_nested_generic() -> None:
    text = """
"builtin.module"() ({
  "loop.kernel"(%a) ({
  ^bb0(%x: index, %y: index):
    gemmini.fence
  ^bb1:
    gemmini.fence
  }, {
  }) {sym_name = "k", kind = "conv", dims = {N = 1}} : (memref<4xi8>) -> ()
}) : () -> ()
"""
    with pytest.raises(Exception, match="undefined value '%a'"):
        parse_module(text)
    module = parse_module(text.replace('"loop.kernel"(%a)', '"loop.kernel"()').replace(
        " : (memref<4xi8>) -> ()", " : () -> ()"))
    kernel = module.regions[0].ops[0]
    assert len(kernel.regions) == 2 and len(kernel.regions[0].blocks) == 2
    assert [str(a.type) for a in kernel.regions[0].blocks[0].args] == ["index", "index"]
    _fixed_point(module)


def test_value_names_are_kept_and_deduplicated() -> None:
    module = ModuleOp.build()
    func = FuncOp.build("f", [], [])
    module.regions[0].block.append(func)
    block = func.regions[0].block
    from dlac.ir.dialects.loop import AllocOp
    from dlac.ir.types import MemRefType, i8
    for hint in ["conv1/out", "conv1/out", "7", None]:
        op = AllocOp([], [MemRefType([2], i8)])
        op.results[0].name_hint = hint
        block.append(op)
    block.append(ReturnOp([]))
    text = _fixed_point(module)
    assert "%conv1_out = " in text and "%conv1_out_1 = " in text
    assert "%0 = " in text and "%1 = " in text


def test_empty_region_and_block() -> None:
    module = ModuleOp.build()
    func = FuncOp.build("f", [], [])
    func.regions[0] = Region([Block()])
    func.regions[0].parent = func
    module.regions[0].block.append(func)
    assert "func.func @f() {\n  }" in print_op(module)


def test_clone_is_deep_and_prints_identically() -> None:
    module = module_with_every_op(REGISTRY)
    copy = module.clone()
    assert print_op(copy) == print_op(module)
    originals = {id(op) for op in module.walk()}
    assert not any(id(op) in originals for op in copy.walk())
    func = copy.regions[0].ops[0]
    func.regions[0].block.ops[0].erase()
    assert print_op(copy) != print_op(module)
