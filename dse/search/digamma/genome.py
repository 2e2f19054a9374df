"""DiGamma's genome: one Gemmini and the mapping of every unique layer, as arrays.

A population of P individuals over L layers is a struct of arrays (the form the
operators and the vectorised model want):

* HW genes: `dim[p]` (index into the space's array dims) and `df[p]` (index into its
  dataflows); the DMA bus is always the space's widest (`HwGrid.widest_bus`) and the
  buffers are not genes: `buffers.py` sizes them to what the mapping needs.
* Mapping genes per layer (the paper's L1/L2 key-value genes, in Gemmini's terms):
  `tiles[p, l, s]` the tile of canonical slot s in elements, `rank[p, l, s]` the DRAM
  loop position of slot s (0 outermost: the loop order), `os[p, l]` the layer's
  dataflow option (output-stationary where the design has OS; the parallelism gene).
* `design[p]`: the grid row the buffer allocation chose (-1 before allocation).

`legal_tiles` / `legal_order` / `legal_dataflow` are the repairs every operator ends
with: tiles clamped to their dim and rounded to whole DIM blocks (a block dim's last
block may be partial), reduction loops kept inside output loops (the accumulator keeps
partial sums only across consecutive tile calls), convolutions weight-stationary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from dlac.passes.mapping import ConvLayer, Layer, Mapping, MappingBatch
from dlac.passes.mapping.layer import BLOCK_DIMS_CANON, CANON
from dlac.passes.mapping.space import REDUCTION

RED = np.array([s in REDUCTION for s in CANON])
"""Reduction slots (C, R, S): kept innermost in every loop order."""


@dataclass(frozen=True)
class Problem:
    """What a genome is over: the unique layers, the space's dims and dataflows."""

    layers: tuple[Layer, ...]
    hashes: tuple[str, ...]
    dims: np.ndarray
    dataflows: tuple[str, ...]

    @classmethod
    def of(cls, unique: dict[str, Layer], dims: tuple[int, ...],
           dataflows: tuple[str, ...]) -> Problem:
        return cls(tuple(unique.values()), tuple(unique), np.array(dims, dtype=np.int64),
                   tuple(dataflows))

    def __len__(self) -> int:
        return len(self.layers)

    @cached_property
    def sizes(self) -> np.ndarray:
        """(L, 8) dim sizes per canonical slot (absent slots are 1)."""
        return np.array([[lay.canonical()[s] for s in CANON] for lay in self.layers],
                        dtype=np.int64)

    @cached_property
    def block(self) -> np.ndarray:
        """(L, 8) slots whose tiles move in DIM blocks (channels; every matmul dim)."""
        return np.array([[s in BLOCK_DIMS_CANON or not isinstance(lay, ConvLayer)
                          for s in CANON] for lay in self.layers])

    @cached_property
    def conv(self) -> np.ndarray:
        return np.array([isinstance(lay, ConvLayer) for lay in self.layers])


@dataclass(frozen=True)
class Population:
    """P genomes (see the module docstring for the arrays)."""

    dim: np.ndarray
    df: np.ndarray
    tiles: np.ndarray
    rank: np.ndarray
    os: np.ndarray
    design: np.ndarray

    def __len__(self) -> int:
        return len(self.dim)

    def take(self, index: np.ndarray) -> Population:
        index = np.asarray(index, dtype=np.int64)
        return Population(self.dim[index], self.df[index], self.tiles[index],
                          self.rank[index], self.os[index], self.design[index])

    @classmethod
    def concat(cls, parts: list[Population]) -> Population:
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("dim", "df", "tiles", "rank", "os", "design")))

    def batch(self, layer: int, members: np.ndarray) -> MappingBatch:
        """Layer `layer`'s mappings of `members` as the analytical model's batch."""
        return MappingBatch(self.tiles[members, layer].T.copy(),
                            self.rank[members, layer].T.copy(), self.os[members, layer].copy(),
                            ~self.os[members, layer])

    def mapping(self, problem: Problem, p: int, layer: int) -> Mapping:
        """Individual p's mapping of a layer, idle loops outermost (canonical form)."""
        lay = problem.layers[layer]
        return self.batch(layer, np.array([p])).mapping(lay, 0).canonical_form(lay)


def min_tiles(problem: Problem, dim: np.ndarray) -> np.ndarray:
    """(P, L, 8) smallest legal tiles: one DIM block of a block dim, 1 otherwise."""
    d = problem.dims[dim][:, None, None]
    return np.where(problem.block[None], np.minimum(d, problem.sizes[None]), 1)


def legal_tiles(problem: Problem, pop: Population) -> Population:
    """Tiles within [smallest, dim size], block dims in whole DIM blocks (nearest) or
    the whole dim."""
    sizes = problem.sizes[None]
    d = problem.dims[pop.dim][:, None, None]
    t = np.clip(pop.tiles, 1, sizes)
    blocks = np.maximum(1, np.rint(t / d).astype(np.int64))
    whole = np.where(t >= sizes, sizes, np.minimum(blocks * d, sizes))
    t = np.where(problem.block[None], whole, t)
    return replace(pop, tiles=t)


def legal_order(pop: Population) -> Population:
    """Loop orders as permutations with every reduction slot inside every output slot,
    keeping the relative order within each group."""
    order = np.argsort(pop.rank + len(CANON) * RED, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(len(CANON)), axis=-1)
    return replace(pop, rank=rank)


def legal_dataflow(problem: Problem, pop: Population) -> Population:
    """Per-layer options the design offers: WS-only designs run everything WS, OS-only
    ones OS, BOTH keeps the gene; convolutions are always WS (the library has no OS
    convolution)."""
    name = np.array(problem.dataflows)[pop.df][:, None]
    os = np.where(name == "WS", False, np.where(name == "OS", True, pop.os))
    return replace(pop, os=os & ~problem.conv[None])


def random_population(problem: Problem, combos: np.ndarray, n: int,
                      rng: np.random.Generator) -> Population:
    """n genomes: a random allowed (dim, dataflow) pair, tiles log-uniform in each dim,
    random loop orders and dataflow options (not yet legal: see `legalize`)."""
    pick = combos[rng.integers(len(combos), size=n)]
    sizes = problem.sizes[None].astype(np.float64)
    tiles = np.exp(rng.random((n, len(problem), len(CANON))) * np.log(sizes + 1)).astype(
        np.int64)
    rank = np.argsort(rng.random((n, len(problem), len(CANON))), axis=-1)
    os = rng.random((n, len(problem))) < 0.5
    return Population(pick[:, 0].copy(), pick[:, 1].copy(), tiles, rank, os,
                      np.full(n, -1, dtype=np.int64))
