"""Evaluate `graph` ops whose inputs are all constants; drop Identity/Dropout."""

from __future__ import annotations

from dataclasses import dataclass

from dlac.ir.attributes import element_type, numpy_dtype
from dlac.ir.core import Operation
from dlac.ir.dialects.graph import GraphOp, NoneOp
from dlac.ir.semantics.graph import run_op
from dlac.passes.graph_utils import const_value, erase_dead, functions, make_constant, replace_op
from dlac.passes.pass_base import ModulePass

# Q/DQ pairs carry the model's own scales; fold-qdq consumes them, so they are not folded.
KEEP = ("graph.quantize_linear", "graph.dequantize_linear")


@dataclass(frozen=True)
class FoldConstants(ModulePass):
    """Replace constant sub-computations (shape arithmetic, ConstantOfShape weights of
    weight-stripped models, ...) by `graph.constant`, and forward Identity/Dropout inputs.

    Before:
        %s = graph.constant {value = dense<[64, 3, 7, 7]> : tensor<4xi64>} : () -> tensor<4xi64>
        %w = graph.constant_of_shape %s : (tensor<4xi64>) -> tensor<64x3x7x7xf32>
        %y = graph.identity %x : (tensor<1x8xf32>) -> tensor<1x8xf32>
    After:
        %w = graph.constant {value = dense<"0x..."> : tensor<64x3x7x7xf32>} : () -> ...
        (uses of %y now use %x)
    """

    name = "fold-constants"

    def apply(self, module: Operation) -> None:
        opset = int(module.attr("onnx_opset", 17))
        for func in functions(module):
            block = func.body.block
            for op in list(block.ops):
                if not isinstance(op, GraphOp):
                    continue
                if op.name in KEEP:
                    continue
                if op.name in ("graph.identity", "graph.dropout") and op.operands and \
                        op.attr("quant_scale") is None:
                    replace_op(op, [op.operands[0]] * len(op.results))
                    continue
                args = []
                for v in op.operands:
                    if isinstance(getattr(v, "op", None), NoneOp):
                        args.append(None)
                        continue
                    arr = const_value(v)
                    if arr is None:
                        break
                    args.append(arr)
                else:
                    outs = run_op(op, args, opset)
                    news = []
                    for res, out in zip(op.results, outs, strict=False):
                        out = out.astype(numpy_dtype(res.type.element), copy=False)
                        news.append(make_constant(block, op, out, element_type(out.dtype),
                                                  res.name_hint, op.loc))
                    replace_op(op, news)
            erase_dead(block)
