"""`gemmini` dialect: one op per Gemmini instruction (and the two CISC loop instructions).

Attributes mirror the instruction fields of Gemmini's ISA (config_ex/ld/st fields, local
addresses as row numbers with the accumulator/accumulate/full-width bits explicit, rows and
cols). DRAM operands are buffers; `*_offset` attributes are element offsets into them, so
the ops print and verify without knowing run-time addresses.
"""

from __future__ import annotations

from dlac.ir.attributes import ArrayAttr, BoolAttr, DictAttr, FloatAttr, IntAttr, StringAttr
from dlac.ir.core import Operation
from dlac.ir.opdef import Attr, Operand, register_op
from dlac.ir.types import MemRefType

GARBAGE_ADDR = 0xFFFFFFFF
DATAFLOWS = ("OS", "WS")
ACTIVATIONS = ("none", "relu")


def _int(name: str, optional: bool = False, doc: str = "") -> Attr:
    return Attr(name, IntAttr, optional=optional, doc=doc)


def _flag(name: str) -> Attr:
    return Attr(name, BoolAttr, optional=True)


class _GemminiOp(Operation):
    __slots__ = ()

    def _nonneg(self, *keys: str) -> None:
        for key in keys:
            value = self.attr(key)
            if value is not None and value < 0:
                raise self.error(f"'{key}' must be non-negative, got {value}")

    def _rows_cols(self, rows: str = "rows", cols: str = "cols") -> None:
        for key in (rows, cols):
            value = self.attr(key)
            if value is not None and value <= 0:
                raise self.error(f"'{key}' must be positive, got {value}")


@register_op
class ConfigExOp(_GemminiOp):
    __slots__ = ()
    NAME = "gemmini.config_ex"
    ATTRS = (Attr("dataflow", StringAttr), Attr("act", StringAttr, optional=True),
             _int("sys_shift", True), _int("a_stride", True), _int("c_stride", True),
             _flag("a_transpose"), _flag("b_transpose"))

    def verify_(self) -> None:
        if self.attr("dataflow") not in DATAFLOWS:
            raise self.error(f"dataflow must be one of {DATAFLOWS}")
        if self.attr("act", "none") not in ACTIVATIONS:
            raise self.error(f"act must be one of {ACTIVATIONS}")
        if self.attr("dataflow") == "WS" and self.attr("a_transpose") and self.attr("b_transpose"):
            raise self.error("WS cannot transpose both A and B")
        self._nonneg("sys_shift", "a_stride", "c_stride")


@register_op
class ConfigLdOp(_GemminiOp):
    __slots__ = ()
    NAME = "gemmini.config_ld"
    ATTRS = (_int("stride", doc="DRAM row stride in bytes"), _int("id"),
             Attr("scale", FloatAttr, optional=True), _flag("shrunk"),
             _int("block_stride", True), _int("pixel_repeats", True))

    def verify_(self) -> None:
        if self.attr("id") not in (0, 1, 2):
            raise self.error("id must be 0 (A), 1 (B) or 2 (D)")
        self._nonneg("stride", "block_stride", "pixel_repeats")


@register_op
class ConfigStOp(_GemminiOp):
    __slots__ = ()
    NAME = "gemmini.config_st"
    ATTRS = (_int("stride", doc="DRAM row stride in bytes"),
             Attr("act", StringAttr, optional=True), Attr("scale", FloatAttr, optional=True),
             _int("pool_stride", True), _int("pool_size", True), _int("pool_out_dim", True),
             _int("porows", True), _int("pocols", True), _int("orows", True),
             _int("ocols", True), _int("upad", True), _int("lpad", True))

    def verify_(self) -> None:
        if self.attr("act", "none") not in ACTIVATIONS:
            raise self.error(f"act must be one of {ACTIVATIONS}")
        self._nonneg("stride")


@register_op
class MvinOp(_GemminiOp):
    """DRAM -> scratchpad/accumulator; `id` picks mvin (0), mvin2 (1) or mvin3 (2)."""

    __slots__ = ()
    NAME = "gemmini.mvin"
    OPERANDS = (Operand("dram", MemRefType, optional=True),)
    ATTRS = (_int("id"), _int("offset", True), _int("addr", doc="local address (32-bit)"),
             _int("rows"), _int("cols"))

    def verify_(self) -> None:
        if self.attr("id") not in (0, 1, 2):
            raise self.error("id must be 0, 1 or 2")
        self._rows_cols()
        self._nonneg("offset", "addr")


