"""Fold QuantizeLinear/DequantizeLinear (onnxruntime QDQ form), keeping the model's scales."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.attributes import DenseAttr, FloatAttr
from dlac.ir.core import Operation, Value
from dlac.ir.dialects.graph import OP_CLASSES, ConstantOp, NoneOp
from dlac.ir.quant_notes import add_notes
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


def _kind(value: Value) -> str:
    return "uint8" if value.type.element.width == 16 else "int8"


def _symmetric(zp: int, value: Value) -> bool:
    # uint8 (imported as i16) with zero point 128 is int8 with zero point 0, shifted;
    # uint8 with zero point 0 is one-sided.
    return zp == (128 if _kind(value) == "uint8" else 0)


def _symmetric_cover(scale: float, zp: int, value: Value) -> tuple[float, float, float]:
    """(symmetric int8 scale covering the asymmetric range, range low, range high)."""
    q_lo, q_hi = (0, 255) if _kind(value) == "uint8" else (-128, 127)
    lo, hi = (q_lo - zp) * scale, (q_hi - zp) * scale
    return max(-lo, hi) / 127.0, lo, hi


WHY_ZERO_POINT = "Gemmini's int8 arithmetic has zero point 0"
WHY_ONE_SCALE = "Gemmini requantizes each conv/matmul call with one multiplier"


@dataclass(frozen=True)
class FoldQdq(ModulePass):
    """DequantizeLinear of a constant becomes the float constant, tagged with its scale;
    a QuantizeLinear -> DequantizeLinear pair on an activation disappears, its scale
    (`quant_scale`) set on the op producing the tensor (an identity carries it for a
    function argument or a multi-result producer); the quantize pass uses that scale, and
    fusion passes see the same chains as in an fp32 model (`replace_op` hands a fused-away
    op's scale to the op that now computes its tensor).

    What Gemmini cannot express is requantized and noted in the module's `quant_notes`:
    an asymmetric activation (zero point not 0) gets the symmetric scale that covers the
    same range, and a ReLU when the range starts at 0 (onnxruntime folds ReLU into such a
    zero point); per-channel and asymmetric weights become float constants that the
    quantize pass requantizes with one scale per call.

    Before:
        %q = graph.quantize_linear %x, %s, %zp : (...) -> tensor<1x8xi8>
        %d = graph.dequantize_linear %q, %s, %zp : (...) -> tensor<1x8xf32>
    After (%x produced by graph.relu):
        %x = graph.relu %a {quant_scale = 0.05 : f32} : (...) -> tensor<1x8xf32>
    """

    name = "fold-qdq"

    def apply(self, module: Operation) -> None:
        notes: list[dict[str, str]] = []
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
                    elif src.type.element.width == 8 or _kind(src) == "uint8":
                        notes.append(_weight_note(op, params, data.shape))
                    const = ConstantOp(result_types=[ty], attributes=attrs, loc=op.loc)
                    block.insert_before(op, const)
                    replace_op(op, [const.result])
                elif producer is not None and producer.name == "graph.quantize_linear":
                    qp = _qparams(producer)
                    if params is None or qp != params:
                        raise PassError(f"{op.loc.prefix()}: QDQ pair with per-axis or "
                                        f"mismatched scales is not supported")
                    x = producer.operands[0]
                    scale, zp = params
                    if not _symmetric(zp, src):
                        scale, lo, hi = _symmetric_cover(scale, zp, src)
                        relu_added = lo >= 0 and not _non_negative(x)
                        if relu_added:
                            relu = OP_CLASSES["Relu"]([x], [x.type], loc=op.loc)
                            block.insert_before(op, relu)
                            x = relu.results[0]
                        notes.append(_activation_note(op, params, src, scale, lo, hi,
                                                      relu_added))
                    owner = getattr(x, "op", None)
                    if owner is not None and len(owner.results) == 1 and \
                            owner.attr("quant_scale") in (None, scale):
                        # the producer carries the scale: fusions see the fp32 chain
                        owner.set_attr("quant_scale", FloatAttr(scale, f32))
                        replace_op(op, [x])
                        continue
                    ident = OP_CLASSES["Identity"](
                        [x], [op.results[0].type], {"quant_scale": FloatAttr(scale, f32)},
                        loc=op.loc)
                    block.insert_before(op, ident)
                    replace_op(op, [ident.results[0]])
            erase_dead(block)
        add_notes(module, notes)


#: Ops whose output is >= 0 (whatever the input), and ops whose output is >= 0 when every
#: float input is: a one-sided range needs no ReLU after them.
_NON_NEGATIVE = ("graph.relu", "graph.sigmoid", "graph.softmax")
_KEEPS_SIGN = ("graph.concat", "graph.max_pool", "graph.global_max_pool", "graph.average_pool",
               "graph.global_average_pool", "graph.reshape", "graph.flatten", "graph.transpose",
               "graph.squeeze", "graph.unsqueeze", "graph.slice", "graph.resize",
               "graph.identity")


def _non_negative(value: Value, depth: int = 8) -> bool:
    owner = getattr(value, "op", None)
    if owner is None or depth == 0:
        return False
    if owner.name in _NON_NEGATIVE:
        return True
    if owner.name not in _KEEPS_SIGN:
        return False
    data = [v for v in owner.operands if isinstance(v.type, TensorType)
            and v.type.element is f32 and const_value(v) is None]
    if owner.name not in ("graph.concat",):
        data = data[:1]
    return bool(data) and all(_non_negative(v, depth - 1) for v in data)


def _activation_note(op: Operation, params: tuple[float, int], src: Value, scale: float,
                     lo: float, hi: float, relu_added: bool) -> dict[str, str]:
    relu = ", negative values clipped by a ReLU" if relu_added else ""
    return {"node": op.loc.prefix(),
            "change": f"asymmetric {_kind(src)} activation (scale {params[0]:.6g}, zero point "
                      f"{params[1]}) requantized to symmetric int8 with scale {scale:.6g} over "
                      f"its range [{lo:.6g}, {hi:.6g}]{relu}",
            "why": WHY_ZERO_POINT}


def _weight_note(op: Operation, params: tuple[float, int] | None,
                 shape: tuple[int, ...]) -> dict[str, str]:
    if params is None:
        scales = const_value(op.operands[1])
        count = 1 if scales is None else scales.size
        return {"node": op.loc.prefix(),
                "change": f"per-channel weight scales ({count}) of a {list(shape)} weight "
                          f"requantized to one scale per call (per tensor, per "
                          f"--weight-groups group or per --weight-splits run)",
                "why": WHY_ONE_SCALE}
    return {"node": op.loc.prefix(),
            "change": f"asymmetric weights (zero point {params[1]}) requantized to symmetric "
                      f"int8 with one scale per call",
            "why": WHY_ZERO_POINT}
