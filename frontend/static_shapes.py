"""Make every tensor shape static once the input shapes are fixed.

Exporters compute reshape targets, expand shapes, slice bounds and ranges at run time
(Shape -> Gather -> Concat -> Reshape). ONNX shape inference with data propagation resolves
some of these; the rest are small integer computations on constants and on shapes that are
now known. This module alternates the two: infer shapes, evaluate every node whose inputs
are known small constants (or whose input shape is static, for Shape and Size) with
onnx's reference evaluator, turn its outputs into initializers, and repeat until nothing
changes. It runs before import because the IR's types must be static; the IR's own
`fold-constants` pass then never sees a shape computation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

FOLD_LIMIT = 4096  # constants up to this many elements are evaluated and folded
# Nodes whose value must stay a node: random generators, and the Q/DQ pairs fold-qdq reads.
_NEVER = frozenset({"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                    "Multinomial", "Bernoulli", "QuantizeLinear", "DequantizeLinear",
                    "DynamicQuantizeLinear"})


def fold_shape_computations(model: onnx.ModelProto,
                            input_shapes: dict[str, tuple[int, ...]]) -> onnx.ModelProto:
    """A copy of `model` whose shape computations are initializers (dead nodes removed)."""
    import onnx

    model_copy = onnx.ModelProto()
    model_copy.CopyFrom(model)
    graph = model_copy.graph
    opsets = {e.domain or "": int(e.version) for e in model.opset_import}
    known: dict[str, np.ndarray] = {}
    for t in graph.initializer:
        if _small(t.dims) and t.data_location != onnx.TensorProto.EXTERNAL:
            known[t.name] = onnx.numpy_helper.to_array(t)
    for _ in range(len(graph.node) + 1):
        shapes = static_shapes(model_copy, input_shapes)
        folded = _sweep(graph, known, shapes, opsets)
        if not folded:
            break
    _remove_dead(graph)
    return model_copy


def _small(dims: object) -> bool:
    return int(np.prod(list(dims))) <= FOLD_LIMIT


def static_shapes(model: onnx.ModelProto, input_shapes: dict[str, tuple[int, ...]]
                   ) -> dict[str, tuple[int, ...]]:
    """Static shapes from (non-strict) ONNX inference on a weight-free copy."""
    import onnx
    from onnx import helper

    graph = model.graph
    init = {t.name for t in graph.initializer}
    inputs = []
    for i in graph.input:
        if i.name in init:
            continue
        shape = input_shapes.get(i.name)
        if shape is None:
            shape = tuple(d.dim_value for d in i.type.tensor_type.shape.dim)
        inputs.append(helper.make_tensor_value_info(i.name, i.type.tensor_type.elem_type,
                                                    list(shape)))
    small, big = [], []
    for t in graph.initializer:
        if _small(t.dims) and t.data_location != onnx.TensorProto.EXTERNAL:
            small.append(t)
        else:
            big.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    outputs = [helper.make_tensor_value_info(o.name, o.type.tensor_type.elem_type, None)
               for o in graph.output]
    lite = helper.make_model(helper.make_graph(list(graph.node), "shapes", inputs + big,
                                               outputs, small),
                             opset_imports=list(model.opset_import),
                             ir_version=max(model.ir_version, 4))
    try:
        inferred = onnx.shape_inference.infer_shapes(lite, data_prop=True)
    except Exception:  # noqa: BLE001 - the strict run during import reports the problem
        return {}
    found: dict[str, tuple[int, ...]] = {}
    for info in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        tt = info.type.tensor_type
        if not info.type.HasField("tensor_type") or not tt.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
        if all(d >= 0 for d in dims):
            found[info.name] = tuple(dims)
    return found


def _value_of(node: onnx.NodeProto, known: dict[str, np.ndarray],
              shapes: dict[str, tuple[int, ...]]) -> list[np.ndarray | None] | None:
    """The node's input values if it can be evaluated now, else None. Shape and Size
    need only their input's shape: a broadcast view of it, which takes no memory."""
    if node.op_type in ("Shape", "Size") and node.input[0] in shapes:
        return [np.broadcast_to(np.zeros((), np.float32), shapes[node.input[0]])]
    if any(o in shapes and not _small(shapes[o]) for o in node.output):
        return None
    values: list[np.ndarray | None] = []
    for name in node.input:
        if not name:
            values.append(None)
        elif name in known:
            values.append(known[name])
        else:
            return None
    return values


