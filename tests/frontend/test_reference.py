"""The reference interpreter's int8 arithmetic against hand-computed values."""

from __future__ import annotations

import numpy as np
from dlac.ir.attributes import ArrayAttr, DenseAttr, FloatAttr, IntAttr
from dlac.ir.core import Value
from dlac.ir.dialects import qgraph
from dlac.ir.dialects.builtin import ModuleOp
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.dialects.graph import ConstantOp
from dlac.ir.parser import parse_module
from dlac.ir.printer import print_op
from dlac.ir.semantics.arith import acc_scale, div_round, mvin_scale, wrap_int32
from dlac.ir.semantics.qgraph import run_reference
from dlac.ir.types import FunctionType, TensorType, f32, i8, i32
from dlac.ir.verifier import verify


def f32a(x: float) -> FloatAttr:
    return FloatAttr(x, f32)


def test_acc_scale_rounds_half_to_even_and_saturates() -> None:
    acc = np.array([5, 7, -5, -7, 1, 3, 1000, -1000, 254, 255], np.int32)
    got = acc_scale(acc, 0.5)  # 2.5 3.5 -2.5 -3.5 0.5 1.5 500 -500 127 127.5
    assert got.tolist() == [2, 4, -2, -4, 0, 2, 127, -128, 127, 127]
    assert acc_scale(np.array([-3, 3], np.int32), 1.0, "relu").tolist() == [0, 3]


def test_acc_scale_is_one_float32_multiply() -> None:
    # 16777217 is not representable in float32: int -> float rounds to 16777216 first.
    acc = np.array([16777217], np.int32)
    assert acc_scale(acc, 2.0 ** -17).tolist() == [127]
    assert acc_scale(np.array([16777217], np.int32), 2.0 ** -24 * 100).tolist() == [100]
    # 0.1 as float32 times 25 is 2.5000000372... in exact arithmetic but the float32
    # product rounds to exactly 2.5, which then ties to even: 2
    assert acc_scale(np.array([25], np.int32), 0.1).tolist() == [2]


def test_mvin_scale_and_int32_wrap() -> None:
    assert mvin_scale(np.array([100, -100, 3], np.int8), 1.5).tolist() == [127, -128, 4]
    assert wrap_int32(np.array([2 ** 31, -(2 ** 31) - 1], np.int64)).tolist() == \
        [-(2 ** 31), 2 ** 31 - 1]


def test_div_round_half_away_from_zero() -> None:
    assert div_round(np.array([5, -5, 4, -4, 7]), np.array(2)).tolist() == [3, -3, 2, -2, 4]


def _func(inputs: list[TensorType], build) -> ModuleOp:  # noqa: ANN001
    module = ModuleOp.build()
    func = FuncOp.build("main", inputs, [], [f"x{i}" for i in range(len(inputs))])
    module.regions[0].block.append(func)
    outs = build(func.body.block, func.args)
    func.set_attr("function_type", FunctionType(inputs, [v.type for v in outs]))
    func.body.block.append(ReturnOp(outs))
    verify(module)
    text = print_op(module)
    assert print_op(parse_module(text)) == text
    return module


def _const(block, array: np.ndarray, elem) -> Value:  # noqa: ANN001
    ty = TensorType(array.shape, elem)
    return block.append(ConstantOp(result_types=[ty],
                                   attributes={"value": DenseAttr(array, ty)})).result


def test_conv_by_hand() -> None:
    x = np.arange(1, 10, dtype=np.int8).reshape(1, 1, 3, 3)
    w = np.array([[1, 0], [0, -1]], np.int8).reshape(2, 2, 1, 1)  # HWIO
    bias = np.array([10], np.int32)

    def build(block, args):  # noqa: ANN001, ANN202
        wv, bv = _const(block, w, i8), _const(block, bias, i32)
        conv = qgraph.ConvOp([args[0], wv, bv], [TensorType((1, 1, 2, 2), i8)], {
            "strides": [1, 1], "pads": [0, 0, 0, 0], "dilations": [1, 1], "group": 1,
            "multiplier": f32a(0.5), "act": "relu", "in_scale": f32a(1.0),
            "w_scale": f32a(1.0), "out_scale": f32a(1.0)})
        return [block.append(conv).result]

    module = _func([TensorType((1, 1, 3, 3), i8)], build)
    # window sums x[i,j] - x[i+1,j+1] = -4 everywhere; +10 bias = 6; *0.5 = 3
    assert run_reference(module, [x])[0].tolist() == [[[[3, 3], [3, 3]]]]


