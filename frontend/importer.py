"""Mechanical ONNX -> `graph` dialect import.

Each ONNX node becomes one `graph` op carrying its attributes verbatim, each initializer
(and Constant node) a `graph.constant`; types come from `onnx.shape_inference` run on the
model with the user's input shapes substituted. Nothing is simplified here: folding,
fusion and lowering are separate passes so each can be tested on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from dlac.frontend.einsum import rewrite_einsums
from dlac.frontend.errors import FrontendError
from dlac.frontend.loader import load_onnx
from dlac.frontend.qoperators import rewrite_quantized_ops
from dlac.frontend.shapes import check_shape
from dlac.frontend.static_shapes import fold_shape_computations, static_shapes
from dlac.ir.attributes import (
    ArrayAttr,
    Attribute,
    DenseAttr,
    FloatAttr,
    IntAttr,
    StringAttr,
    element_type,
)
from dlac.ir.core import Value
from dlac.ir.diagnostics import NameLoc
from dlac.ir.dialects.builtin import ModuleOp
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.dialects.graph import OP_CLASSES, ConstantOp, NoneOp
from dlac.ir.quant_notes import add_notes
from dlac.ir.types import TensorType, Type, f16, f32, f64, i1, i8, i16, i32, i64, none

if TYPE_CHECKING:
    import onnx

# ONNX TensorProto data type -> IR element type. uint8 widens to i16 so values survive.
_ELEM: dict[int, Type] = {1: f32, 2: i16, 3: i8, 5: i16, 6: i32, 7: i64, 9: i1, 10: f16,
                          11: f64}
_SMALL_CONST = 4096  # initializers up to this many elements feed shape inference


def import_onnx(source: str | Path | onnx.ModelProto,
                input_shapes: dict[str, tuple[int, ...]] | None = None,
                load_weights: bool = True) -> ModuleOp:
    """Import an ONNX model (path or proto) into a module with one `func.func @main`."""
    model = load_onnx(source, load_weights) if isinstance(source, str | Path) else source
    return _Importer(model, input_shapes or {}).run()


def onnx_opset(model: onnx.ModelProto) -> int:
    """The default-domain opset the model was exported for."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return 1


def elem_type(code: int, what: str) -> Type:
    found = _ELEM.get(code)
    if found is None:
        import onnx

        raise FrontendError(f"{what}: unsupported element type "
                            f"{onnx.TensorProto.DataType.Name(code)}")
    return found


def tensor_to_numpy(tensor: onnx.TensorProto) -> np.ndarray:
    """Initializer data as numpy; external data not loaded (shape-only) -> a zeros view."""
    import onnx
    from onnx import numpy_helper

    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)
        return np.broadcast_to(np.zeros((), dtype), tuple(tensor.dims))
    return numpy_helper.to_array(tensor)


