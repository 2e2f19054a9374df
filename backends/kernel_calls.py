"""C for accelerated kernels: calls to Gemmini's software library.

A kernel with a `mapping` attribute runs with exactly that mapping: its tile sizes go to
`tiled_conv` / `tiled_matmul` (DIM blocks for matmuls), and a DRAM loop order other than
the library's own goes to the `dlac_tiled_*_perm` variants. A kernel without a mapping
uses the library's `*_auto` functions, i.e. Gemmini's own tiling heuristic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dlac.backends.errors import BackendError
from dlac.ir.dialects.loop import KernelOp
from dlac.ir.target import Target

if TYPE_CHECKING:
    from dlac.backends.c_emit import CEmitter

CONV_DEFAULT_PERM = "NQPKSRC"
MATMUL_DEFAULT_PERM = "IJK"


def _f(value: float) -> str:
    return f"{float(value)!r}f"


def _act(kernel: KernelOp) -> str:
    return "RELU" if kernel.attr("act", "none") == "relu" else "NO_ACTIVATION"


def _roles(kernel: KernelOp, emitter: CEmitter) -> dict[str, str]:
    roles = str(kernel.attr("roles"))
    if len(roles) != len(kernel.operands):
        raise BackendError(f"{kernel.loc.prefix()}: 'roles' does not name every buffer")
    return {r: emitter.name_of(v) for r, v in zip(roles, kernel.operands)}


def _mapping(kernel: KernelOp):  # noqa: ANN202
    from dlac.passes.mapping import Mapping

    data = kernel.attr("mapping")
    return None if data is None else Mapping.from_attrs(dict(data))


def _same(kernel: KernelOp, key: str, values: list[int]) -> int:
    if len(set(values)) != 1:
        raise BackendError(f"{kernel.loc.prefix()}: Gemmini's conv needs equal {key}, got "
                           f"{values} (layer '{kernel.attr('sym_name')}')")
    return values[0]


def kernel_call(kernel: KernelOp, emitter: CEmitter, target: Target) -> list[str]:
    kind = str(kernel.attr("kind"))
    if kind in ("conv", "conv_dw"):
        return _conv(kernel, emitter, target, kind == "conv_dw")
    if kind == "matmul":
        return _matmul(kernel, emitter, target)
    if kind == "resadd":
        return _resadd(kernel, emitter)
    raise BackendError(f"{kernel.loc.prefix()}: no Gemmini call for kernel kind '{kind}'")


def _conv(kernel: KernelOp, emitter: CEmitter, target: Target, depthwise: bool) -> list[str]:
    roles = str(kernel.attr("roles"))
    b = _roles(kernel, emitter)
    x_t, w_t = kernel.operands[roles.index("I")].type, kernel.operands[roles.index("W")].type
    y_t = kernel.operands[roles.index("O")].type
    batch, in_rows, in_cols, in_total = x_t.shape
    k_rows, k_cols, k_in, w_stride = w_t.shape
    _, out_rows, out_cols, out_total = y_t.shape
    out_ch = int(dict(kernel.attr("dims"))["K"])
    kernel_dim = _same(kernel, "kernel sizes", [k_rows, k_cols])
    stride = _same(kernel, "strides", [int(v) for v in kernel.attr("strides")])
    padding = _same(kernel, "pads", [int(v) for v in kernel.attr("pads")])
    dilation = _same(kernel, "dilations", [int(v) for v in kernel.attr("dilations")])
    bias = f"(const acc_t *){b['B']}" if "B" in b else "NULL"
    scale = _f(kernel.attr("multiplier"))
    if depthwise:
        if dilation != 1:
            raise BackendError(f"{kernel.loc.prefix()}: dilated depthwise conv")
        return [f"  tiled_conv_dw_auto({batch}, {in_rows}, {in_cols}, {w_stride}, {out_rows}, "
                f"{out_cols}, {stride}, {padding}, {kernel_dim}, {b['I']}, {b['W']}, {bias}, "
                f"{b['O']}, {_act(kernel)}, {scale}, 0, 0, 0, WS);"]
    c_off, k_off = int(kernel.attr("c_offset", 0)), int(kernel.attr("k_offset", 0))
    x = f"{b['I']} + {c_off}" if c_off else b["I"]
    w = f"{b['W']} + {k_off}" if k_off else b["W"]
    y = f"{b['O']} + {k_off}" if k_off else b["O"]
    if "B" in b and k_off:
        bias = f"(const acc_t *){b['B']} + {k_off}"
    common = (f"{batch}, {in_rows}, {in_cols}, {k_in}, {out_ch}, {out_rows}, {out_cols}, "
              f"{stride}")
    strides = f"{in_total}, {w_stride}, {out_total}"
    tail = f"{x}, {w}, {bias}, {y}, {_act(kernel)}, {scale}"
    mapping = _mapping(kernel)
    if mapping is None:
        return [f"  tiled_conv_stride_auto({common}, 1, {dilation}, {padding}, {kernel_dim}, "
                f"{strides}, false, false, false, false, false, {tail}, 0, 0, 0, WS);"]
    a = mapping.gemmini_args(_layer(kernel), target)
    tiles = ", ".join(str(a[key]) for key in ("batches", "porows", "pocols", "pochs", "krows",
                                              "kcols", "kchs"))
    if mapping.perm == CONV_DEFAULT_PERM:
        return [f"  tiled_conv({common}, 1, {dilation}, {padding}, {kernel_dim}, {strides}, "
                f"false, false, false, false, false, {tiles}, {tail}, 0, 0, 0, WS);"]
    return [f"  dlac_tiled_conv_perm({common}, {dilation}, {padding}, {kernel_dim}, {strides}, "
            f"{tiles}, {tail}, \"{mapping.perm}\");"]


def _batch_offsets(kernel: KernelOp) -> list[tuple[int, int, int]]:
    """(A, B, C) element offsets of every matrix in a batched matmul, with broadcasting."""
    roles = str(kernel.attr("roles"))
    a_t, b_t = (kernel.operands[roles.index(r)].type for r in "AB")
    c_t = kernel.operands[roles.index("C")].type
    lead = list(c_t.shape[:-2])
    out = []
    for flat in range(int(np.prod(lead)) if lead else 1):
        index = np.unravel_index(flat, lead) if lead else ()
        offs = []
        for ty in (a_t, b_t, c_t):
            shape = list(ty.shape)
            own = shape[:-2]
            base = len(lead) - len(own)
            mat = shape[-1] * shape[-2]
            off = 0
            for d, size in enumerate(own):
                off = off * size + (int(index[base + d]) if size != 1 else 0)
            offs.append(off * mat)
        out.append((offs[0], offs[1], offs[2]))
    return out


def _matmul(kernel: KernelOp, emitter: CEmitter, target: Target) -> list[str]:
    d = dict(kernel.attr("dims"))
    b = _roles(kernel, emitter)
    if "B" in d:
        i, j, k = d["I"], d["J"], d["K"]
        rest = (f"{k}, {j}, {j}, {j}, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, "
                f"MVIN_SCALE_IDENTITY, {_act(kernel)}, {_f(kernel.attr('multiplier'))}, 0, "
                f"false, false, false, false, false, 0, WS);")
        return [f"  tiled_matmul_auto({i}, {j}, {k}, {b['A']} + {oa}, {b['B']} + {ob}, NULL, "
                f"{b['C']} + {oc}, {rest}" for oa, ob, oc in _batch_offsets(kernel)]
    i, j, k = d["I"], d["J"], d["K"]
    bias = f"{b['D']}" if "D" in b else "NULL"
    head = (f"{i}, {j}, {k}, {b['A']}, {b['B']}, {bias}, {b['C']}, {k}, {j}, {j}, {j}, "
            f"MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, {_act(kernel)}, "
            f"{_f(kernel.attr('multiplier'))}, 0, {'true' if 'D' in b else 'false'}")
    mapping = _mapping(kernel)
    if mapping is None:
        return [f"  tiled_matmul_auto({head}, false, false, false, false, 0, WS);"]
    args = mapping.gemmini_args(_layer(kernel), target)
    tiles = f"{args['tile_I']}, {args['tile_J']}, {args['tile_K']}"
    flow = mapping.dataflow
    if mapping.perm == MATMUL_DEFAULT_PERM:
        return [f"  tiled_matmul({head}, {tiles}, false, false, false, false, 0, {flow});"]
    return [f"  dlac_tiled_matmul_perm({head}, {tiles}, false, false, false, false, 0, "
            f"{'WEIGHT_STATIONARY' if flow == 'WS' else 'OUTPUT_STATIONARY'}, "
            f"\"{mapping.perm}\");"]


def _layer(kernel: KernelOp):  # noqa: ANN202
    from dlac.passes.materialize import layer_of

    return layer_of(kernel)


def _resadd(kernel: KernelOp, emitter: CEmitter) -> list[str]:
    d = dict(kernel.attr("dims"))
    b = _roles(kernel, emitter)
    relu = "true" if kernel.attr("act", "none") == "relu" else "false"
    return [f"  tiled_resadd_auto({d['I']}, {d['J']}, {_f(kernel.attr('a_scale'))}, "
            f"{_f(kernel.attr('b_scale'))}, {_f(kernel.attr('c_scale'))}, {b['A']}, {b['B']}, "
            f"{b['C']}, {relu}, WS);"]
