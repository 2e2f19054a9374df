"""C for `gemmini` library ops: one call into Gemmini's software library each.

A op with `tiles` runs exactly that mapping (`tiled_conv` / `tiled_matmul`, or the
`dlac_tiled_*_perm` variants for a DRAM loop order other than the library's own); without
`tiles` the library's `*_auto` functions choose, i.e. Gemmini's own heuristic.
"""

from __future__ import annotations

from dlac.backends.c_literals import c_float as _f
from dlac.backends.c_scope import CScope
from dlac.backends.errors import BackendError
from dlac.ir.core import Operation
from dlac.ir.dialects import gemmini

CONV_DEFAULT_PERM = "NQPKSRC"
MATMUL_DEFAULT_PERM = "IJK"


def _act(op: Operation) -> str:
    return "RELU" if op.attr("act", "none") == "relu" else "NO_ACTIVATION"


def _ptrs(op: Operation, emitter: CScope) -> dict[str, str]:
    offsets = dict(op.attr("offsets") or {})
    out = {}
    for role, value in zip(str(op.attr("roles")), op.operands, strict=True):
        name = emitter.name_of(value)
        off = int(offsets.get(role, 0))
        out[role] = f"({name} + {off})" if off else name
    return out


def gemmini_call(op: Operation, emitter: CScope) -> list[str]:
    if isinstance(op, gemmini.TiledConvOp):
        return [_conv(op, _ptrs(op, emitter))]
    if isinstance(op, gemmini.TiledMatmulOp):
        return [_matmul(op, _ptrs(op, emitter))]
    if isinstance(op, gemmini.TiledResaddOp):
        p = _ptrs(op, emitter)
        i, j = op.attr("dims")
        relu = "true" if op.attr("act", "none") == "relu" else "false"
        return [f"  tiled_resadd_auto({i}, {j}, {_f(op.attr('a_scale'))}, "
                f"{_f(op.attr('b_scale'))}, {_f(op.attr('c_scale'))}, {p['A']}, {p['B']}, "
                f"{p['C']}, {relu}, WS);"]
    raise BackendError(f"{op.loc.prefix()}: no C for '{op.name}'")


def _bias(p: dict[str, str]) -> str:
    return f"(const acc_t *){p['B']}" if "B" in p else "NULL"


def _conv(op: gemmini.TiledConvOp, p: dict[str, str]) -> str:
    g = dict(op.attr("geometry"))
    if op.attr("block_diagonal"):
        return _conv_dw_groups(op, g, p)
    if op.attr("flat"):
        return _conv_dw_flat(op, g, p)
    common = (f"{g['batch']}, {g['in_rows']}, {g['in_cols']}, {g['in_channels']}, "
              f"{g['out_channels']}, {g['out_rows']}, {g['out_cols']}, {g['stride']}")
    strides = f"{g['in_stride']}, {g['weight_stride']}, {g['out_stride']}"
    tail = f"{p['I']}, {p['W']}, {_bias(p)}, {p['O']}, {_act(op)}, {_f(op.attr('scale'))}"
    pool = dict(op.attr("pool") or {"size": 0, "stride": 0, "padding": 0})
    pool_args = f"{pool['size']}, {pool['stride']}, {pool['padding']}"
    tiles = op.attr("tiles")
    if tiles is None:
        return (f"  tiled_conv_stride_auto({common}, 1, {g['dilation']}, {g['padding']}, "
                f"{g['kernel_dim']}, {strides}, false, false, false, false, false, {tail}, "
                f"{pool_args}, WS);")
    tile_args = ", ".join(str(t) for t in tiles)
    perm = op.attr("perm") or CONV_DEFAULT_PERM
    if perm == CONV_DEFAULT_PERM:
        return (f"  tiled_conv({common}, 1, {g['dilation']}, {g['padding']}, {g['kernel_dim']}, "
                f"{strides}, false, false, false, false, false, {tile_args}, {tail}, "
                f"{pool_args}, WS);")
    return (f"  dlac_tiled_conv_perm({common}, {g['dilation']}, {g['padding']}, "
            f"{g['kernel_dim']}, {strides}, {tile_args}, {tail}, \"{perm}\");")


def _conv_dw_groups(op: gemmini.TiledConvOp, g: dict[str, int], p: dict[str, str]) -> str:
    """All groups of a depthwise conv in one call (dlac's C library extension)."""
    b, porows, pocols, _, krows, kcols, _ = op.attr("tiles") or (0,) * 7
    perm = f'"{op.attr("perm")}"' if op.attr("perm") else "NULL"
    return (f"  dlac_tiled_conv_dw_groups({g['batch']}, {g['in_rows']}, {g['in_cols']}, "
            f"{g['channels']}, {g['in_channels']}, {g['out_rows']}, {g['out_cols']}, "
            f"{g['stride']}, {g['dilation']}, {g['padding']}, {g['kernel_dim']}, "
            f"{g['in_stride']}, {b}, {porows}, {pocols}, {krows}, {kcols}, {p['I']}, {p['W']}, "
            f"{_bias(p)}, {p['O']}, {_act(op)}, {_f(op.attr('scale'))}, {perm});")


def _conv_dw_flat(op: gemmini.TiledConvOp, g: dict[str, int], p: dict[str, str]) -> str:
    """A depthwise conv on flattened rows (dlac's C library extension)."""
    porows, pgroups = op.attr("tiles")
    return (f"  dlac_conv_dw_flat({g['batch']}, {g['in_rows']}, {g['in_cols']}, "
            f"{g['channels']}, {g['out_rows']}, {g['out_cols']}, {g['stride']}, "
            f"{g['padding']}, {g['kernel_dim']}, {g['in_stride']}, {g['out_stride']}, "
            f"{porows}, {pgroups}, {p['I']}, {p['W']}, {_bias(p)}, {p['O']}, {_act(op)}, "
            f"{_f(op.attr('scale'))});")


def _matmul(op: gemmini.TiledMatmulOp, p: dict[str, str]) -> str:
    i, j, k = op.attr("dims")
    sa, sb, sd, sc = op.attr("strides")
    bias = p.get("D", "NULL")
    repeat = "true" if op.attr("repeating_bias") else "false"
    head = (f"{i}, {j}, {k}, {p['A']}, {p['B']}, {bias}, {p['C']}, {sa}, {sb}, {sd}, {sc}, "
            f"MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, {_act(op)}, "
            f"{_f(op.attr('scale'))}, 0, {repeat}")
    # transpose_A, transpose_B, full_C (C is the int32 accumulator), low_D, weightA
    tail = f"false, false, {'true' if op.attr('full_c') else 'false'}, false, 0"
    tiles = op.attr("tiles")
    if tiles is None:
        return f"  tiled_matmul_auto({head}, {tail}, WS);"
    tile_args = ", ".join(str(t) for t in tiles)
    flow = op.attr("dataflow") or "WS"
    perm = op.attr("perm") or MATMUL_DEFAULT_PERM
    if perm == MATMUL_DEFAULT_PERM:
        return f"  tiled_matmul({head}, {tile_args}, {tail}, {flow});"
    flow_const = "WEIGHT_STATIONARY" if flow == "WS" else "OUTPUT_STATIONARY"
    return (f"  dlac_tiled_matmul_perm({head}, {tile_args}, {tail}, "
            f"{flow_const}, \"{perm}\");")