def test_matmul_with_bias_ties_and_saturation() -> None:
    a = np.array([[1, 2], [100, 100]], np.int8)
    b = np.array([[1, 0], [0, 1]], np.int8)
    bias = np.array([0, 1], np.int32)

    def build(block, args):  # noqa: ANN001, ANN202
        bv, biasv = _const(block, b, i8), _const(block, bias, i32)
        mm = qgraph.MatmulOp([args[0], bv, biasv], [TensorType((2, 2), i8)],
                             {"multiplier": f32a(2.5), "act": "none"})
        return [block.append(mm).result]

    module = _func([TensorType((2, 2), i8)], build)
    # [1, 3] * 2.5 = [2.5, 7.5] -> [2, 8]; [100, 101] * 2.5 saturates
    assert run_reference(module, [a])[0].tolist() == [[2, 8], [127, 127]]


def test_resadd_matches_gemmini_formula() -> None:
    a = np.array([[10, -20, 127]], np.int8)
    b = np.array([[3, 5, 127]], np.int8)

    def build(block, args):  # noqa: ANN001, ANN202
        add = qgraph.AddOp([args[0], args[1]], [TensorType((1, 3), i8)],
                           {"a_scale": f32a(0.5), "b_scale": f32a(1.0), "c_scale": f32a(0.5),
                            "act": "relu"})
        return [block.append(add).result]

    module = _func([TensorType((1, 3), i8)] * 2, build)
    # MVIN_SCALE(a, .5) = [5, -10, 64(63.5 -> 64)]; + b = [8, -5, 191]; *.5 = [4, -2.5, 95.5]
    # -> rne [4, -2, 96] -> relu [4, 0, 96]
    assert run_reference(module, [a, b])[0].tolist() == [[4, 0, 96]]


def test_lut_softmax_and_pool() -> None:
    table = np.clip(np.arange(-128, 128) * 2, -128, 127).astype(np.int8)
    exp_table = np.rint(np.exp(0.1 * np.arange(-255, 1)) * (1 << 20)).astype(np.int32)

    def build(block, args):  # noqa: ANN001, ANN202
        lut = block.append(qgraph.LutOp([args[0]], [TensorType((1, 4), i8)], {
            "table": DenseAttr(table, TensorType((256,), i8))})).result
        sm = block.append(qgraph.SoftmaxOp([args[0]], [TensorType((1, 4), i8)], {
            "axis": 1, "exp_table": DenseAttr(exp_table, TensorType((256,), i32))})).result
        return [lut, sm]

    module = _func([TensorType((1, 4), i8)], build)
    x = np.array([[-100, 3, 60, 0]], np.int8)
    lut, sm = run_reference(module, [x])
    assert lut.tolist() == [[-128, 6, 120, 0]]
    want = np.exp(0.1 * x.astype(np.float64)) / np.exp(0.1 * x.astype(np.float64)).sum()
    assert np.abs(sm / 127.0 - want).max() <= 1 / 127
    # e = [~0, 3508, 2**20, 2599], sum 1054683: 127 * 2**20 / sum = 126.26 -> 126
    assert sm.tolist() == [[0, 0, 126, 0]]


def test_avg_pool_count_and_rounding() -> None:
    def build(block, args):  # noqa: ANN001, ANN202
        pool = qgraph.AvgPoolOp([args[0]], [TensorType((1, 1, 1, 1), i8)], {
            "kernel": [2, 2], "strides": [1, 1], "pads": [0, 0, 0, 0], "ceil_mode": 0,
            "count_include_pad": 1, "multiplier": f32a(1.0)})
        return [block.append(pool).result]

    module = _func([TensorType((1, 1, 2, 2), i8)], build)
    # sums 10 and 14 over 4 -> 2.5 -> 2 and 3.5 -> 4 (ties to even)
    assert run_reference(module, [np.array([[[[1, 2], [3, 4]]]], np.int8)])[0].item() == 2
    assert run_reference(module, [np.array([[[[2, 3], [4, 5]]]], np.int8)])[0].item() == 4


def test_attribute_types_are_checked() -> None:
    op = qgraph.RequantOp([], [], {"multiplier": FloatAttr(0.5)})
    assert isinstance(op.attributes["multiplier"], FloatAttr)
    assert IntAttr(1).data == 1 and isinstance(ArrayAttr([]), ArrayAttr)
