"""Lower a quantized (`qgraph`) function to buffers and loop nests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlac.ir.attributes import AffineMapAttr, Attribute
from dlac.ir.core import Block, Operation, Region, Value
from dlac.ir.dialects import loop_host as lh
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.dialects.loop import AllocOp, ForOp, KernelOp, LoadOp, MacOp, StoreOp
from dlac.ir.types import MemRefType, NoneType, TensorType, i8
from dlac.passes.graph_utils import functions
from dlac.passes.pass_base import ModulePass, PassError

SPACE = "dram"
NHWC_PRODUCERS = ("qgraph.conv", "qgraph.max_pool", "qgraph.avg_pool", "qgraph.resize",
                  "qgraph.quantize", "qgraph.zero_insert", "qgraph.resize_linear")
ELEMENTWISE = ("qgraph.requant", "qgraph.lut", "qgraph.add", "qgraph.mul", "qgraph.div",
               "qgraph.compare", "qgraph.select", "qgraph.logic")
# host kernels that address their tensors row-major (an NHWC operand is relaid first)
ROW_MAJOR_HOST = ("qgraph.softmax", "qgraph.layer_norm", "qgraph.arg_max", "qgraph.top_k")

Term = tuple[int, tuple[tuple[int, int], ...]]


def to_physical(logical: list[Term], layout: str) -> list[Term]:
    """Reorder logical NCHW subscripts into a buffer's physical order."""
    if layout == "nhwc":
        return [logical[0], logical[2], logical[3], logical[1]]
    return logical


