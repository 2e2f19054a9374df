"""DiGamma's domain-aware operators (paper Fig. 4), each ending with the repair
(`buffers.legalize`), so every genome they return is a buildable design whose mappings
are legal.

* `crossover`: per gene group, not per gene: a child takes its HW genes, and each
  layer's tiles, loop order and dataflow option, each whole from one of two parents, so
  a layer's tiles stay a consistent tile (and its order a permutation).
* `reorder`: swaps two loops of a layer's DRAM order (within the output or the
  reduction group, which the repair keeps apart).
* `grow_age`: doubles or halves one tile of a layer (grow / aging), or steps the PE array
  one size up or down, so buffers and array move by neighbours.
* `mutate_map`: redraws a layer's tile of one dim (log-uniform in the dim) or flips its
  dataflow option (the parallelism gene); buffers follow through the allocation.
* `mutate_hw`: redraws the array size and the design's dataflow; the mapping's tiles are
  re-legalised to the new DIM and the buffers re-allocated.

`rate` is the probability per layer (per individual for the HW genes) that a mutation
touches it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from dlac.passes.mapping.layer import CANON

from .buffers import BufferTable, legalize
from .genome import Population


def crossover(table: BufferTable, a: Population, b: Population,
              rng: np.random.Generator) -> Population:
    """Children of parent pairs (a[i], b[i]), gene group by gene group."""
    n, lay = a.os.shape
    hw = rng.random(n) < 0.5
    tiles = rng.random((n, lay)) < 0.5
    order = rng.random((n, lay)) < 0.5
    flow = rng.random((n, lay)) < 0.5
    child = Population(np.where(hw, a.dim, b.dim), np.where(hw, a.df, b.df),
                       np.where(tiles[..., None], a.tiles, b.tiles),
                       np.where(order[..., None], a.rank, b.rank),
                       np.where(flow, a.os, b.os), np.full(n, -1, dtype=np.int64))
    return legalize(table, child)


def reorder(table: BufferTable, pop: Population, rate: float,
            rng: np.random.Generator) -> Population:
    """Swap two loop positions of the layers a mutation hits."""
    n, lay = pop.os.shape
    hit = rng.random((n, lay)) < rate
    i = rng.integers(len(CANON), size=(n, lay))
    j = rng.integers(len(CANON), size=(n, lay))
    rank = pop.rank.copy()
    pi, li = np.nonzero(hit)
    ri, rj = rank[pi, li, i[pi, li]], rank[pi, li, j[pi, li]]
    rank[pi, li, i[pi, li]], rank[pi, li, j[pi, li]] = rj, ri
    return legalize(table, replace(pop, rank=rank))


def grow_age(table: BufferTable, pop: Population, rate: float,
             rng: np.random.Generator) -> Population:
    """Double or halve one tile of each hit layer; step the array size of each hit
    individual one size up or down."""
    n, lay = pop.os.shape
    hit = rng.random((n, lay)) < rate
    slot = rng.integers(len(CANON), size=(n, lay))
    grow = rng.random((n, lay)) < 0.5
    tiles = pop.tiles.copy()
    pi, li = np.nonzero(hit)
    si = slot[pi, li]
    t = tiles[pi, li, si]
    tiles[pi, li, si] = np.where(grow[pi, li], t * 2, -(-t // 2))
    dims = len(table.problem.dims)
    step = np.where(rng.random(n) < 0.5, -1, 1) * (rng.random(n) < rate)
    dim = np.clip(pop.dim + step, 0, dims - 1)
    return legalize(table, replace(pop, dim=dim, tiles=tiles))


def mutate_map(table: BufferTable, pop: Population, rate: float,
               rng: np.random.Generator) -> Population:
    """Redraw one tile (log-uniform) or flip the dataflow option of each hit layer."""
    n, lay = pop.os.shape
    hit = rng.random((n, lay)) < rate
    flip = rng.random((n, lay)) < 0.25
    slot = rng.integers(len(CANON), size=(n, lay))
    u = rng.random((n, lay))
    tiles = pop.tiles.copy()
    pi, li = np.nonzero(hit & ~flip)
    si = slot[pi, li]
    size = table.problem.sizes[li, si].astype(np.float64)
    tiles[pi, li, si] = np.exp(u[pi, li] * np.log(size + 1)).astype(np.int64)
    os = np.where(hit & flip, ~pop.os, pop.os)
    return legalize(table, replace(pop, tiles=tiles, os=os))


def mutate_hw(table: BufferTable, pop: Population, rate: float,
              rng: np.random.Generator) -> Population:
    """Redraw the (array size, dataflow) pair of each hit individual."""
    n = len(pop)
    hit = rng.random(n) < rate
    pick = table.combos[rng.integers(len(table.combos), size=n)]
    return legalize(table, replace(pop, dim=np.where(hit, pick[:, 0], pop.dim),
                                   df=np.where(hit, pick[:, 1], pop.df)))
