"""`graph` dialect: tensor-level ops, one per ONNX op family, as the importer produces them.

The importer maps ONNX nodes mechanically onto these ops: operands are the node's inputs in
ONNX order (an absent optional input is the result of `graph.none`), results its outputs,
and attributes keep their ONNX names and values. Meaning is given later by lowering passes
and by the numpy evaluator in `dlac.ir.semantics.graph`, never by the importer.
"""

from __future__ import annotations

from dlac.ir.attributes import DenseAttr
from dlac.ir.core import Operation
from dlac.ir.opdef import PURE, Attr, Operand, Result, register_op
from dlac.ir.types import NoneType, TensorType

# ONNX op type -> graph op name. Each entry becomes one registered op class.
ONNX_OPS: dict[str, str] = {
    "Conv": "conv", "ConvTranspose": "conv_transpose", "Gemm": "gemm", "MatMul": "matmul",
    "Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Sum": "sum", "Pow": "pow",
    "Sqrt": "sqrt", "Exp": "exp", "Neg": "neg", "Erf": "erf", "Relu": "relu", "Clip": "clip",
    "Sigmoid": "sigmoid", "HardSigmoid": "hard_sigmoid", "HardSwish": "hard_swish",
    "Tanh": "tanh", "Gelu": "gelu", "LeakyRelu": "leaky_relu", "Softsign": "softsign",
    "BatchNormalization": "batch_norm", "MaxPool": "max_pool", "AveragePool": "average_pool",
    "GlobalAveragePool": "global_average_pool", "GlobalMaxPool": "global_max_pool",
    "ReduceMean": "reduce_mean", "Flatten": "flatten", "Reshape": "reshape",
    "Transpose": "transpose", "Concat": "concat", "Split": "split", "Slice": "slice",
    "Squeeze": "squeeze", "Unsqueeze": "unsqueeze", "Identity": "identity",
    "Dropout": "dropout", "Softmax": "softmax", "LogSoftmax": "log_softmax",
    "LayerNormalization": "layer_norm", "Resize": "resize", "Upsample": "upsample",
    "Pad": "pad", "Gather": "gather",
    "Shape": "shape", "Cast": "cast", "ConstantOfShape": "constant_of_shape",
    "Expand": "expand", "LRN": "lrn", "QuantizeLinear": "quantize_linear",
    "DequantizeLinear": "dequantize_linear",
    "Reciprocal": "reciprocal", "Log": "log", "Abs": "abs", "Softplus": "softplus",
    "Mish": "mish", "Elu": "elu", "Selu": "selu", "Celu": "celu",
    "ThresholdedRelu": "thresholded_relu", "Sin": "sin", "Cos": "cos", "Floor": "floor",
    "Ceil": "ceil", "Round": "round", "Sign": "sign", "Shrink": "shrink",
    "Tile": "tile", "DepthToSpace": "depth_to_space", "SpaceToDepth": "space_to_depth",
    "GatherElements": "gather_elements", "Range": "range",
    "InstanceNormalization": "instance_norm", "ReduceSum": "reduce_sum",
    "ReduceMax": "reduce_max", "ReduceMin": "reduce_min", "ReduceL1": "reduce_l1",
    "ReduceL2": "reduce_l2", "ReduceSumSquare": "reduce_sum_square",
    "ReduceProd": "reduce_prod", "ReduceLogSumExp": "reduce_log_sum_exp", "Where": "where",
    "LSTM": "lstm", "GRU": "gru", "TopK": "top_k", "ArgMax": "arg_max", "ArgMin": "arg_min",
    "Equal": "equal", "Less": "less", "Greater": "greater", "LessOrEqual": "less_or_equal",
    "GreaterOrEqual": "greater_or_equal", "Not": "not", "And": "and", "Or": "or", "Xor": "xor",
}


class GraphOp(Operation):
    """Base of the ONNX-mirroring ops: any number of operands/results, free-form attrs."""

    __slots__ = ()
    OPERANDS = (Operand("inputs", (TensorType, NoneType), variadic=True),)
    RESULTS = (Result("outputs", TensorType, variadic=True),)
    TRAITS = (PURE,)
    ONNX_TYPE = ""


OP_CLASSES: dict[str, type[GraphOp]] = {}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Op"


for _onnx, _name in ONNX_OPS.items():
    _cls = type(_camel(_name), (GraphOp,), {"__slots__": (), "NAME": f"graph.{_name}",
                                            "ONNX_TYPE": _onnx, "__doc__": f"ONNX {_onnx}."})
    OP_CLASSES[_onnx] = register_op(_cls)
    globals()[_cls.__name__] = _cls

AddOp = OP_CLASSES["Add"]
ReluOp = OP_CLASSES["Relu"]
ConvOp = OP_CLASSES["Conv"]


@register_op
class ConstantOp(Operation):
    """An initializer or ONNX Constant: the tensor lives in the `value` attribute."""

    __slots__ = ()
    NAME = "graph.constant"
    RESULTS = (Result("output", TensorType),)
    ATTRS = (Attr("value", DenseAttr),)
    TRAITS = (PURE,)

    def verify_(self) -> None:
        if self.attributes["value"].type is not self.results[0].type:
            raise self.error("value type does not match the result type")


@register_op
class NoneOp(Operation):
    """Placeholder for an absent optional ONNX input that precedes a present one."""

    __slots__ = ()
    NAME = "graph.none"
    RESULTS = (Result("output", NoneType),)
    TRAITS = (PURE,)
