"""Plain, hashable descriptions of the layers Gemmini accelerates.

A mapping is searched per layer shape, not per graph node, so the shape is its own small
value: two nodes with the same shape share one search and one tuning-database entry (keyed
by `workload_hash`). Convolutions use DOSA/Timeloop dimension letters so that FireSim
calibration rows and the analytical model speak the same language:

    N batch, K output channels, C input channels, P output columns, Q output rows,
    R kernel columns, S kernel rows, G groups (depthwise only).

P/R are the column (width) dims, as in the FireSim harness (TILE_OCOLS = P). A matmul
C[I x J] = A[I x K] B[K x J] keeps its own letters; the model sees it through the
canonical view I -> P, J -> K, K -> C (DOSA's rule for matmuls).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Literal

from dlac.errors import DlacError

#: Canonical dimension slots of the analytical model and of the numeric encoding.
CANON: tuple[str, ...] = ("N", "G", "K", "C", "P", "Q", "R", "S")

#: Dims whose tiles move in DIM-sized blocks (channels and matmul dims).
BLOCK_DIMS_CANON = frozenset({"G", "K", "C"})

MATMUL_TO_CANON = {"I": "P", "J": "K", "K": "C"}


class LayerError(DlacError):
    """A layer shape the mapping library cannot describe."""


class _Shape:
    """The part every layer kind shares: its shape without the name, and a stable hash."""

    def shape_dict(self) -> dict[str, int | bool | str]:
        d = asdict(self)  # type: ignore[call-overload]
        d.pop("name")
        return d

    def workload_hash(self) -> str:
        return _hash(self.shape_dict())


@dataclass(frozen=True)
class ConvLayer(_Shape):
    """A 2-D convolution in NHWC / HWIO layout, as Gemmini's tiled_conv runs it."""

    name: str
    batch: int
    in_channels: int
    out_channels: int
    in_rows: int
    in_cols: int
    kernel_rows: int
    kernel_cols: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    groups: int = 1
    has_bias: bool = True
    pool_size: int = 0
    """A max pool the conv's store applies (fuse-max-pool; 0: none) and its stride and
    padding: the emitted tiled_conv then tiles pooled outputs, so it costs differently."""
    pool_stride: int = 0
    pool_padding: int = 0
    in_stride: int = 0
    """Elements between input pixels when the conv reads a channel slice of a wider
    buffer (0: in_channels); `weight_stride` and `out_stride` likewise for the weights'
    and the output's rows (0: out_channels). The DMA moves the same bytes but from more
    rows and pages, so a sliced conv costs differently."""
    weight_stride: int = 0
    out_stride: int = 0

    kind: Literal["conv"] = "conv"

    def shape_dict(self) -> dict[str, int | bool | str]:
        """Without the pool and stride fields when unset (so the hashes of plain, dense
        convs do not change)."""
        d = super().shape_dict()
        for key in ("pool_size", "pool_stride", "pool_padding", "in_stride", "weight_stride",
                    "out_stride"):
            if not d[key] or (key.startswith("pool_") and not self.pool_size):
                d.pop(key)
        return d

    @property
    def row_strides(self) -> tuple[int, int, int]:
        """(input, weight, output) row strides in elements, as tiled_conv takes them."""
        return (self.in_stride or self.in_channels, self.weight_stride or self.out_channels,
                self.out_stride or self.out_channels)

    def __post_init__(self) -> None:
        for field in ("batch", "in_channels", "out_channels", "in_rows", "in_cols",
                      "kernel_rows", "kernel_cols", "stride", "dilation", "groups"):
            if getattr(self, field) < 1:
                raise LayerError(f"layer {self.name!r}: {field} must be >= 1, "
                                 f"got {getattr(self, field)}")
        if self.padding < 0:
            raise LayerError(f"layer {self.name!r}: padding must be >= 0")
        if self.groups != 1 and not (self.groups == self.in_channels == self.out_channels):
            raise LayerError(f"layer {self.name!r}: only groups=1 and depthwise convolutions "
                             f"are supported, got groups={self.groups} with "
                             f"{self.in_channels}->{self.out_channels} channels")
        if self.out_rows < 1 or self.out_cols < 1:
            raise LayerError(f"layer {self.name!r}: kernel larger than padded input")
        if self.pool_size and (self.depthwise or self.pool_stride < 1 or self.pool_padding < 0
                               or self.pool_padding >= self.pool_size):
            raise LayerError(f"layer {self.name!r}: a fused max pool needs a dense conv, "
                             f"stride >= 1 and padding < size, got size {self.pool_size} "
                             f"stride {self.pool_stride} padding {self.pool_padding}")

    @property
    def pooled(self) -> bool:
        return self.pool_size > 0

    @property
    def pool(self) -> tuple[int, int, int]:
        """(size, stride, padding) of the fused max pool."""
        return self.pool_size, self.pool_stride, self.pool_padding

    def plain(self) -> ConvLayer:
        """The same conv without its fused pool."""
        return replace(self, pool_size=0, pool_stride=0, pool_padding=0)

    @property
    def pooled_rows(self) -> int:
        return (self.out_rows + 2 * self.pool_padding - self.pool_size) // self.pool_stride + 1

    @property
    def pooled_cols(self) -> int:
        return (self.out_cols + 2 * self.pool_padding - self.pool_size) // self.pool_stride + 1

    @property
    def depthwise(self) -> bool:
        return self.groups > 1

    @property
    def pointwise(self) -> bool:
        """A 1x1, stride-1, unpadded dense conv: its NHWC input already is the matrix
        A[N*P*Q x C], so it can run as a tiled_matmul with no copy (as Gemmini's own
        network tests run such convs)."""
        return (self.kernel_rows == self.kernel_cols == 1 and self.stride == 1
                and self.padding == 0 and not self.depthwise and not self.pooled)

    def as_matmul(self) -> MatmulLayer:
        """The matmul an im2col lowering runs: C[N*P*Q x K] = A[N*P*Q x R*S*C] B[R*S*C x K]."""
        return MatmulLayer(f"{self.name}_im2col", i=self.batch * self.out_rows * self.out_cols,
                           j=self.out_channels,
                           k=self.kernel_rows * self.kernel_cols * self.in_channels,
                           has_bias=self.has_bias)

    @property
    def out_rows(self) -> int:
        span = self.dilation * (self.kernel_rows - 1) + 1
        return (self.in_rows + 2 * self.padding - span) // self.stride + 1

    @property
    def out_cols(self) -> int:
        span = self.dilation * (self.kernel_cols - 1) + 1
        return (self.in_cols + 2 * self.padding - span) // self.stride + 1

    @property
    def dim_names(self) -> str:
        """The layer's own loop dims, in Gemmini's default DRAM loop order's letters."""
        return "NGPQRS" if self.depthwise else "NKCPQRS"

    @property
    def default_perm(self) -> str:
        """tiled_conv's loop order b, porow, pocol, poch, krow, kcol, kch (outer first)."""
        return "NQPGSR" if self.depthwise else "NQPKSRC"

    @property
    def dims(self) -> dict[str, int]:
        c = self.canonical()
        return {d: c[d] for d in self.dim_names}

    def canonical(self) -> dict[str, int]:
        g = self.groups
        return {"N": self.batch, "G": g, "K": self.out_channels // g,
                "C": self.in_channels // g, "P": self.out_cols, "Q": self.out_rows,
                "R": self.kernel_cols, "S": self.kernel_rows}

    def to_canon(self, dim: str) -> str:
        return dim

    @property
    def macs(self) -> int:
        c = self.canonical()
        out = 1
        for v in c.values():
            out *= v
        return out

    def describe(self) -> str:
        c = self.canonical()
        dw = " depthwise" if self.depthwise else ""
        return (f"conv{dw} N={c['N']} C={self.in_channels} K={self.out_channels} "
                f"in={self.in_rows}x{self.in_cols} out={self.out_rows}x{self.out_cols} "
                f"kernel={self.kernel_rows}x{self.kernel_cols} stride={self.stride} "
                f"pad={self.padding} dil={self.dilation}"
                + (f" maxpool={self.pool_size}/{self.pool_stride}/{self.pool_padding}"
                   if self.pooled else ""))


