"""Rewrite pre-quantized ONNX operator forms into QDQ form before import.

onnxruntime's quantizer writes a model in one of three forms: QDQ (float ops between
QuantizeLinear/DequantizeLinear pairs, which `fold-qdq` reads), QOperator (QLinearConv,
QLinearMatMul and com.microsoft QLinear* ops on integer tensors) and dynamic
(DynamicQuantizeLinear -> ConvInteger/MatMulInteger -> Cast -> Mul by the scales). The
last two say the same thing as QDQ in a form the IR has no ops for, so this module turns
them into it on the ONNX graph: each QLinear op becomes DequantizeLinear of its inputs ->
the float op -> QuantizeLinear with the op's own output scale and zero point, so every
scale the model chose reaches the quantizer unchanged. Ops that move integer tensors
unchanged (MaxPool, Reshape, Flatten, ...) get the same wrapping with their input's scale.

A dynamic scale is computed per run from the activation's range; Gemmini's requantization
multipliers are compile-time constants, so the dynamic chain becomes the float Conv/MatMul
over the model's own dequantized weights, its activation is calibrated like an fp32
model's, and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import FrontendError

if TYPE_CHECKING:
    import onnx


@dataclass(frozen=True)
class _QOp:
    """How a QLinear op maps onto a float op: its float op type, the (data, scale, zero
    point) input indices of each quantized input, the output's (scale, zero point)
    indices (None: float output), and an int32 bias input whose scale is the product
    of the first two inputs' scales."""

    float_op: str
    inputs: tuple[tuple[int, int, int], ...]
    output: tuple[int, int] | None
    bias: int | None = None
    drop_attrs: tuple[str, ...] = ()


QLINEAR: dict[str, _QOp] = {
    "QLinearConv": _QOp("Conv", ((0, 1, 2), (3, 4, 5)), (6, 7), bias=8),
    "QLinearMatMul": _QOp("MatMul", ((0, 1, 2), (3, 4, 5)), (6, 7)),
    "QGemm": _QOp("Gemm", ((0, 1, 2), (3, 4, 5)), (7, 8), bias=6),
    "QLinearAdd": _QOp("Add", ((0, 1, 2), (3, 4, 5)), (6, 7)),
    "QLinearMul": _QOp("Mul", ((0, 1, 2), (3, 4, 5)), (6, 7)),
    "QLinearGlobalAveragePool": _QOp("GlobalAveragePool", ((0, 1, 2),), (3, 4),
                                     drop_attrs=("channels_last",)),
    "QLinearAveragePool": _QOp("AveragePool", ((0, 1, 2),), (3, 4),
                               drop_attrs=("channels_last",)),
    "QLinearSigmoid": _QOp("Sigmoid", ((0, 1, 2),), (3, 4)),
    "QLinearLeakyRelu": _QOp("LeakyRelu", ((0, 1, 2),), (3, 4)),
    "QLinearSoftmax": _QOp("Softmax", ((0, 1, 2),), (3, 4), drop_attrs=("opset",)),
}
#: Ops that pass integer tensors through unchanged (same scale and zero point).
PASS_THROUGH = frozenset({
    "MaxPool", "GlobalMaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
    "Identity", "Slice", "Split", "Resize", "Upsample", "Gather", "Tile", "Expand",
    "DepthToSpace", "SpaceToDepth", "Pad"})
INTEGER_OPS = ("ConvInteger", "MatMulInteger")
WHY_DYNAMIC = ("Gemmini's requantization multipliers are compile-time constants; a scale "
               "computed per run cannot be expressed")


def rewrite_quantized_ops(model: onnx.ModelProto
                          ) -> tuple[onnx.ModelProto, list[dict[str, str]]]:
    """`model` with its QOperator and dynamic-quantization nodes in QDQ form (a copy when
    there is any), and the notes (node, change, why) on what lost the model's own
    arithmetic."""
    import onnx

    if not any(n.op_type in QLINEAR or n.op_type in INTEGER_OPS or n.op_type == "QLinearConcat"
               for n in model.graph.node):
        return model, []
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    rewriter = _Rewriter(copy.graph)
    rewriter.run()
    return copy, rewriter.notes


