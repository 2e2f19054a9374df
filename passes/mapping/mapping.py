"""What a Gemmini mapping of one layer is, in the form Gemmini can execute.

Gemmini's C library runs a layer as a DRAM-level loop nest over tiles, each tile being one
`gemmini_loop_ws` (matmul) or `gemmini_loop_conv_ws` (conv). Inside a tile the hardware
loop FSM fixes the order (matmul: k, j, i; conv: och, krow, kcol, kch, b, orow, ocol) and
the array assignment (WS: reduction dim C on the DIM rows, output channels K on the DIM
columns). So the free choices are exactly:

* `tiles`: the scratchpad-level tile of every loop dim, in elements (matmul tiles are
  whole DIM blocks except at the edge of a dim; a tile need not divide its dim, the last
  tile is then smaller, as tiled_matmul/tiled_conv handle it);
* `perm`: the DRAM loop order over tiles, outermost first;
* `dataflow`: WS or OS (OS only for matmuls: the library's conv is WS-only);
* `double_buffer`: whether the tile is sized for two tiles in flight (loop_ws and
  loop_conv_ws always are; the software-unrolled OS matmul is not).

The accumulator- and register-level factors of the 4-level DOSA/Timeloop description
follow from these (see `dosa.py`). A Mapping is a plain value and converts to and from a
dict of IR attribute values (ints, strings, lists, bools), so IR passes can carry it.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import Any

from dlac.ir.target import Target

from .errors import MappingError
from .layer import CANON, ConvLayer, Layer

DATAFLOWS: tuple[str, ...] = ("WS", "OS")


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Mapping:
    """One mapping of one layer; `dims` names the entries of `tiles`."""

    dims: str
    tiles: tuple[int, ...]
    perm: str
    dataflow: str = "WS"
    double_buffer: bool = True

    def __post_init__(self) -> None:
        if len(self.tiles) != len(self.dims) or len(set(self.dims)) != len(self.dims):
            raise MappingError(f"mapping dims {self.dims!r} and tiles {list(self.tiles)} "
                               "do not match one to one")
        if sorted(self.perm) != sorted(self.dims):
            raise MappingError(f"DRAM loop order {self.perm!r} is not a permutation of "
                               f"the loop dims {self.dims!r}")
        if any(int(t) < 1 for t in self.tiles):
            raise MappingError(f"tile sizes must be >= 1, got {list(self.tiles)}")
        if self.dataflow not in DATAFLOWS:
            raise MappingError(f"dataflow must be one of {DATAFLOWS}, got {self.dataflow!r}")

    @classmethod
    def create(cls, tiles: MappingABC[str, int], perm: str, dataflow: str = "WS",
               double_buffer: bool | None = None) -> Mapping:
        """Build from a {dim: tile} dict; double buffering defaults to the dataflow's."""
        dims = "".join(tiles)
        if double_buffer is None:
            double_buffer = dataflow == "WS"
        return cls(dims, tuple(int(tiles[d]) for d in dims), perm, dataflow, double_buffer)

    @property
    def tile(self) -> dict[str, int]:
        return dict(zip(self.dims, self.tiles, strict=True))

    def check_layer(self, layer: Layer) -> None:
        """Structural agreement with the layer (not capacity: see MappingSpace)."""
        if sorted(self.dims) != sorted(layer.dim_names):
            raise MappingError(f"mapping dims {self.dims!r} do not match layer "
                               f"{layer.name!r} dims {layer.dim_names!r}")
        sizes = layer.dims
        for d, t in self.tile.items():
            if t > sizes[d]:
                raise MappingError(f"layer {layer.name!r}: tile {d}={t} exceeds the dim "
                                   f"size {sizes[d]}")

    def canonical_tiles(self, layer: Layer) -> dict[str, int]:
        """Tiles in the analytical model's 8 canonical slots (absent dims are size 1)."""
        out = dict.fromkeys(CANON, 1)
        for d, t in self.tile.items():
            out[layer.to_canon(d)] = t
        return out

    def trips(self, layer: Layer) -> dict[str, int]:
        """DRAM-level trip count of every dim (the last tile may be partial)."""
        sizes = layer.dims
        return {d: _cdiv(sizes[d], t) for d, t in self.tile.items()}

    def canonical_form(self, layer: Layer) -> Mapping:
        """The same mapping with loops of trip count 1 moved outermost in the layer's
        default order: their position changes nothing, so the space counts one of them."""
        trips = self.trips(layer)
        idle = [d for d in layer.default_perm if trips[d] == 1]
        active = [d for d in self.perm if trips[d] > 1]
        return Mapping(self.dims, self.tiles, "".join(idle + active), self.dataflow,
                       self.double_buffer)

    def spatial(self, layer: Layer, target: Target) -> dict[str, tuple[str, int]]:
        """Array assignment: which dim sits on the DIM rows and columns, and how much of
        it. WS and OS put the same dims there (C/K rows, K/J columns); a depthwise conv
        has one input channel per output channel, so only its columns are used."""
        t = self.tile
        if isinstance(layer, ConvLayer):
            if layer.depthwise:
                return {"rows": ("C", 1), "cols": ("G", min(t["G"], target.dim))}
            return {"rows": ("C", min(t["C"], target.dim)),
                    "cols": ("K", min(t["K"], target.dim))}
        return {"rows": ("K", min(t["K"], target.dim)), "cols": ("J", min(t["J"], target.dim))}

    def gemmini_args(self, layer: Layer, target: Target) -> dict[str, int]:
        """The tile arguments of tiled_matmul (DIM blocks) or tiled_conv (elements).
        For a depthwise conv, pochs and kchs both carry the channel tile."""
        t = self.tile
        if isinstance(layer, ConvLayer):
            ch = t["G"] if layer.depthwise else None
            return {"batches": t["N"], "porows": t["Q"], "pocols": t["P"],
                    "pochs": ch if ch is not None else t["K"], "krows": t["S"],
                    "kcols": t["R"], "kchs": ch if ch is not None else t["C"]}
        return {"tile_I": _cdiv(t["I"], target.dim), "tile_J": _cdiv(t["J"], target.dim),
                "tile_K": _cdiv(t["K"], target.dim)}

    def to_attrs(self) -> dict[str, Any]:
        """Plain IR attribute values (str, list[int], bool)."""
        return {"dims": self.dims, "tiles": [int(t) for t in self.tiles], "perm": self.perm,
                "dataflow": self.dataflow, "double_buffer": bool(self.double_buffer)}

    @classmethod
    def from_attrs(cls, attrs: MappingABC[str, Any]) -> Mapping:
        missing = sorted({"dims", "tiles", "perm", "dataflow", "double_buffer"} - set(attrs))
        if missing:
            raise MappingError(f"mapping attributes lack {', '.join(missing)}")
        return cls(str(attrs["dims"]), tuple(int(t) for t in attrs["tiles"]),
                   str(attrs["perm"]), str(attrs["dataflow"]), bool(attrs["double_buffer"]))

    def __str__(self) -> str:
        tiles = " ".join(f"{d}{t}" for d, t in self.tile.items())
        db = "db" if self.double_buffer else "sb"
        return f"{self.dataflow}/{db} tiles[{tiles}] dram[{self.perm}]"