@dataclass(frozen=True)
class MatmulLayer(_Shape):
    """C[I x J] = A[I x K] B[K x J] (+ bias row), int8 in, int32 accumulate."""

    name: str
    i: int
    j: int
    k: int
    has_bias: bool = True

    kind: Literal["matmul"] = "matmul"

    def __post_init__(self) -> None:
        for field in ("i", "j", "k"):
            if getattr(self, field) < 1:
                raise LayerError(f"layer {self.name!r}: {field.upper()} must be >= 1")

    @property
    def dim_names(self) -> str:
        return "IJK"

    @property
    def default_perm(self) -> str:
        """tiled_matmul's loops i0, j0, k0 (outer first)."""
        return "IJK"

    @property
    def dims(self) -> dict[str, int]:
        return {"I": self.i, "J": self.j, "K": self.k}

    def canonical(self) -> dict[str, int]:
        return {"N": 1, "G": 1, "K": self.j, "C": self.k, "P": self.i, "Q": 1, "R": 1, "S": 1}

    def to_canon(self, dim: str) -> str:
        return MATMUL_TO_CANON[dim]

    @property
    def macs(self) -> int:
        return self.i * self.j * self.k

    def describe(self) -> str:
        return f"matmul I={self.i} J={self.j} K={self.k}"


Layer = ConvLayer | MatmulLayer


def _hash(shape: dict[str, int | bool | str]) -> str:
    """Stable across processes and Python versions (unlike `hash`)."""
    text = json.dumps(shape, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def layer_from_dict(data: dict[str, int | bool | str]) -> Layer:
    """Inverse of `asdict(layer)`; the plain form the IR stores as attributes."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind == "conv":
        return ConvLayer(**data)  # type: ignore[arg-type]
    if kind == "matmul":
        return MatmulLayer(**data)  # type: ignore[arg-type]
    raise LayerError(f"unknown layer kind {kind!r}")