class _Rewriter:
    def __init__(self, graph: onnx.GraphProto) -> None:
        from onnx import numpy_helper

        self.graph = graph
        self.inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer
                      if int(np.prod(t.dims)) <= 4096}
        self.quantized: dict[str, tuple[str, str]] = {}  # int tensor -> (scale, zero point)
        self.dequantized: dict[str, str] = {}
        self.nodes: list[onnx.NodeProto] = []
        self.notes: list[dict[str, str]] = []
        self.fresh = 0

    def name(self, base: str) -> str:
        self.fresh += 1
        return f"{base}__dlac{self.fresh}"

    def init(self, base: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(base)
        self.graph.initializer.append(numpy_helper.from_array(array, name))
        self.inits[name] = array
        return name

    def node(self, op_type: str, inputs: list[str], outputs: list[str], name: str,
             **attrs: object) -> None:
        from onnx import helper

        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=name, **attrs))

    def run(self) -> None:
        dynamic = _DynamicChains(self.graph)
        for index, node in enumerate(self.graph.node):
            label = node.name or f"{node.op_type}_{index}"
            if node.op_type == "QuantizeLinear" and node.domain in ("", "ai.onnx"):
                self.quantized[node.output[0]] = (node.input[1], _opt(node.input, 2))
                self.nodes.append(node)
            elif node.op_type in QLINEAR:
                self._qlinear(node, label)
            elif node.op_type == "QLinearConcat":
                self._concat(node, label)
            elif node.op_type in INTEGER_OPS and dynamic.match(node) is not None:
                self._dynamic(node, label, dynamic.match(node))
            elif node.op_type in PASS_THROUGH and node.input and \
                    node.input[0] in self.quantized:
                self._pass_through(node, label)
            elif id(node) not in dynamic.absorbed:
                self.nodes.append(node)
        del self.graph.node[:]
        self.graph.node.extend(self.nodes)
        _remove_dead(self.graph)

    def dequantize(self, data: str, scale: str, zero: str, label: str,
                   axis: int | None = None) -> str:
        """A DequantizeLinear of `data` (one per quantized activation, shared)."""
        if axis is None and data in self.dequantized:
            return self.dequantized[data]
        out = self.name(f"{data}_dq")
        attrs = {} if axis is None else {"axis": axis}
        self.node("DequantizeLinear", [data, scale, zero] if zero else [data, scale], [out],
                  f"{label}/dequantize {data}", **attrs)
        if axis is None:
            self.dequantized[data] = out
        return out

    def quantize(self, value: str, out: str, scale: str, zero: str, label: str) -> None:
        self.node("QuantizeLinear", [value, scale, zero] if zero else [value, scale], [out],
                  f"{label}/quantize {out}")
        self.quantized[out] = (scale, zero)

    def _qlinear(self, node: onnx.NodeProto, label: str) -> None:
        spec = QLINEAR[node.op_type]
        ins = list(node.input)
        floats = []
        scales = []
        for data, scale, zero in spec.inputs:
            weight = ins[data] in self.inits and ins[data] not in self.quantized
            axis = self._weight_axis(node, data, ins[scale]) if weight else None
            floats.append(self.dequantize(ins[data], ins[scale], _opt(ins, zero), label, axis))
            scales.append(self.inits.get(ins[scale]))
        if spec.bias is not None and _opt(ins, spec.bias):
            floats.append(self._bias(node, ins[spec.bias], scales, label))
        from onnx import helper

        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute
                 if a.name not in spec.drop_attrs}
        if spec.output is None or not _opt(ins, spec.output[0]):
            self.node(spec.float_op, floats, list(node.output), label, **attrs)
            return
        value = self.name(f"{node.output[0]}_f")
        self.node(spec.float_op, floats, [value], label, **attrs)
        self.quantize(value, node.output[0], ins[spec.output[0]], _opt(ins, spec.output[1]),
                      label)

    def _weight_axis(self, node: onnx.NodeProto, data: int, scale: str) -> int | None:
        """DequantizeLinear's axis for a per-channel weight (output channels)."""
        s = self.inits.get(scale)
        if s is None or s.size == 1:
            return None
        if node.op_type == "QGemm":
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            return 0 if trans_b else 1
        return 0 if node.op_type == "QLinearConv" else -1

    def _bias(self, node: onnx.NodeProto, bias: str, scales: list, label: str) -> str:
        """The int32 bias dequantized at (input scale) x (weight scale), as onnxruntime
        quantized it."""
        if scales[0] is None or scales[1] is None:
            raise FrontendError(f"node '{label}' ({node.op_type}): non-constant scales")
        alpha = next((a.f for a in node.attribute if a.name == "alpha"), 1.0)
        product = (scales[0].astype(np.float32) * scales[1].astype(np.float32) *
                   np.float32(alpha)).astype(np.float32).reshape(-1)
        scale = self.init(f"{bias}_scale", product if product.size > 1 else product[0])
        return self.dequantize(bias, scale, "", label, 0 if product.size > 1 else None)

    def _concat(self, node: onnx.NodeProto, label: str) -> None:
        """QLinearConcat(Y_scale, Y_zero_point, (X, X_scale, X_zero_point)...)."""
        ins = list(node.input)
        parts = [self.dequantize(ins[i], ins[i + 1], ins[i + 2], label)
                 for i in range(2, len(ins) - 2, 3)]
        axis = next(a.i for a in node.attribute if a.name == "axis")
        value = self.name(f"{node.output[0]}_f")
        self.node("Concat", parts, [value], label, axis=axis)
        self.quantize(value, node.output[0], ins[0], ins[1], label)

    def _pass_through(self, node: onnx.NodeProto, label: str) -> None:
        scale, zero = self.quantized[node.input[0]]
        ins = [self.dequantize(i, *self.quantized[i], label) if i in self.quantized else i
               for i in node.input]
        outs = [self.name(f"{o}_f") if o else "" for o in node.output]
        new = type(node)()
        new.CopyFrom(node)
        del new.input[:]
        new.input.extend(ins)
        del new.output[:]
        new.output.extend(outs)
        self.nodes.append(new)
        for old, value in zip(node.output, outs, strict=True):
            if old:
                self.quantize(value, old, scale, zero, label)

    def _dynamic(self, node: onnx.NodeProto, label: str, chain: _Chain) -> None:
        weight = node.input[1]
        scale = self.inits[chain.weight_scale]
        axis = None if scale.size == 1 else (0 if node.op_type == "ConvInteger" else -1)
        w = self.dequantize(weight, chain.weight_scale, _opt(node.input, 3), label, axis)
        from onnx import helper

        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        float_op = "Conv" if node.op_type == "ConvInteger" else "MatMul"
        self.node(float_op, [chain.activation, w], [chain.output], label, **attrs)
        self.notes.append({"node": label,
                           "change": "dynamic activation quantization (DynamicQuantizeLinear, "
                                     "scale computed per run) replaced by a calibrated static "
                                     "scale; the model's int8 weights and weight scale kept",
                           "why": WHY_DYNAMIC})


