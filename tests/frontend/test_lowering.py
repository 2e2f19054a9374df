"""lower-to-loops: kernels carry problem dims and Gemmini layouts; IR verifies and round-trips."""

from __future__ import annotations

import numpy as np
from dlac.flow import stages as pipeline
from dlac.frontend.importer import import_onnx
from dlac.ir.parser import parse_module
from dlac.ir.printer import print_op
from dlac.ir.verifier import verify
from onnx_builders import conv_chain_model, single_node_model


def lower(model) -> tuple[object, str]:  # noqa: ANN001
    module = pipeline.prepare_stage(import_onnx(model))
    module = pipeline.lower_stage(pipeline.quantize_stage(module))
    text = print_op(module)
    again = parse_module(text)
    verify(again)
    assert print_op(again) == text
    return module, text


def kernels(module) -> list:  # noqa: ANN001
    return [op for op in module.walk() if op.name == "loop.kernel"]


def check_order(text: str, patterns: list[str]) -> None:
    """FileCheck-style CHECK lines: each pattern on a later line than the previous one."""
    lines = text.splitlines()
    pos = 0
    for pat in patterns:
        while pos < len(lines) and pat not in lines[pos]:
            pos += 1
        assert pos < len(lines), f"'{pat}' not found in order"
        pos += 1


def test_conv_chain_lowering() -> None:
    module, text = lower(conv_chain_model())
    ks = kernels(module)
    assert [k.attr("kind") for k in ks] == ["conv", "conv", "resadd", "matmul"]
    conv = ks[0]
    assert conv.attr("dims") == {"N": 1, "K": 8, "C": 3, "P": 8, "Q": 8, "R": 3, "S": 3}
    assert conv.attr("act") == "relu" and conv.attr("has_bias") is True
    # NHWC activations, HWIO weights, int32 bias
    assert [str(v.type) for v in conv.operands] == [
        'memref<1x8x8x3xi8, "dram">', 'memref<3x3x3x8xi8, "dram">', 'memref<8xi32, "dram">',
        'memref<1x8x8x8xi8, "dram">']
    check_order(text, [
        "func.func @main(%x: memref<1x3x8x8xf32>, %y: memref<1x4xf32>)",
        "loop.quantize",
        '"loop.kernel"',
        'loop.for %n = 0 to 1 step 1 attributes {dim = "N"',
        'loop.for %k = 0 to 8 step 1 attributes {dim = "K"',
        'loop.for %c = 0 to 3 step 1 attributes {dim = "C", iter = "reduction"}',
        "loop.mac %r1, %x_q, %w1, %n, %k, %c, %q, %p, %s, %r {out_map = affine_map<"
        "(d0, d1, d2, d3, d4, d5, d6) -> (d0, d3, d4, d1)>, a_map = affine_map<"
        "(d0, d1, d2, d3, d4, d5, d6) -> (d0, d3 + d5 - 1, d4 + d6 - 1, d2)>",
        'kind = "conv", dims = {N = 1, K = 8, C = 3, P = 8, Q = 8, R = 3, S = 3}',
        'kind = "resadd"',
        'loop.host %a, %g {kind = "qgraph.avg_pool"',
        'loop.host %g, %f {kind = "graph.flatten", layouts = ["nhwc", "nchw"]}',
        'kind = "matmul", dims = {I = 1, J = 4, K = 8}',
        "loop.dequantize",
        "func.return"])


def test_depthwise_and_grouped_conv() -> None:
    rng = np.random.default_rng(0)
    dw = single_node_model("Conv", {"x": (1, 4, 6, 6)}, None, {"group": 4, "pads": [1] * 4},
                           {"w": rng.standard_normal((4, 1, 3, 3)).astype(np.float32)})
    module, _ = lower(dw)
    (k,) = kernels(module)
    assert k.attr("kind") == "conv_dw" and k.attr("dims")["C"] == 1
    grouped = single_node_model("Conv", {"x": (1, 4, 6, 6)}, None, {"group": 2},
                                {"w": rng.standard_normal((6, 2, 3, 3)).astype(np.float32)})
    module, text = lower(grouped)
    ks = kernels(module)
    assert [k.attr("k_offset") for k in ks] == [0, 3]
    assert [k.attr("c_offset") for k in ks] == [0, 2]
    assert "(d5, d6, d2, d1 + 3)" in text


def test_batched_matmul_has_batch_loops() -> None:
    model = single_node_model("MatMul", {"a": (2, 3, 4, 5), "b": (2, 3, 5, 6)}, None)
    module, text = lower(model)
    (k,) = kernels(module)
    assert k.attr("dims") == {"B": 6, "I": 4, "J": 6, "K": 5}
    assert 'loop.for %b0 = 0 to 2' in text and 'loop.for %b1 = 0 to 3' in text


def test_elementwise_host_nest_uses_layout_maps() -> None:
    model = single_node_model("Sigmoid", {"x": (1, 2, 3, 3)}, None)
    module, text = lower(model)
    assert not kernels(module)
    assert "loop.lut" in text
    # input is quantized into NHWC, the output is read back through the NHWC map
    assert "affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>" in text


def test_conv_transpose_lowers_to_zero_insertion_and_a_stride_1_conv() -> None:
    rng = np.random.default_rng(5)
    model = single_node_model("ConvTranspose", {"x": (1, 2, 4, 4)}, None, {"strides": [2, 2]},
                              {"w": rng.standard_normal((2, 3, 3, 3)).astype(np.float32)})
    module, text = lower(model)
    (k,) = kernels(module)
    assert k.attr("kind") == "conv" and k.attr("input_dilation") is None
    assert k.attr("strides") == (1, 1)
    assert k.attr("dims") == {"N": 1, "K": 3, "C": 2, "P": 9, "Q": 9, "R": 3, "S": 3}
    assert "qgraph.zero_insert" in text