def _sweep(graph: onnx.GraphProto, known: dict[str, np.ndarray],
           shapes: dict[str, tuple[int, ...]], opsets: dict[str, int]) -> bool:
    """Evaluate every foldable node in order; True if any node was folded."""
    from onnx import numpy_helper

    folded = False
    keep = []
    for node in graph.node:
        if node.op_type == "If" and node.domain in ("", "ai.onnx") and node.input[0] in known:
            keep.extend(_taken_branch(node, bool(np.asarray(known[node.input[0]]).reshape(-1)[0]),
                                      graph))
            folded = True
            continue
        values = None
        if node.domain in ("", "ai.onnx") and node.op_type not in _NEVER and \
                not any(a.type in (5, 10) for a in node.attribute):  # GRAPH/GRAPHS attrs
            values = _value_of(node, known, shapes)
        outs = _evaluate(node, values, opsets) if values is not None else None
        if outs is None or any(o.size > FOLD_LIMIT for o in outs):
            keep.append(node)
            continue
        for name, out in zip(node.output, outs, strict=False):
            if name:
                known[name] = out
                # copy(order="C"), not ascontiguousarray: that turns a scalar into [1]
                graph.initializer.append(numpy_helper.from_array(out.copy(order="C"), name))
        folded = True
    if folded:
        del graph.node[:]
        graph.node.extend(keep)
    return folded


def _taken_branch(node: onnx.NodeProto, cond: bool, graph: onnx.GraphProto
                  ) -> list[onnx.NodeProto]:
    """The nodes of an If whose condition is now a constant: the taken branch inlined,
    its initializers moved to `graph` and its outputs renamed to the If's by Identity
    (exporters emit such Ifs for shape checks, e.g. torch's LocalResponseNorm)."""
    from onnx import helper

    branch = next(a.g for a in node.attribute
                  if a.name == ("then_branch" if cond else "else_branch"))
    graph.initializer.extend(branch.initializer)
    nodes = list(branch.node)
    nodes += [helper.make_node("Identity", [inner.name], [outer],
                               name=f"{node.name or 'If'}/{outer}")
              for inner, outer in zip(branch.output, node.output, strict=True) if outer]
    return nodes


def _evaluate(node: onnx.NodeProto, values: list[np.ndarray | None],
              opsets: dict[str, int]) -> list[np.ndarray] | None:
    """The node's outputs by onnx's reference evaluator (None if it cannot run)."""
    from onnx.reference import ReferenceEvaluator

    if node.op_type == "Shape" or node.op_type == "Size":
        shape = values[0].shape
        if node.op_type == "Size":
            return [np.array(int(np.prod(shape)), np.int64)]
        start = next((a.i for a in node.attribute if a.name == "start"), 0)
        end = next((a.i for a in node.attribute if a.name == "end"), None)
        return [np.array(shape, np.int64)[start:end]]
    feeds = {name: v for name, v in zip(node.input, values, strict=False) if name}
    try:
        ev = ReferenceEvaluator(node, opsets={"": opsets.get("", 17)})
        outs = ev.run(None, feeds)
    except Exception:  # noqa: BLE001 - any op the evaluator cannot run stays a node
        return None
    return [np.asarray(o) for o in outs]


def _remove_dead(graph: onnx.GraphProto) -> None:
    """Drop nodes none of whose outputs is used, and initializers nobody reads."""
    live = {o.name for o in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(o in live for o in node.output if o):
            kept.append(node)
            live.update(i for i in node.input if i)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    dead = {t.name for t in graph.initializer if t.name not in live}
    inits = [t for t in graph.initializer if t.name not in dead]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    inputs = [i for i in graph.input if i.name not in dead]
    del graph.input[:]
    graph.input.extend(inputs)
