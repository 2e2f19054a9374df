"""DOSA/Timeloop 4-level mapping strings, and their link to Gemmini-executable mappings.

The FireSim calibration data (../shared/data/firesim) describes each run by a string like

    L3[WIO] K8 Q28 - L2[WI] N1 K4X - L1[O] K2 S7 R7 Q4 P7 C3X - L0[W] P16

Levels run outermost first (L3 DRAM, L2 scratchpad, L1 accumulator, L0 registers); inside a
level loops run outermost first; a trailing X marks a spatial factor (K on the array
columns at L2, C on the array rows at L1). A dim may appear twice in one level (temporal
and spatial), so a level is an ordered list of loops, and print(parse(s)) == s.

Converting to a Gemmini mapping follows the FireSim harness: the tile of a dim is the
product of its L2, L1 and L0 factors (spatial included) and the DRAM order is the L3 loop
order, with unlisted dims (trip count 1) outside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlac.ir.target import Target

from .errors import MappingError
from .layer import ConvLayer, Layer, MatmulLayer
from .mapping import Mapping

_LEVEL_RE = re.compile(r"^L(\d+)\[([A-Z]*)\]$")
_LOOP_RE = re.compile(r"^([A-Z])(\d+)(X?)$")

#: matmul dims seen through the DOSA conv letters (P rows, C reduction, K columns).
_CONV_TO_MATMUL = {"P": "I", "K": "J", "C": "K"}


@dataclass(frozen=True)
class Loop:
    dim: str
    factor: int
    spatial: bool = False

    def __str__(self) -> str:
        return f"{self.dim}{self.factor}{'X' if self.spatial else ''}"


@dataclass(frozen=True)
class Level:
    index: int
    tensors: str
    loops: tuple[Loop, ...]

    def __str__(self) -> str:
        head = f"L{self.index}[{self.tensors}]"
        return " ".join([head, *(str(lp) for lp in self.loops)])

    def factor(self, dim: str, spatial: bool | None = None) -> int:
        out = 1
        for lp in self.loops:
            if lp.dim == dim and (spatial is None or lp.spatial == spatial):
                out *= lp.factor
        return out


@dataclass(frozen=True)
class DosaMapping:
    """A 4-level loop nest, outermost level first."""

    levels: tuple[Level, ...]

    @classmethod
    def parse(cls, text: str) -> DosaMapping:
        levels = []
        for chunk in text.strip().split(" - "):
            words = chunk.split()
            if not words:
                raise MappingError(f"empty level in mapping string {text!r}")
            head = _LEVEL_RE.match(words[0])
            if head is None:
                raise MappingError(f"bad level header {words[0]!r} in mapping string {text!r}")
            loops = []
            for w in words[1:]:
                m = _LOOP_RE.match(w)
                if m is None:
                    raise MappingError(f"bad loop {w!r} in mapping string {text!r}")
                loops.append(Loop(m.group(1), int(m.group(2)), m.group(3) == "X"))
            levels.append(Level(int(head.group(1)), head.group(2), tuple(loops)))
        return cls(tuple(levels))

    def __str__(self) -> str:
        return " - ".join(str(lv) for lv in self.levels)

    def total(self, dim: str) -> int:
        out = 1
        for lv in self.levels:
            out *= lv.factor(dim)
        return out


def layer_from_dosa_problem(name: str, n: int, c: int, k: int, p: int, q: int, r: int, s: int,
                            stride: int = 1, dilation: int = 1) -> Layer:
    """A layer from DOSA problem fields. R=S=Q=1 is a matmul (I=P, K=C, J=K); a conv's
    input is the 'same'-padded one the FireSim harness used (in = out x stride)."""
    if r == s == q == 1 and n == 1:
        return MatmulLayer(name, i=p, j=k, k=c)
    return ConvLayer(name, batch=n, in_channels=c, out_channels=k, in_rows=q * stride,
                     in_cols=p * stride, kernel_rows=s, kernel_cols=r, stride=stride,
                     padding=(dilation * (s - 1)) // 2, dilation=dilation)


def from_dosa(layer: Layer, dm: DosaMapping, harness_quirk: bool = False) -> Mapping:
    """The Gemmini mapping a DOSA string describes. `harness_quirk` repeats the FireSim
    harness's double count of the L0 P and Q factors; tiles are clamped to the layer."""
    if len(dm.levels) < 2:
        raise MappingError(f"mapping {dm} needs a DRAM level and at least one inner level")
    dram, inner = dm.levels[0], dm.levels[1:]
    conv_letters = "NKCPQRS"
    sizes = layer.canonical()
    tiles: dict[str, int] = {}
    for d in conv_letters:
        t = 1
        for lv in inner:
            t *= lv.factor(d)
        if harness_quirk and d in "PQ":
            t *= inner[-1].factor(d)
        tiles[d] = min(t, sizes[d])
    order = []
    for lp in dram.loops:
        if lp.dim not in order:
            order.append(lp.dim)
    order = [d for d in "NQPKSRC" if d not in order] + order
    if isinstance(layer, MatmulLayer):
        for d in "NQRS":
            if sizes[d] != 1:
                raise MappingError(f"matmul {layer.name!r} cannot have a {d} loop")
        mm_tiles = {m: tiles[c] for c, m in _CONV_TO_MATMUL.items()}
        perm = "".join(_CONV_TO_MATMUL[d] for d in order if d in _CONV_TO_MATMUL)
        return Mapping.create({d: mm_tiles[d] for d in "IJK"}, perm, "WS")
    if layer.depthwise:
        raise MappingError("DOSA mapping strings do not describe depthwise convolutions")
    return Mapping.create({d: tiles[d] for d in layer.dim_names}, "".join(order), "WS")


def to_dosa(layer: Layer, mapping: Mapping, target: Target) -> DosaMapping:
    """The 4-level view of a Gemmini mapping: DRAM trip counts in DRAM order; K spatial
    on the array columns (L2); the tile's weight loops and C spatial at the accumulator
    (L1); output columns streaming past the stationary weights (L0). With a non-divisor
    tile the DRAM factor is the ceiling, so factors may multiply past the dim."""
    if isinstance(layer, ConvLayer) and layer.depthwise:
        raise MappingError("DOSA mapping strings do not describe depthwise convolutions")
    t = mapping.canonical_tiles(layer)
    sizes = layer.canonical()
    perm = [layer.to_canon(d) for d in mapping.perm]
    dram = tuple(Loop(d, -(-sizes[d] // t[d])) for d in perm if sizes[d] > t[d])
    kx, cx = min(t["K"], target.dim), min(t["C"], target.dim)
    l1 = [Loop("K", -(-t["K"] // kx)), Loop("S", t["S"]), Loop("R", t["R"]),
          Loop("C", -(-t["C"] // cx)), Loop("N", t["N"]), Loop("Q", t["Q"])]
    l1 = [lp for lp in l1 if lp.factor > 1] + [Loop("C", cx, True)]
    return DosaMapping((Level(3, "WIO", dram), Level(2, "WI", (Loop("K", kx, True),)),
                        Level(1, "O", tuple(l1)), Level(0, "W", (Loop("P", t["P"]),))))