class _Importer:
    def __init__(self, model: onnx.ModelProto, input_shapes: dict[str, tuple[int, ...]]) -> None:
        self.model, self.notes = rewrite_quantized_ops(model)
        self.graph = self.model.graph
        self.input_shapes = input_shapes
        self.values: dict[str, Value] = {}
        self.types: dict[str, TensorType] = {}
        self.used = {i for n in self.graph.node for i in n.input} | \
            {o.name for o in self.graph.output}

    def run(self) -> ModuleOp:
        init_names = {t.name for t in self.graph.initializer}
        inputs = [i for i in self.graph.input if i.name not in init_names]
        unknown = set(self.input_shapes) - {i.name for i in inputs}
        if unknown:
            raise FrontendError(f"--input-shape names unknown input(s) {sorted(unknown)}; "
                                f"model inputs are {[i.name for i in inputs]}")
        arg_types = [self._input_type(i) for i in inputs]
        self.model = fold_shape_computations(
            self.model, {i.name: ty.shape for i, ty in zip(inputs, arg_types, strict=True)})
        rewrite_einsums(self.model, static_shapes(
            self.model, {i.name: ty.shape for i, ty in zip(inputs, arg_types, strict=True)}))
        self.graph = self.model.graph
        _name_skipped_outputs(self.graph)
        self.used = {i for n in self.graph.node for i in n.input} | \
            {o.name for o in self.graph.output}
        self._check_ops()  # after folding: shape-only ops (Range, Shape, ...) are gone
        self._infer_types(inputs, arg_types)
        out_types = [self._type_of(o.name, "graph output") for o in self.graph.output]
        module = ModuleOp.build()
        module.set_attr("onnx_opset", onnx_opset(self.model))
        add_notes(module, self.notes)
        func = FuncOp.build("main", arg_types, out_types, [i.name for i in inputs])
        module.body.block.append(func)
        block = func.body.block
        for info, arg in zip(inputs, func.args, strict=False):
            self.values[info.name] = arg
        for tensor in self.graph.initializer:
            self._constant(block, tensor.name, tensor_to_numpy(tensor), tensor.name)
        for index, node in enumerate(self.graph.node):
            self._node(block, node, index)
        results = []
        for out in self.graph.output:
            if out.name not in self.values:
                raise FrontendError(f"graph output '{out.name}' is not produced by any node")
            results.append(self.values[out.name])
        block.append(ReturnOp(results))
        return module

    # -- checks -------------------------------------------------------------------------
    def _check_ops(self) -> None:
        bad: list[str] = []
        first = ""
        for index, node in enumerate(self.graph.node):
            ok = node.domain in ("", "ai.onnx") and (
                node.op_type in OP_CLASSES or node.op_type == "Constant")
            if not ok:
                label = node.op_type if node.domain in ("", "ai.onnx") \
                    else f"{node.domain}.{node.op_type}"
                if label not in bad:
                    bad.append(label)
                first = first or _node_name(node, index)
        if bad:
            raise FrontendError(f"unsupported ONNX op type(s): {', '.join(bad)} "
                                f"(first at node '{first}')")

    def _input_type(self, info: onnx.ValueInfoProto) -> TensorType:
        tt = info.type.tensor_type
        if not info.type.HasField("tensor_type"):
            raise FrontendError(f"input '{info.name}' is not a tensor")
        elem = elem_type(tt.elem_type, f"input '{info.name}'")
        given = self.input_shapes.get(info.name)
        # A symbolic, absent or non-positive (-1) dim is dynamic.
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in tt.shape.dim]
        if given is not None:
            if len(given) != len(dims):
                raise FrontendError(f"--input-shape {info.name}: rank {len(given)} but the "
                                    f"model declares rank {len(dims)}")
            for want, have in zip(given, dims, strict=False):
                if have not in (None, want):
                    raise FrontendError(f"--input-shape {info.name}: {list(given)} conflicts "
                                        f"with the model's static shape {dims}")
            shape = tuple(given)
        else:
            if any(d is None for d in dims):
                shown = ", ".join(str(d) if d is not None else repr(dim.dim_param or "?")
                                  for d, dim in zip(dims, tt.shape.dim, strict=True))
                which = ", ".join(str(k) for k, d in enumerate(dims) if d is None)
                raise FrontendError(f"input '{info.name}' has dynamic shape [{shown}] "
                                    f"(dynamic dim(s) {which}); give it with --input-shape "
                                    f"{info.name}=D0x...")
            shape = tuple(dims)
        check_shape(shape, f"input '{info.name}'", _itemsize(elem))
        return TensorType(shape, elem)

    # -- shape inference ----------------------------------------------------------------
    def _infer_types(self, inputs: list, arg_types: list[TensorType]) -> None:
        """Run ONNX shape inference on a weight-free copy with the concrete input shapes."""
        import onnx
        from onnx import helper

        big: list[onnx.ValueInfoProto] = []
        small: list[onnx.TensorProto] = []
        for t in self.graph.initializer:
            n = int(np.prod(t.dims)) if len(t.dims) else 1
            if n <= _SMALL_CONST and t.data_location != onnx.TensorProto.EXTERNAL:
                small.append(t)
            else:
                big.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
        new_inputs = [helper.make_tensor_value_info(i.name, i.type.tensor_type.elem_type,
                                                    list(ty.shape))
                      for i, ty in zip(inputs, arg_types, strict=False)]
        # Declared output shapes may be symbolic or stale; inference recomputes them.
        outputs = [helper.make_tensor_value_info(o.name, o.type.tensor_type.elem_type, None)
                   for o in self.graph.output]
        graph = helper.make_graph(list(self.graph.node), "infer", new_inputs + big,
                                  outputs, small)
        lite = helper.make_model(graph, opset_imports=list(self.model.opset_import),
                                 ir_version=max(self.model.ir_version, 4))
        try:
            inferred = onnx.shape_inference.infer_shapes(lite, strict_mode=True, data_prop=True)
        except Exception as err:  # noqa: BLE001 - onnx raises several unrelated types
            raise FrontendError(f"shape inference failed: {str(err).strip().splitlines()[0]}"
                                ) from None
        for t in self.graph.initializer:  # a graph output may be a folded constant
            if t.data_type in _ELEM:
                self.types[t.name] = TensorType(list(t.dims), _ELEM[t.data_type])
        g = inferred.graph
        for info in [*g.input, *g.value_info, *g.output]:
            if not info.type.HasField("tensor_type"):
                continue
            tt = info.type.tensor_type
            if not tt.HasField("shape") or tt.elem_type not in _ELEM:
                continue
            dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
            if any(d is None for d in dims):
                continue
            self.types[info.name] = TensorType(dims, _ELEM[tt.elem_type])

    def _type_of(self, name: str, what: str) -> TensorType:
        found = self.types.get(name)
        if found is None:
            raise FrontendError(f"{what} '{name}': shape inference gave no static shape")
        return found

    # -- ops -----------------------------------------------------------------------------
    def _constant(self, block: Any, name: str, array: np.ndarray, hint: str,
                  loc: str | None = None) -> Value:
        elem = _np_elem(array.dtype, name)
        if array.dtype == np.uint8:
            array = array.astype(np.int16)
        ty = TensorType(array.shape, elem)
        op = ConstantOp(result_types=[ty], attributes={"value": DenseAttr(array, ty)},
                        loc=NameLoc(loc or name))
        op.result.name_hint = hint
        block.append(op)
        self.values[name] = op.result
        return op.result

    def _node(self, block: Any, node: onnx.NodeProto, index: int) -> None:
        name = _node_name(node, index)
        if node.op_type == "Constant":
            self._constant(block, node.output[0], _constant_value(node, name), node.output[0],
                           name)
            return
        present = len(node.input)
        while present and not node.input[present - 1]:
            present -= 1
        operands: list[Value] = []
        for inp in node.input[:present]:
            if not inp:
                none_op = NoneOp(result_types=[none], loc=NameLoc(name))
                block.append(none_op)
                operands.append(none_op.result)
                continue
            value = self.values.get(inp)
            if value is None:
                raise FrontendError(f"node '{name}' ({node.op_type}): input '{inp}' is not a "
                                    f"graph input, initializer or earlier node output")
            operands.append(value)
        outputs = list(node.output)
        while outputs and not outputs[-1]:
            outputs.pop()
        while len(outputs) > 1 and outputs[-1] not in self.used:
            outputs.pop()
        result_types = []
        for out in outputs:
            ty = self._type_of(out, f"output of node '{name}' ({node.op_type})")
            check_shape(ty.shape, f"node '{name}' ({node.op_type}) output '{out}'",
                        _itemsize(ty.element))
            result_types.append(ty)
        attrs = {a.name: _attr(a, name) for a in node.attribute}
        op = OP_CLASSES[node.op_type](operands, result_types, attrs, loc=NameLoc(name))
        block.append(op)
        for out, res in zip(outputs, op.results, strict=False):
            res.name_hint = out
            self.values[out] = res


