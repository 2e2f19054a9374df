"""Fold QuantizeLinear/DequantizeLinear (onnxruntime QDQ form), keeping the model's scales."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.attributes import DenseAttr, FloatAttr
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.graph import OP_CLASSES, ConstantOp, NoneOp
from dlac.ir.semantics.graph import run_op
from dlac.ir.types import TensorType, f32
from dlac.passes.graph_utils import const_value, erase_dead, functions, replace_op
from dlac.passes.pass_base import ModulePass, PassError


def _qparams(op: Operation) -> tuple[float, int] | None:
    """(scale, zero point) of a per-tensor Q/DQ op, or None if per-axis."""
    scale = const_value(op.operands[1])
    zp_v = op.operands[2] if len(op.operands) > 2 else None
    zp = None if zp_v is None or isinstance(getattr(zp_v, "op", None), NoneOp) \
        else const_value(zp_v)
    if scale is None or scale.size != 1 or (zp is not None and zp.size != 1):
        return None
    return float(scale.reshape(())), 0 if zp is None else int(zp.reshape(()))


def _symmetric(zp: int, value: Value) -> bool:
    # uint8 (imported as i16) with zero point 128 is int8 with zero point 0, shifted.
    return zp == 0 or (zp == 128 and value.type.element.width == 16)


@dataclass(frozen=True)
class FoldQdq(ModulePass):
    """DequantizeLinear of a constant becomes the float constant, tagged with its scale;
    a QuantizeLinear -> DequantizeLinear pair on an activation becomes an identity that
    fixes that tensor's scale (`quant_scale`), which the quantize pass then uses.

    Before:
        %q = graph.quantize_linear %x, %s, %zp : (...) -> tensor<1x8xi8>
        %d = graph.dequantize_linear %q, %s, %zp : (...) -> tensor<1x8xf32>
    After:
        %d = graph.identity %x {quant_scale = 0.05 : f32} : (...) -> tensor<1x8xf32>
    """

    name = "fold-qdq"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            block = func.body.block
            for op in list(block.ops):
                if op.name != "graph.dequantize_linear" or op.parent is None:
                    continue
                params = _qparams(op)
                src = op.operands[0]
                data = const_value(src)
                producer = getattr(src, "op", None)
                if data is not None:
                    scale, zp = params if params else (None, 0)
                    if params is None:
                        value = run_op(op, [data] + [const_value(v) for v in op.operands[1:]])[0]
                    else:
                        value = ((data.astype(np.int32) - zp) * np.float32(scale))
                    value = value.astype(np.float32)
                    ty = TensorType(value.shape, f32)
                    attrs: dict[str, object] = {"value": DenseAttr(value, ty)}
                    if params is not None and _symmetric(zp, src):
                        attrs["quant_scale"] = FloatAttr(scale, f32)
                    const = ConstantOp(result_types=[ty], attributes=attrs, loc=op.loc)
                    block.insert_before(op, const)
                    replace_op(op, [const.result])
                elif producer is not None and producer.name == "graph.quantize_linear":
                    qp = _qparams(producer)
                    if params is None or qp != params:
                        raise PassError(f"{op.loc.prefix()}: QDQ pair with per-axis or "
                                        f"mismatched scales is not supported")
                    x = producer.operands[0]
                    attrs = {}
                    if _symmetric(params[1], src):
                        attrs["quant_scale"] = FloatAttr(params[0], f32)
                    ident = OP_CLASSES["Identity"]([x], [op.results[0].type], attrs, loc=op.loc)
                    block.insert_before(op, ident)
                    replace_op(op, [ident.results[0]])
            erase_dead(block)
