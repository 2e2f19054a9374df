"""Lowered IR -> a plain view model of one C program (templates only place its strings).

Input is the module after `lower-to-loops`, `lower-data-movement` and `lower-to-gemmini`:
one destination-passing `func.func` whose body holds `loop.alloc`/`loop.constant` buffers,
`gemmini.tiled_*` library ops, `loop.gather`s, `loop.host` calls and scalar host nests.
Every buffer becomes a static, row- or page-aligned C array (large constants live in a binary blob);
gemmini ops become Gemmini library calls (`gemmini_calls`), host ops calls into the bundled
runtime (`host_calls`), and scalar nests plain C loops whose arithmetic uses
gemmini_params.h's own ACC_SCALE/MVIN_SCALE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from dlac.backends.c_literals import c_float, strides
from dlac.backends.c_names import CNames, comment_text
from dlac.backends.errors import BackendError
from dlac.backends.gemmini_calls import gemmini_call
from dlac.backends.host_calls import gather_call, host_call, scalar_expr
from dlac.ir.attributes import AffineMapAttr, DenseAttr
from dlac.ir.core import Operation, Value
from dlac.ir.dialects import gemmini
from dlac.ir.dialects import loop_host as lh
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.dialects.loop import (
    AllocOp,
    ApplyOp,
    ForOp,
    GatherOp,
    KernelOp,
    LoadOp,
    StoreOp,
)
from dlac.ir.target import Target
from dlac.ir.types import MemRefType, Type

#: Constants above this many elements live in the binary weight blob, not in C text.
BLOB_THRESHOLD = 256
PAGE_BYTES = 4096
"""Buffers of at least a page start on a page (weights in the blob too): the DMA's few-entry
TLB then sees as many pages as the tensor spans, as the co-design search's timing of each
layer on page-aligned tensors assumed (an unaligned tile spans one more page per row
block: up to 14% more cycles for a ResNet-50 matmul on the simulator)."""
BLOB_ALIGN = PAGE_BYTES
BLOB_FILE = "weights.bin"
TILED_OPS = (gemmini.TiledConvOp, gemmini.TiledMatmulOp, gemmini.TiledResaddOp)

C_TYPES = {"i1": "uint8_t", "i8": "elem_t", "i16": "int16_t", "i32": "acc_t", "i64": "int64_t",
           "f32": "float", "f64": "double", "index": "int64_t"}
_ALIGN = {"elem_t": "row_align(1)", "acc_t": "row_align_acc(1)"}


def _align(ctype: str, size: int) -> str:
    """A page for buffers of a page or more, else Gemmini's row alignment."""
    if ctype in _ALIGN and size * (4 if ctype == "acc_t" else 1) >= PAGE_BYTES:
        return f"__attribute__((aligned({PAGE_BYTES})))"
    return _ALIGN.get(ctype, "")


def c_type(ty: Type) -> str:
    found = C_TYPES.get(str(ty))
    if found is None:
        raise BackendError(f"no C type for {ty}")
    return found


@dataclass
class BufferView:
    name: str
    ctype: str
    size: int
    comment: str
    align: str
    init: str | None = None
    const: bool = False
    blob_offset: int | None = None


@dataclass
class IOView:
    name: str
    ctype: str
    size: int
    label: str


@dataclass
class StepView:
    """One top-level step of the model: a kernel, a host op or a host loop nest."""

    name: str
    kind: str
    comment: str
    lines: list[str]


@dataclass
class ProgramView:
    model: str
    blob_bytes: int = 0
    buffers: list[BufferView] = field(default_factory=list)
    inputs: list[IOView] = field(default_factory=list)
    outputs: list[IOView] = field(default_factory=list)
    steps: list[StepView] = field(default_factory=list)


def _size(ty: MemRefType) -> int:
    if not ty.is_static:
        raise BackendError(f"buffer of dynamic shape {ty} cannot be emitted")
    return ty.num_elements


def _initializer(attr: DenseAttr, ctype: str) -> str:
    flat = attr.data.reshape(-1)
    if ctype == "float":
        items = [c_float(float(v)) for v in flat.astype(np.float32)]
    elif ctype == "double":
        items = [repr(float(v)) for v in flat]
    else:
        items = [str(int(v)) for v in flat]
    lines = [", ".join(items[i:i + 24]) for i in range(0, len(items), 24)]
    return "{\n  " + ",\n  ".join(lines) + "\n}"


