"""Rewrite matmul-like Einsum nodes into Transpose/Reshape/MatMul before import.

Gemmini runs matmuls; an Einsum whose two operands share batch letters (in both inputs and
the output), contract letters (in both inputs only) and keep free letters (in one input and
the output) is exactly a batched MatMul between transposed and reshaped operands. Doing it
on the ONNX graph keeps every later stage unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx


def rewrite_einsums(model: onnx.ModelProto, shapes: dict[str, tuple[int, ...]]) -> None:
    """Replace, in place, each matmul-like Einsum whose input shapes are static."""
    graph = model.graph
    shapes = {**{t.name: tuple(t.dims) for t in graph.initializer}, **shapes}
    nodes = []
    for node in graph.node:
        new = _rewrite(node, shapes) if node.op_type == "Einsum" else None
        nodes.extend(new if new is not None else [node])
    del graph.node[:]
    graph.node.extend(nodes)


def _rewrite(node: onnx.NodeProto, shapes: dict[str, tuple[int, ...]]
             ) -> list[onnx.NodeProto] | None:
    from onnx import helper, numpy_helper

    eq = next((a.s.decode() for a in node.attribute if a.name == "equation"), "")
    eq = eq.replace(" ", "")
    if "->" not in eq or "." in eq or len(node.input) != 2:
        return None
    lhs, out = eq.split("->")
    terms = lhs.split(",")
    if len(terms) != 2 or any(t not in shapes for t in node.input):
        return None
    a, b = terms
    if any(len(set(t)) != len(t) for t in (a, b, out)) or set(out) - set(a + b):
        return None
    if set(a) - set(b) - set(out) or set(b) - set(a) - set(out):
        return None
    dim = {c: n for t, v in zip((a, b), node.input, strict=True)
           for c, n in zip(t, shapes[v], strict=False)}
    if any(len(t) != len(shapes[v]) for t, v in zip((a, b), node.input, strict=True)):
        return None
    batch = [c for c in out if c in a and c in b]
    red = [c for c in a if c in b and c not in out]
    fa = [c for c in a if c not in b]
    fb = [c for c in b if c not in a]
    name = node.name or node.output[0]
    nodes: list[onnx.NodeProto] = []

    def shape_const(tag: str, values: list[int]) -> str:
        t = numpy_helper.from_array(np.array(values, np.int64), f"{name}/{tag}_shape")
        nodes.append(helper.make_node("Constant", [], [t.name], value=t,
                                      name=f"{name}/{tag}_shape"))
        return t.name

    def prod(cs: list[str]) -> int:
        return int(np.prod([dim[c] for c in cs], dtype=np.int64))

    operands = []
    for tag, term, v, order in (("a", a, node.input[0], batch + fa + red),
                                ("b", b, node.input[1], batch + red + fb)):
        t = f"{name}/{tag}_t"
        nodes.append(helper.make_node("Transpose", [v], [t], name=t,
                                      perm=[term.index(c) for c in order]))
        rest = [fa, red] if tag == "a" else [red, fb]
        r = f"{name}/{tag}_r"
        nodes.append(helper.make_node(
            "Reshape", [t, shape_const(tag, [dim[c] for c in batch] + [prod(x) for x in rest])],
            [r], name=r))
        operands.append(r)
    mm = f"{name}/matmul"
    nodes.append(helper.make_node("MatMul", operands, [mm], name=mm))
    full = batch + fa + fb
    back = f"{name}/unflat"
    nodes.append(helper.make_node("Reshape", [mm, shape_const("o", [dim[c] for c in full])],
                                  [back], name=back))
    nodes.append(helper.make_node("Transpose", [back], list(node.output), name=name,
                                  perm=[full.index(c) for c in out]))
    return nodes