@dataclass(frozen=True)
class _Chain:
    """DynamicQuantizeLinear(activation) -> ConvInteger/MatMulInteger -> Cast -> Mul by
    (activation scale x weight_scale) = output; `absorbed`: ids of the Cast and Mul nodes
    the float op replaces (the scale product and the DynamicQuantizeLinear die with them)."""

    activation: str
    weight_scale: str
    output: str
    absorbed: tuple[int, ...]


class _DynamicChains:
    """Finds onnxruntime's dynamic-quantization chains by the tensors they connect."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.producer = {o: n for n in graph.node for o in n.output if o}
        self.users: dict[str, list[onnx.NodeProto]] = {}
        for n in graph.node:
            for i in n.input:
                self.users.setdefault(i, []).append(n)
        self.inits = {t.name for t in graph.initializer}
        self.chains: dict[int, _Chain] = {}
        for n in graph.node:
            if n.op_type in INTEGER_OPS:
                chain = self._find(n)
                if chain is not None:
                    self.chains[id(n)] = chain
        self.absorbed = {a for c in self.chains.values() for a in c.absorbed}

    def match(self, node: onnx.NodeProto) -> _Chain | None:
        return self.chains.get(id(node))

    def _only_user(self, tensor: str) -> onnx.NodeProto | None:
        users = self.users.get(tensor, [])
        return users[0] if len(users) == 1 else None

    def _find(self, node: onnx.NodeProto) -> _Chain | None:
        dql = self.producer.get(node.input[0])
        if dql is None or dql.op_type != "DynamicQuantizeLinear" or \
                node.input[1] not in self.inits or \
                (len(node.input) > 2 and node.input[2] and node.input[2] != dql.output[2]):
            return None
        cast = self._only_user(node.output[0])
        mul = self._only_user(cast.output[0]) if cast is not None and \
            cast.op_type == "Cast" else None
        if mul is None or mul.op_type != "Mul":
            return None
        other = mul.input[1] if mul.input[0] == cast.output[0] else mul.input[0]
        scales = self.producer.get(other)
        if scales is None or scales.op_type != "Mul" or dql.output[1] not in scales.input:
            return None
        weight_scale = scales.input[1] if scales.input[0] == dql.output[1] else scales.input[0]
        if weight_scale not in self.inits:
            return None
        return _Chain(dql.input[0], weight_scale, mul.output[0], (id(cast), id(mul)))


def _opt(inputs: list[str] | object, index: int) -> str:
    """The optional input at `index`, or '' when absent."""
    seq = list(inputs)  # type: ignore[call-overload]
    return seq[index] if index < len(seq) else ""


def _remove_dead(graph: onnx.GraphProto) -> None:
    """Drop nodes none of whose outputs is used (a DynamicQuantizeLinear left behind)."""
    while True:
        used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        keep = [n for n in graph.node if any(o in used for o in n.output if o)]
        if len(keep) == len(graph.node):
            return
        del graph.node[:]
        graph.node.extend(keep)
