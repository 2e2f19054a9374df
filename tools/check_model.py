"""`dlac MODEL --check`: every reason a model would not compile, all at once.

Compiling stops at the first problem; triage wants the whole list. The check walks the
same stages and keeps going where it can: dynamic inputs, unsupported ONNX ops (every
node, after shape folding), tensors whose shape stays dynamic (the node where it first
becomes dynamic), ops with no int8 form or whose int8 rewrite fails (every one), then
lowering, mapping and host ops with no C (every one). One line per problem.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from dlac.errors import DlacError
from dlac.ir.diagnostics import DiagnosticError
from dlac.ir.target import TargetError
from dlac.tools.model_spec import resolve_model


def _node_name(node: object, index: int) -> str:
    return node.name or f"{node.op_type}_{index}"  # type: ignore[attr-defined]


def onnx_problems(path: str, input_shapes: dict[str, tuple[int, ...]],
                  load_weights: bool) -> list[str]:
    """Dynamic inputs, unsupported ops and shapes that stay dynamic, per node."""
    from dlac.frontend.einsum import rewrite_einsums
    from dlac.frontend.loader import load_onnx
    from dlac.frontend.qoperators import rewrite_quantized_ops
    from dlac.frontend.static_shapes import fold_shape_computations, static_shapes
    from dlac.ir.dialects.graph import OP_CLASSES

    model, _ = rewrite_quantized_ops(load_onnx(path, load_weights))
    graph = model.graph
    init = {t.name for t in graph.initializer}
    problems = []
    shapes: dict[str, tuple[int, ...]] = {}
    for info in graph.input:
        if info.name in init:
            continue
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in info.type.tensor_type.shape.dim]
        given = input_shapes.get(info.name)
        if given is not None:
            shapes[info.name] = tuple(given)
        elif any(d is None for d in dims):
            which = ", ".join(str(k) for k, d in enumerate(dims) if d is None)
            problems.append(f"input '{info.name}': dynamic dim(s) {which}; give "
                            f"--input-shape {info.name}=D0x...")
    dynamic = bool(problems)
    if not dynamic:
        model = fold_shape_computations(model, shapes)
        rewrite_einsums(model, static_shapes(model, shapes))
        graph = model.graph
    unsupported = set()
    for index, node in enumerate(graph.node):
        if node.domain not in ("", "ai.onnx") or (node.op_type not in OP_CLASSES
                                                  and node.op_type != "Constant"):
            unsupported.add(index)
            domain = f"{node.domain}." if node.domain not in ("", "ai.onnx") else ""
            problems.append(f"node '{_node_name(node, index)}' ({domain}{node.op_type}): "
                            f"unsupported ONNX op")
    if dynamic:
        return problems
    static = static_shapes(model, shapes)
    known = set(static) | init | set(shapes)
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    for index, node in enumerate(graph.node):
        if index in unsupported:
            continue
        inputs_static = all(not i or i in known for i in node.input)
        for out in node.output:
            if out and out in used and out not in static and inputs_static:
                problems.append(f"node '{_node_name(node, index)}' ({node.op_type}): output "
                                f"'{out}' has no static shape")
    return problems


def compile_problems(args: argparse.Namespace, input_shapes: dict[str, tuple[int, ...]]
                     ) -> list[str]:
    """Quantization problems of every op, then the first lowering/emission problem."""
    from dlac.backends.host_calls import HOST_KINDS
    from dlac.flow.emit import emit
    from dlac.flow.stages import import_stage, prepare_stage
    from dlac.ir.dialects.loop_host import HostOp
    from dlac.ir.target import Target
    from dlac.passes.equalize import Equalize
    from dlac.passes.legalize_conv import LegalizeConv
    from dlac.passes.pass_base import run_pass
    from dlac.passes.permute_channels import PermuteChannels
    from dlac.passes.quantize import quantize_problems
    from dlac.tools.compile_flow import map_and_lower

    module = prepare_stage(import_stage(resolve_model(args.model), input_shapes,
                                        not args.shape_only))
    if args.equalize:
        run_pass(Equalize(), module)
    if args.weight_splits > 1:
        run_pass(PermuteChannels(max_splits=args.weight_splits), module)
    problems = quantize_problems(module, args.calib or "", method=args.calib_method,
                                 weight_groups=args.weight_groups,
                                 bias_correction=args.bias_correction,
                                 weight_splits=args.weight_splits)
    if problems:
        return problems
    run_pass(LegalizeConv(), module)
    target = Target.parse(args.target)
    lowered = map_and_lower(module, target, args.mapper, args.seed)
    for op in lowered.walk():
        if isinstance(op, HostOp):
            kind = str(op.attr("kind"))
            if kind not in HOST_KINDS:  # movement left after lower-data-movement has no C
                problems.append(f"node '{op.loc.prefix()}' ({kind}): no host C implementation")
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix="dlac-check-") as tmp:
        emit(lowered, target, Path(tmp), "check")
    return []


def check(args: argparse.Namespace) -> int:
    """Print every problem (one line each) and return 1 if there is any."""
    from dlac.frontend.shapes import parse_input_shapes

    shapes = parse_input_shapes(args.input_shape)
    path = resolve_model(args.model)
    problems = onnx_problems(path, shapes, not args.shape_only)
    if not problems:
        try:
            problems = compile_problems(args, shapes)
        except (DlacError, DiagnosticError, TargetError) as err:
            problems = [" ".join(str(err).split())]
    for line in problems:
        print(f"dlac: check: {line}")
    if problems:
        print(f"dlac: check: {len(problems)} problem(s) in {args.model}")
        return 1
    print(f"dlac: check: {args.model} compiles")
    return 0