class CEmitter:
    """Builds a `ProgramView` from a lowered module."""

    def __init__(self, module: Operation, target: Target, model_name: str = "model") -> None:
        funcs = [op for op in module.regions[0].ops if isinstance(op, FuncOp)]
        if len(funcs) != 1:
            raise BackendError(f"expected one lowered function, found {len(funcs)}")
        self.func = funcs[0]
        self.target = target
        self.names = CNames(reserved=("main", "model_run"))
        self.values: dict[int, str] = {}
        self.view = ProgramView(model=comment_text(model_name))
        self.blob = bytearray()

    # -- buffers --------------------------------------------------------------------------
    def buffer(self, value: Value, hint: str, comment: str, init: DenseAttr | None = None
               ) -> BufferView:
        ty = value.type
        if not isinstance(ty, MemRefType):
            raise BackendError(f"expected a buffer, got {ty}")
        ctype = c_type(ty.element)
        name = self.names.get(id(value), hint, "buf_")
        view = self._constant_view(name, ctype, init, comment) if init is not None else \
            BufferView(name, ctype, _size(ty), comment_text(comment), _align(ctype, _size(ty)))
        self.values[id(value)] = name
        self.view.buffers.append(view)
        return view

    def _constant_view(self, name: str, ctype: str, attr: DenseAttr, comment: str
                       ) -> BufferView:
        """Small constants are C initialisers; large ones go to the weight blob."""
        size = attr.type.num_elements
        if size <= BLOB_THRESHOLD:
            return BufferView(name, ctype, size, comment_text(comment), _ALIGN.get(ctype, ""),
                              _initializer(attr, ctype), True)
        pad = -len(self.blob) % BLOB_ALIGN
        self.blob += bytes(pad)
        offset = len(self.blob)
        data = np.ascontiguousarray(attr.data)
        self.blob += data.astype(data.dtype.newbyteorder("<")).tobytes()
        self.view.blob_bytes = len(self.blob)
        return BufferView(name, ctype, size, comment_text(comment), "", None, True, offset)

    def constant_table(self, attr: DenseAttr, hint: str) -> str:
        """A static const array holding `attr` (LUTs, gather and exp tables), shared."""
        key = ("table", hash(attr), attr.type)
        found = self.names.by_key.get(key)
        if found is not None:
            return found
        ctype = c_type(attr.type.element)
        name = self.names.get(key, hint, "tab_")
        self.view.buffers.append(self._constant_view(name, ctype, attr, f"{hint} table"))
        return name

    def name_of(self, value: Value) -> str:
        found = self.values.get(id(value))
        if found is None:
            raise BackendError(f"value {value!r} has no C name (used before definition?)")
        return found

    # -- program --------------------------------------------------------------------------
    def run(self) -> ProgramView:
        args = self.func.args
        n_out = self._count_outputs()
        for i, arg in enumerate(args):
            is_out = i >= len(args) - n_out
            label = arg.name_hint or (f"output{i}" if is_out else f"input{i}")
            buf = self.buffer(arg, label, ("output " if is_out else "input ") + label)
            io = IOView(buf.name, buf.ctype, buf.size, comment_text(label))
            (self.view.outputs if is_out else self.view.inputs).append(io)
        for op in self.func.regions[0].block.ops:
            if isinstance(op, ReturnOp):
                break
            if isinstance(op, AllocOp):
                self.buffer(op.results[0], op.results[0].name_hint or op.attr("label") or "t",
                            str(op.results[0].type))
            elif isinstance(op, lh.ConstantBufferOp):
                self.buffer(op.results[0], op.results[0].name_hint or "const",
                            f"constant {op.results[0].type}", op.attributes["value"])
            elif isinstance(op, TILED_OPS):
                self.tiled_step(op, gemmini_call(op, self))
            elif isinstance(op, KernelOp):
                raise BackendError(f"{op.loc.prefix()}: kernel '{op.attr('sym_name')}' is not "
                                   f"lowered: run 'lower-to-gemmini' first")
            elif isinstance(op, lh.HostOp):
                kind = str(op.attr("kind"))
                name = self.names.get(id(op), kind.split(".")[-1], "host_")
                self.view.steps.append(StepView(name, "host", comment_text(kind),
                                                host_call(op, self)))
            elif isinstance(op, GatherOp):
                name = self.names.get(id(op), "gather", "host_")
                self.view.steps.append(StepView(name, "host", "gather", gather_call(op, self)))
            elif isinstance(op, ForOp):
                name = self.names.get(id(op), "elementwise", "host_")
                self.view.steps.append(StepView(name, "host", "element-wise nest",
                                                self.loop_nest(op, 1)))
            else:
                raise BackendError(f"{op.loc.prefix()}: cannot emit '{op.name}' at top level")
        return self.view

    def tiled_step(self, op: Operation, lines: list[str]) -> None:
        """One step per library op (a depthwise conv's groups are one op and one call)."""
        kind = op.name.split(".")[-1]
        depthwise = isinstance(op, gemmini.TiledConvOp) and op.depthwise
        hint = "conv_dw" if depthwise else kind.removeprefix("tiled_")
        self.view.steps.append(StepView(self.names.get(id(op), hint, "layer_"), kind,
                                        comment_text(op.loc.prefix()), lines))

    def _count_outputs(self) -> int:
        """Outputs are the trailing arguments the body writes (destination passing)."""
        written = set()
        for op in self.func.walk():
            if isinstance(op, (lh.HostOp, GatherOp, *TILED_OPS)) and op.operands:
                written.add(id(op.operands[-1]))
            elif isinstance(op, StoreOp):
                written.add(id(op.operands[1]))
        count = 0
        for arg in reversed(self.func.args):
            if id(arg) not in written:
                break
            count += 1
        return count

    # -- host loop nests ------------------------------------------------------------------
    def loop_nest(self, loop: ForOp, depth: int) -> list[str]:
        pad = "  " * depth
        iv = self.names.get(id(loop.iv), loop.iv.name_hint or "i", "i_")
        self.values[id(loop.iv)] = iv
        lb, ub, step = loop.attr("lb"), loop.attr("ub"), loop.attr("step")
        lines = [f"{pad}for (int64_t {iv} = {lb}; {iv} < {ub}; {iv} += {step}) {{"]
        for op in loop.regions[0].block.ops:
            if isinstance(op, ForOp):
                lines += self.loop_nest(op, depth + 1)
            else:
                lines.append(f"{pad}  {self.scalar(op)}")
        lines.append(f"{pad}}}")
        return lines

    def index(self, buf: Value, amap: AffineMapAttr, indices: list[Value]) -> str:
        """Row-major linear index of `buf[map(indices)]` as one C expression."""
        ty = buf.type
        const = 0
        coeffs: dict[int, int] = {}
        for (c, terms), stride in zip(amap.results, strides(tuple(ty.shape)), strict=True):
            const += c * stride
            for pos, k in terms:
                coeffs[pos] = coeffs.get(pos, 0) + k * stride
        parts = [f"{k} * {self.name_of(indices[p])}" if k != 1 else self.name_of(indices[p])
                 for p, k in sorted(coeffs.items()) if k]
        if const or not parts:
            parts.append(str(const))
        return " + ".join(parts)

    def scalar(self, op: Operation) -> str:
        """One C statement for a scalar op inside a host nest."""
        if isinstance(op, LoadOp):
            buf, *idx = op.operands
            res = self._local(op)
            return (f"{c_type(op.results[0].type)} {res} = "
                    f"{self.name_of(buf)}[{self.index(buf, op.attributes['map'], idx)}];")
        if isinstance(op, StoreOp):
            val, buf, *idx = op.operands
            return (f"{self.name_of(buf)}[{self.index(buf, op.attributes['map'], idx)}] = "
                    f"{self.name_of(val)};")
        if isinstance(op, ApplyOp):
            amap = op.attributes["map"]
            res = self._local(op)
            (c, terms), = amap.results
            parts = [f"{k} * {self.name_of(op.operands[p])}" if k != 1
                     else self.name_of(op.operands[p]) for p, k in terms]
            return f"int64_t {res} = {' + '.join(parts + [str(c)])};"
        expr = scalar_expr(op, [self.name_of(v) for v in op.operands], self)
        res = self._local(op)
        return f"{c_type(op.results[0].type)} {res} = {expr};"

    def _local(self, op: Operation) -> str:
        res = op.results[0]
        name = self.names.get(id(res), res.name_hint or "v", "v_")
        self.values[id(res)] = name
        return name