def _name_skipped_outputs(graph: onnx.GraphProto) -> None:
    """Name an absent output that precedes a present one (LSTM's Y when only Y_h is used),
    so shape inference types it and the op keeps one result per output position."""
    for index, node in enumerate(graph.node):
        last = max((k for k, out in enumerate(node.output) if out), default=-1)
        for k in range(last):
            if not node.output[k]:
                node.output[k] = f"{_node_name(node, index)}:skipped{k}"


def _node_name(node: onnx.NodeProto, index: int) -> str:
    return node.name or f"{node.op_type}_{index}"


def _itemsize(elem: Type) -> int:
    return max(1, getattr(elem, "width", 32) // 8)


def _np_elem(dtype: np.dtype, what: str) -> Type:
    found = element_type(dtype)
    if found is None:
        raise FrontendError(f"tensor '{what}': unsupported dtype {dtype}")
    return found


def _constant_value(node: onnx.NodeProto, name: str) -> np.ndarray:
    from onnx import helper, numpy_helper

    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if a.name == "value":
            return numpy_helper.to_array(value)
        if a.name == "value_float":
            return np.array(value, np.float32)
        if a.name == "value_floats":
            return np.array(value, np.float32)
        if a.name == "value_int":
            return np.array(value, np.int64)
        if a.name == "value_ints":
            return np.array(value, np.int64)
    raise FrontendError(f"Constant node '{name}' has no supported value attribute")


def _attr(a: onnx.AttributeProto, node: str) -> Attribute:
    from onnx import AttributeProto, numpy_helper

    kind = a.type
    if kind == AttributeProto.FLOAT:
        return FloatAttr(a.f, f32)
    if kind == AttributeProto.INT:
        return IntAttr(a.i)
    if kind == AttributeProto.STRING:
        return StringAttr(a.s.decode("utf-8", "replace"))
    if kind == AttributeProto.FLOATS:
        return ArrayAttr([FloatAttr(v, f32) for v in a.floats])
    if kind == AttributeProto.INTS:
        return ArrayAttr([IntAttr(v) for v in a.ints])
    if kind == AttributeProto.STRINGS:
        return ArrayAttr([StringAttr(s.decode("utf-8", "replace")) for s in a.strings])
    if kind == AttributeProto.TENSOR:
        arr = numpy_helper.to_array(a.t)
        if arr.dtype == np.uint8:
            arr = arr.astype(np.int16)
        ty = TensorType(arr.shape, _np_elem(arr.dtype, a.name))
        return DenseAttr(arr, ty)
    raise FrontendError(f"node '{node}': attribute '{a.name}' has an unsupported kind "
                        f"({AttributeProto.AttributeType.Name(kind)})")