def physical_shape(shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if layout == "nhwc":
        return (shape[0], shape[2], shape[3], shape[1])
    return tuple(shape)


def amap(n_dims: int, results: list[Term]) -> AffineMapAttr:
    return AffineMapAttr(n_dims, 0, tuple(results))


def var(pos: int, coeff: int = 1, const: int = 0) -> Term:
    return (const, ((pos, coeff),))


def nest(parent: Block, bounds: list[tuple[str, int, str]]) -> tuple[Block, list[Value]]:
    """A perfect nest of `loop.for` (dim name, trip count, iterator kind); innermost block."""
    block = parent
    ivs = []
    for dim, ub, kind in bounds:
        loop = ForOp.build(0, ub, 1, dim=dim, iter=kind, iv_name=dim.lower())
        block.append(loop)
        block = loop.regions[0].block
        ivs.append(loop.iv)
    return block, ivs


@dataclass(frozen=True)
class LowerToLoops(ModulePass):
    """Tensors become `dram` buffers (rank-4 activations in Gemmini's NHWC, conv weights
    HWIO); each qgraph.conv/matmul becomes a `loop.kernel` holding its problem dims,
    quantization attributes and the perfect nest around one `loop.mac`; a same-shape
    int8 qgraph.add becomes a `resadd` kernel; element-wise ops (int16 adds included)
    become host nests of scalar ops; everything else a `loop.host` call over whole
    buffers. Outputs are written into trailing function arguments (destination passing).

    The mac's output buffer is int8: the kernel accumulates in int32 and applies its
    epilogue attributes (bias first, then ACC_SCALE with `multiplier`, then `act`).
    Conv input subscripts outside the buffer read zero (padding); with `input_dilation`
    (a quantized ConvTranspose) they index the input dilated by that factor, i.e. a
    subscript not divisible by it reads zero, as Gemmini's input_dilation does.

    Before:
        %y = qgraph.conv %x, %w, %b {act = "relu", multiplier = 0.01 : f32, ...}
    After:
        %y = loop.alloc : () -> memref<1x16x16x16xi8, "dram">
        loop.kernel %x, %w, %b, %y {kind = "conv", dims = {N = 1, K = 16, ...}} ({
          loop.for %n = 0 to 1 step 1 ... loop.mac %y, %x, %w, %n, %k, ... })
    """

    name = "lower-to-loops"

    def apply(self, module: Operation) -> None:
        for func in functions(module):
            new = _Lowerer(func).run()
            module.regions[0].block.insert_before(func, new)
            func.erase()


class _Lowerer:
    def __init__(self, func: FuncOp) -> None:
        self.old = func
        self.ret = func.body.block.ops[-1]
        if not isinstance(self.ret, ReturnOp):
            raise PassError("function must end with func.return")
        ins = [MemRefType(a.type.shape, a.type.element) for a in func.args]
        outs = [MemRefType(v.type.shape, v.type.element) for v in self.ret.operands]
        names = [a.name_hint for a in func.args] + [
            f"out{i}" if not v.name_hint else v.name_hint for i, v in enumerate(self.ret.operands)]
        self.func = FuncOp.build(func.attr("sym_name"), ins + outs, [], names)
        self.block = self.func.body.block
        self.bufs: dict[int, tuple[Value, str]] = {}
        for old, new in zip(func.args, self.func.args, strict=False):
            self.bufs[id(old)] = (new, "nchw")
        self.returned = {id(v): arg for v, arg in zip(self.ret.operands,
                                                       self.func.args[len(ins):], strict=False)}
        self.counter: dict[str, int] = {}
        self.relaid: dict[tuple[int, str], Value] = {}

    # -- buffers -------------------------------------------------------------------------
    def layout_for(self, op: Operation, value: Value) -> str:
        ty = value.type
        if not isinstance(ty, TensorType) or ty.rank != 4 or id(value) in self.returned:
            return "nchw"
        if op.name in NHWC_PRODUCERS:
            return "nhwc"
        if op.name in ELEMENTWISE and op.operands[0].type.shape == ty.shape and \
                self.bufs[id(op.operands[0])][1] == "nhwc":
            return "nhwc"
        if op.name == "graph.concat" and all(self.bufs[id(v)][1] == "nhwc"
                                             for v in op.operands):
            return "nhwc"
        return "nchw"

    def result_buffer(self, op: Operation, value: Value, layout: str | None = None) -> Value:
        layout = layout or self.layout_for(op, value)
        arg = self.returned.get(id(value))
        if arg is not None and layout == "nchw":
            buf = arg
        else:
            ty = MemRefType(physical_shape(value.type.shape, layout), value.type.element, SPACE)
            alloc = AllocOp(result_types=[ty], attributes={"label": value.name_hint or ""})
            self.block.append(alloc)
            buf = alloc.result
            buf.name_hint = value.name_hint
        self.bufs[id(value)] = (buf, layout)
        return buf

    def get(self, value: Value, want: str | None = None) -> Value:
        buf, layout = self.bufs[id(value)]
        if want is None or want == layout or value.type.rank != 4:
            return buf
        found = self.relaid.get((id(value), want))  # buffers are written once: reuse
        if found is not None:
            return found
        ty = MemRefType(physical_shape(value.type.shape, want), value.type.element, SPACE)
        alloc = self.block.append(AllocOp(result_types=[ty], attributes={"label": "relayout"}))
        self.block.append(lh.HostOp([buf, alloc.results[0]], attributes={
            "kind": "layout", "layouts": [layout, want]}))
        self.relaid[(id(value), want)] = alloc.results[0]
        return alloc.results[0]

    def name(self, kind: str) -> str:
        n = self.counter.get(kind, 0)
        self.counter[kind] = n + 1
        return f"{kind}_{n}"

    # -- driver ----------------------------------------------------------------------------
    def run(self) -> FuncOp:
        for op in self.old.body.block.ops:
            if op is self.ret:
                break
            if op.name == "graph.constant":
                ty = op.results[0].type
                mem = MemRefType(ty.shape, ty.element, SPACE)
                c = lh.ConstantBufferOp(result_types=[mem],
                                        attributes={"value": op.attributes["value"]}, loc=op.loc)
                self.block.append(c)
                c.result.name_hint = op.results[0].name_hint
                self.bufs[id(op.results[0])] = (c.result, "nchw")
            elif op.name == "graph.none":
                self.bufs[id(op.results[0])] = (None, "nchw")
            elif op.name == "qgraph.conv":
                self.conv(op)
            elif op.name == "qgraph.matmul":
                self.matmul(op)
            elif op.name == "qgraph.add" and op.results[0].type.rank and \
                    all(v.type == op.results[0].type for v in op.operands) and \
                    op.results[0].type.element is i8:  # int16 adds run on the host
                self.resadd(op)
            elif op.name in ELEMENTWISE or op.name in ("qgraph.quantize", "qgraph.dequantize"):
                self.elementwise(op)
            else:
                self.host(op)
        for v, arg in zip(self.ret.operands, self.func.args[len(self.old.args):], strict=False):
            buf, layout = self.bufs[id(v)]
            if buf is not arg:
                self.block.append(lh.HostOp([buf, arg], attributes={
                    "kind": "copy", "layouts": [layout, "nchw"]}))
        self.block.append(ReturnOp([]))
        return self.func

    # -- accelerator kernels ---------------------------------------------------------------
    def conv(self, op: Operation) -> None:
        x = self.get(op.operands[0], "nhwc")
        w = self.get(op.operands[1])
        bias = self.get(op.operands[2]) if len(op.operands) > 2 else None
        out = self.result_buffer(op, op.results[0], "nhwc")
        n, c, _, _ = op.operands[0].type.shape
        r, s, cg, k = op.operands[1].type.shape
        p, q = op.results[0].type.shape[2:]
        groups = int(op.attr("group"))
        st, pads, dil = op.attr("strides"), op.attr("pads"), op.attr("dilations")
        depthwise = groups > 1 and cg == 1 and k == groups == c
        base = {key: op.attributes[key] for key in ("strides", "pads", "dilations",
                                                    "multiplier", "act", "in_scale",
                                                    "w_scale", "out_scale", "input_dilation")
                if key in op.attributes}
        runs = [(0, 0, k)] if depthwise or groups == 1 else \
            [(g * cg, g * (k // groups), k // groups) for g in range(groups)]
        splits = op.attr("k_splits")
        multipliers = [base["multiplier"]] * len(runs)
        if splits is not None:  # one call per run of output channels, with its own scale
            bounds = [int(b) for b in splits]
            runs = [(0, a, b - a) for a, b in zip(bounds, bounds[1:], strict=False)]
            multipliers = list(op.attributes["split_multipliers"].value)
        for (c_off, k_off, kk), multiplier in zip(runs, multipliers, strict=True):
            # DOSA/mapping-library letters: Q/S are rows (height), P/R columns (width).
            dims = {"N": n, "K": kk, "C": cg, "P": q, "Q": p, "R": s, "S": r}
            bufs = [x, w] + ([bias] if bias is not None else []) + [out]
            attrs: dict[str, Any] = {"sym_name": self.name("conv"),
                                     "kind": "conv_dw" if depthwise else "conv",
                                     "dims": dims, **base, "multiplier": multiplier,
                                     "has_bias": bias is not None,
                                     "roles": "IWBO" if bias is not None else "IWO"}
            if groups > 1 and not depthwise:
                attrs.update(group=groups, k_offset=k_off, c_offset=c_off)
            elif splits is not None:
                attrs.update(k_offset=k_off)
            kernel = KernelOp(bufs, attributes=attrs, regions=[Region([Block()])], loc=op.loc)
            self.block.append(kernel)
            body, ivs = nest(kernel.regions[0].block, [
                ("N", n, "parallel"), ("K", kk, "parallel"), ("C", cg, "reduction"),
                ("Q", p, "parallel"), ("P", q, "parallel"), ("S", r, "reduction"),
                ("R", s, "reduction")])
            chan = (c_off, ((1, 1), (2, 1))) if depthwise else var(2, 1, c_off)
            in_map = [var(0), (-pads[0], ((3, st[0]), (5, dil[0]))),
                      (-pads[1], ((4, st[1]), (6, dil[1]))), chan]
            body.append(MacOp([out, x, w, *ivs], attributes={
                "out_map": amap(7, [var(0), var(3), var(4), var(1, 1, k_off)]),
                "a_map": amap(7, in_map),
                "b_map": amap(7, [var(5), var(6), var(2), var(1, 1, k_off)])}))

    def matmul(self, op: Operation) -> None:
        a_t, b_t, o_t = (op.operands[0].type, op.operands[1].type, op.results[0].type)
        a = self.get(op.operands[0], "nchw")
        b = self.get(op.operands[1], "nchw")
        bias = self.get(op.operands[2]) if len(op.operands) > 2 else None
        out = self.result_buffer(op, op.results[0], "nchw")
        batch = list(o_t.shape[:-2])
        i, kk, j = a_t.shape[-2], a_t.shape[-1], b_t.shape[-1]
        nb = len(batch)
        total = 1
        for d in batch:
            total *= d
        dims = {"I": i * total, "J": j, "K": kk} if b_t.rank == 2 else \
            {"B": total, "I": i, "J": j, "K": kk}
        attrs: dict[str, Any] = {"sym_name": self.name("matmul"), "kind": "matmul",
                                 "dims": dims, "multiplier": op.attributes["multiplier"],
                                 "act": op.attributes["act"], "has_bias": bias is not None,
                                 "roles": "ABDC" if bias is not None else "ABC"}
        kernel = KernelOp([a, b] + ([bias] if bias is not None else []) + [out],
                          attributes=attrs, regions=[Region([Block()])], loc=op.loc)
        self.block.append(kernel)
        bounds = [(f"B{d}", size, "parallel") for d, size in enumerate(batch)]
        bounds += [("I", i, "parallel"), ("J", j, "parallel"), ("K", kk, "reduction")]
        body, ivs = nest(kernel.regions[0].block, bounds)
        n = nb + 3

        def operand_map(shape: tuple[int, ...], row: int, col: int) -> list[Term]:
            lead = len(shape) - 2
            terms: list[Term] = []
            for d in range(lead):
                bd = nb - lead + d
                terms.append((0, ()) if shape[d] == 1 else var(bd))
            return terms + [var(row), var(col)]

        body.append(MacOp([out, a, b, *ivs], attributes={
            "out_map": amap(n, operand_map(o_t.shape, nb, nb + 1)),
            "a_map": amap(n, operand_map(a_t.shape, nb, nb + 2)),
            "b_map": amap(n, operand_map(b_t.shape, nb + 2, nb + 1))}))

    def resadd(self, op: Operation) -> None:
        out_layout = self.layout_for(op, op.results[0])
        a = self.get(op.operands[0], out_layout)
        b = self.get(op.operands[1], out_layout)
        out = self.result_buffer(op, op.results[0], out_layout)
        shape = out.type.shape
        rows = 1
        for d in shape[:-1]:
            rows *= d
        attrs = {"sym_name": self.name("resadd"), "kind": "resadd",
                 "dims": {"I": rows, "J": shape[-1]}, "roles": "ABC",
                 **{k: op.attributes[k] for k in ("a_scale", "b_scale", "c_scale", "act")}}
        kernel = KernelOp([a, b, out], attributes=attrs, regions=[Region([Block()])], loc=op.loc)
        self.block.append(kernel)
        body, ivs = nest(kernel.regions[0].block,
                         [(f"D{d}", size, "parallel") for d, size in enumerate(shape)])
        ident = amap(len(shape), [var(d) for d in range(len(shape))])
        la = body.append(LoadOp([a, *ivs], [a.type.element], {"map": ident})).results[0]
        lb = body.append(LoadOp([b, *ivs], [b.type.element], {"map": ident})).results[0]
        add = lh.ResaddScalarOp([la, lb], [out.type.element], {
            k: op.attributes[k] for k in ("a_scale", "b_scale", "c_scale", "act")})
        body.append(add)
        body.append(StoreOp([add.results[0], out, *ivs], attributes={"map": ident}))

    # -- host ops -----------------------------------------------------------------------------
    def elementwise(self, op: Operation) -> None:
        out_val = op.results[0]
        out_layout = "nchw" if op.name == "qgraph.dequantize" else self.layout_for(op, out_val)
        out = self.result_buffer(op, out_val, out_layout)
        shape = out_val.type.shape
        rank = len(shape)
        phys = physical_shape(shape, out_layout)
        # a rank-0 tensor still gets one (single-trip) loop to hold its scalar ops
        body, ivs = nest(self.block, [(f"D{d}", size, "parallel")
                                      for d, size in enumerate(phys)] or [("D0", 1, "parallel")])
        n_ivs = len(ivs)
        logical_of_phys = to_physical(list(range(rank)), out_layout) if out_layout == "nhwc" \
            else list(range(rank))
        # logical axis l is iterated by the loop at position phys_pos[l]
        phys_pos = {axis: pos for pos, axis in enumerate(logical_of_phys)}
        loads = []
        for v in op.operands:
            buf, layout = self.bufs[id(v)]
            vshape = v.type.shape
            lead = rank - len(vshape)
            logical = [(0, ()) if vshape[d] == 1 and shape[lead + d] != 1
                       else var(phys_pos[lead + d]) for d in range(len(vshape))]
            subs = to_physical(logical, layout) if len(vshape) == 4 else logical
            load = LoadOp([buf, *ivs], [buf.type.element], {"map": amap(n_ivs, subs)})
            loads.append(body.append(load).results[0])
        elem = out.type.element
        keys = {"qgraph.requant": (lh.RequantOp, ("multiplier",)),
                "qgraph.lut": (lh.LutScalarOp, ("table",)),
                "qgraph.add": (lh.ResaddScalarOp, ("a_scale", "b_scale", "c_scale", "act")),
                "qgraph.mul": (lh.QmulScalarOp, ("multiplier", "residual_multiplier")),
                "qgraph.div": (lh.QdivScalarOp, ("multiplier",)),
                "qgraph.compare": (lh.CompareScalarOp, ("predicate", "a_scale", "b_scale")),
                "qgraph.select": (lh.SelectScalarOp, ()),
                "qgraph.logic": (lh.LogicScalarOp, ("function",)),
                "qgraph.quantize": (lh.QuantizeScalarOp, ("multiplier",)),
                "qgraph.dequantize": (lh.DequantizeScalarOp, ("scale",))}
        cls, attr_keys = keys[op.name]
        attrs: dict[str, Attribute] = {k: op.attributes[k] for k in attr_keys
                                       if k in op.attributes}
        scalar = body.append(cls(loads, [elem], attrs, loc=op.loc))
        ident = amap(n_ivs, [var(d) for d in range(rank)])
        body.append(StoreOp([scalar.results[0], out, *ivs], attributes={"map": ident}))

    def host(self, op: Operation) -> None:
        ins = []
        layouts = []
        for v in op.operands:
            if isinstance(v.type, NoneType):
                continue
            buf, layout = self.bufs[id(v)]
            if op.name in ROW_MAJOR_HOST and layout != "nchw":
                buf, layout = self.get(v, "nchw"), "nchw"
            ins.append(buf)
            layouts.append(layout)
        outs = []
        for res in op.results:
            outs.append(self.result_buffer(op, res))
            layouts.append(self.bufs[id(res)][1])
        attrs: dict[str, Any] = {"kind": op.name, **op.attributes, "layouts": layouts}
        self.block.append(lh.HostOp(ins + outs, attributes=attrs, loc=op.loc))