@register_op
class MvoutOp(_GemminiOp):
    __slots__ = ()
    NAME = "gemmini.mvout"
    OPERANDS = (Operand("dram", MemRefType),)
    ATTRS = (_int("offset", True), _int("addr"), _int("rows"), _int("cols"))

    def verify_(self) -> None:
        self._rows_cols()
        self._nonneg("offset", "addr")


@register_op
class PreloadOp(_GemminiOp):
    __slots__ = ()
    NAME = "gemmini.preload"
    ATTRS = (_int("bd_addr"), _int("c_addr"), _int("bd_rows"), _int("bd_cols"),
             _int("c_rows"), _int("c_cols"))

    def verify_(self) -> None:
        self._rows_cols("bd_rows", "bd_cols")
        self._rows_cols("c_rows", "c_cols")


class _ComputeOp(_GemminiOp):
    __slots__ = ()
    ATTRS = (_int("a_addr"), _int("bd_addr"), _int("a_rows"), _int("a_cols"),
             _int("bd_rows"), _int("bd_cols"))

    def verify_(self) -> None:
        self._rows_cols("a_rows", "a_cols")
        self._rows_cols("bd_rows", "bd_cols")


@register_op
class ComputePreloadedOp(_ComputeOp):
    __slots__ = ()
    NAME = "gemmini.compute_preloaded"


@register_op
class ComputeAccumulatedOp(_ComputeOp):
    __slots__ = ()
    NAME = "gemmini.compute_accumulated"


@register_op
class LoopWsOp(_GemminiOp):
    """One hardware-sequenced WS matmul tile: C = A.B (+ D), sizes in DIM blocks."""

    __slots__ = ()
    NAME = "gemmini.loop_ws"
    OPERANDS = (Operand("buffers", MemRefType, variadic=True),)
    ATTRS = (_int("I"), _int("J"), _int("K"), _int("pad_I"), _int("pad_J"), _int("pad_K"),
             Attr("roles", StringAttr, doc="which of A,B,D,C the buffers are, e.g. 'ABDC'"),
             _int("a_offset", True), _int("b_offset", True), _int("d_offset", True),
             _int("c_offset", True), _int("a_stride"), _int("b_stride"), _int("d_stride"),
             _int("c_stride"), _flag("a_transpose"), _flag("b_transpose"), _flag("full_c"),
             _flag("low_d"), _flag("ex_accumulate"), Attr("act", StringAttr, optional=True),
             _int("a_spad_id", True), _int("b_spad_id", True), _flag("is_resadd"))

    def verify_(self) -> None:
        roles = self.attr("roles")
        if len(roles) != len(self.operands) or set(roles) - set("ABDC") or \
                len(set(roles)) != len(roles):
            raise self.error("'roles' must name each buffer once from A, B, D, C")
        for key in ("I", "J", "K"):
            if self.attr(key) <= 0:
                raise self.error(f"'{key}' must be positive")
        self._nonneg("pad_I", "pad_J", "pad_K")


@register_op
class LoopConvWsOp(_GemminiOp):
    """One hardware-sequenced convolution tile (the gemmini_loop_conv_ws instruction)."""

    __slots__ = ()
    NAME = "gemmini.loop_conv_ws"
    OPERANDS = (Operand("buffers", MemRefType, variadic=True),)
    ATTRS = (Attr("roles", StringAttr, doc="roles of the buffers: I(nput) W B(ias) O(utput)"),
             Attr("params", DictAttr, doc="every loop_conv_ws field by its gemmini.h name"),)

    def verify_(self) -> None:
        roles = self.attr("roles")
        if len(roles) != len(self.operands) or set(roles) - set("IWBO"):
            raise self.error("'roles' must name each buffer from I, W, B, O")


@register_op
class FenceOp(_GemminiOp):
    __slots__ = ()
    NAME = "gemmini.fence"


@register_op
class FlushOp(_GemminiOp):
    __slots__ = ()
    NAME = "gemmini.flush"
    ATTRS = (_flag("skip"),)


class _TiledOp(_GemminiOp):
    """One call of Gemmini's software library: a whole layer as its instruction stream.

    The library expands it into config/mvin/loop_ws/loop_conv_ws/mvout instructions tile by
    tile, in the DRAM loop order `perm`, with the `tiles` given (absent: the library's own
    heuristic). `roles` names what each buffer operand is; `offsets` are element offsets
    into them.
    """

    __slots__ = ()
    ROLES = ""

    def verify_(self) -> None:
        roles = self.attr("roles")
        if len(roles) != len(self.operands) or set(roles) - set(self.ROLES) or \
                len(set(roles)) != len(roles):
            raise self.error(f"'roles' must name each buffer once from {self.ROLES}")
        offsets = self.attr("offsets") or {}
        if set(offsets) - set(roles):
            raise self.error("'offsets' names a buffer that is not an operand")
        if self.attr("act", "none") not in ACTIVATIONS:
            raise self.error(f"act must be one of {ACTIVATIONS}")


