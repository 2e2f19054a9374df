"""Render Gemmini's `gemmini_params.h` for any `Target`: the one place the Gemmini config
becomes C, imported by the backends (the emitted header) and the simulator (its builds).

The text follows Gemmini's header generator (GemminiConfigs.scala): the same macros and
typedefs, with DIM, BANK_NUM, BANK_ROWS and ACC_ROWS computed from the Target. Simulator
timing knobs never go here; they are passed to the simulator at run time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import jinja2
from dlac.ir.target import Target

_INT_TYPES = {8: "int8_t", 16: "int16_t", 32: "int32_t", 64: "int64_t"}


@dataclass(frozen=True)
class ParamsView:
    """Plain values the template prints; every derivation happens here."""

    xcustom_acc: int
    dim: int
    addr_len: int
    bank_num: int
    bank_rows: int
    acc_rows: int
    max_bytes: int
    max_block_len: str
    max_block_len_acc: str
    elem_t: str
    elem_max: int
    elem_min: int
    acc_t: str
    full_t: str
    mvin_scale_lines: tuple[str, ...]
    feature_lines: tuple[str, ...]


def _block_len(dim: int, elem_bytes: int) -> str:
    """Gemmini prints the formula, or 1 when one DIM-wide row is wider than MAX_BYTES."""
    return f"(MAX_BYTES/(DIM*{elem_bytes}))" if dim * elem_bytes <= 64 else "1"


def view_model(target: Target) -> ParamsView:
    """Compute every value `gemmini_params.h` needs from `target`."""
    bits = target.input_bits
    features = []
    if target.acc_read_small_width:
        features.append("#define ACC_READ_SMALL_WIDTH")
    if target.acc_read_full_width:
        features.append("#define ACC_READ_FULL_WIDTH")
    if target.has_first_layer_optimizations:
        features.append("#define HAS_FIRST_LAYER_OPTIMIZATIONS")
    return ParamsView(
        xcustom_acc=3,
        dim=target.dim,
        addr_len=32,
        bank_num=target.sp_banks,
        bank_rows=target.sp_bank_rows,
        acc_rows=target.acc_rows,
        max_bytes=target.max_bytes,
        max_block_len=_block_len(target.dim, bits // 8),
        max_block_len_acc=_block_len(target.dim, target.acc_bits // 8),
        elem_t=_INT_TYPES[bits],
        elem_max=(1 << (bits - 1)) - 1,
        elem_min=-(1 << (bits - 1)),
        acc_t=_INT_TYPES[target.acc_bits],
        full_t="int64_t",
        mvin_scale_lines=("#define HAS_MVIN_SCALE",) if target.has_mvin_scale else (),
        feature_lines=tuple(features),
    )


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dlac.ir", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template("gemmini_params.h.j2")


def render_params_header(target: Target) -> str:
    """The complete text of `gemmini_params.h` for `target`."""
    return _template().render(**asdict(view_model(target)))