def _tiled_attrs(*extra: Attr) -> tuple[Attr, ...]:
    return (Attr("roles", StringAttr), Attr("offsets", DictAttr, optional=True),
            Attr("act", StringAttr, optional=True), *extra)


@register_op
class TiledMatmulOp(_TiledOp):
    """tiled_matmul: C = act(ACC_SCALE(A.B + D, scale)); `dims` = [I, J, K]; with
    `full_c`, C is the int32 accumulator A.B + D itself (the library's full_C)."""

    __slots__ = ()
    NAME = "gemmini.tiled_matmul"
    ROLES = "ABDC"
    OPERANDS = (Operand("buffers", MemRefType, variadic=True),)
    ATTRS = _tiled_attrs(Attr("dims", ArrayAttr), Attr("strides", ArrayAttr),
                         Attr("scale", FloatAttr), Attr("repeating_bias", BoolAttr),
                         Attr("tiles", ArrayAttr, optional=True),
                         Attr("perm", StringAttr, optional=True),
                         Attr("dataflow", StringAttr, optional=True),
                         Attr("alloc", DictAttr, optional=True),
                         Attr("full_c", BoolAttr, optional=True))


@register_op
class TiledConvOp(_TiledOp):
    """tiled_conv: an NHWC x HWIO convolution; `geometry` holds the library's arguments.

    `block_diagonal` marks a depthwise conv run as dense convs over groups of
    `in_channels` (= `out_channels`) of its `channels` channels, with weights that are zero
    off the diagonal, so only one MAC per output and kernel tap does work. `flat` marks
    the same groups run on flattened rows (dlac_conv_dw_flat): weights are one diagonal
    block per group and tap, `tiles` = [output rows, channel groups] per tile.
    `pool` = {size, stride, padding} max-pools the output during the store (Gemmini's
    pool_* arguments): the output buffer is the pooled one, `geometry`'s out_rows/out_cols
    stay the conv's, and `tiles` count pooled rows and cols.
    """

    __slots__ = ()
    NAME = "gemmini.tiled_conv"
    ROLES = "IWBO"
    OPERANDS = (Operand("buffers", MemRefType, variadic=True),)
    ATTRS = _tiled_attrs(Attr("geometry", DictAttr), Attr("scale", FloatAttr),
                         Attr("block_diagonal", BoolAttr, optional=True),
                         Attr("flat", BoolAttr, optional=True),
                         Attr("tiles", ArrayAttr, optional=True),
                         Attr("perm", StringAttr, optional=True),
                         Attr("alloc", DictAttr, optional=True),
                         Attr("pool", DictAttr, optional=True))

    @property
    def depthwise(self) -> bool:
        """A depthwise conv's channel groups (block-diagonal or flat): one diagonal MAC per
        output and kernel tap does work."""
        return bool(self.attr("block_diagonal") or self.attr("flat"))

    def verify_(self) -> None:
        super().verify_()
        geometry = self.attr("geometry")
        if self.depthwise:
            if geometry.get("in_channels") != geometry.get("out_channels"):
                raise self.error("a block-diagonal conv needs as many input as output channels")
            if "channels" not in geometry:
                raise self.error("a block-diagonal conv needs the depthwise 'channels' count")
        if self.attr("flat"):
            if self.attr("block_diagonal"):
                raise self.error("a conv is either block-diagonal or flat, not both")
            tiles = self.attr("tiles")
            if tiles is None or len(tiles) != 2:
                raise self.error("a flat conv needs tiles = [output rows, channel groups]")
        pool = self.attr("pool")
        if pool is not None:
            if set(pool) != {"size", "stride", "padding"}:
                raise self.error("'pool' needs exactly size, stride and padding")
            if self.depthwise or self.attr("perm") not in (None, "NQPKSRC"):
                raise self.error("only a dense conv in the library's loop order can pool")


@register_op
class TiledResaddOp(_TiledOp):
    """tiled_resadd: C = act(ACC_SCALE(MVIN_SCALE(A) + MVIN_SCALE(B), c_scale))."""

    __slots__ = ()
    NAME = "gemmini.tiled_resadd"
    ROLES = "ABC"
    OPERANDS = (Operand("buffers", MemRefType, variadic=True),)
    ATTRS = _tiled_attrs(Attr("dims", ArrayAttr), Attr("a_scale", FloatAttr),
                         Attr("b_scale", FloatAttr), Attr("c_scale", FloatAttr))
