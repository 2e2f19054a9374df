"""DiGamma's genome as a point of the unit box, so generic optimisers (nevergrad's CMA,
DE, PSO, ...) search the same encoding as DiGamma's GA, as in the paper's Figure 5.

Layout of a vector of `GenomeVector.size` = 2 + L x 17 floats in [0, 1]:
`[dim, dataflow]`, then per unique layer 8 tile genes, 8 order keys and one dataflow
option. Decoding: the array size and dataflow are the index floor(v x count) (a pair the
area budget rules out becomes the nearest allowed one, `legalize`); a tile is
exp(v log(size + 1)) rounded down, log-uniform over the dim as DiGamma's random genomes
are; the loop order is the rank of the keys (smallest outermost: random keys); the option
is output-stationary when v > 0.5. Then the same repair DiGamma's operators end with
(`legalize`: legal tiles and orders, buffers sized to the mapping, tiles shrunk until a
design holds them), so a uniform vector is a random DiGamma genome and every decoded
vector is a buildable design with legal mappings."""

from __future__ import annotations

import numpy as np
from dlac.passes.mapping.layer import CANON

from .buffers import BufferTable, legalize
from .genome import Population

SLOTS = len(CANON)
PER_LAYER = 2 * SLOTS + 1


class GenomeVector:
    """Decodes rows of [0, 1]^size into legal DiGamma genomes of a problem."""

    def __init__(self, table: BufferTable) -> None:
        self.table = table
        self.layers = len(table.problem)
        self.size = 2 + self.layers * PER_LAYER

    def decode(self, v: np.ndarray) -> Population:
        """Legal genomes of rows `v` (n, size); values outside [0, 1] are clipped."""
        problem = self.table.problem
        v = np.clip(np.atleast_2d(np.asarray(v, dtype=np.float64)), 0.0, 1.0)
        if v.shape[1] != self.size:
            raise ValueError(f"a genome vector has {self.size} values, got {v.shape[1]}")
        n = len(v)
        dim = np.minimum((v[:, 0] * len(problem.dims)).astype(np.int64), len(problem.dims) - 1)
        nf = len(problem.dataflows)
        df = np.minimum((v[:, 1] * nf).astype(np.int64), nf - 1)
        genes = v[:, 2:].reshape(n, self.layers, PER_LAYER)
        sizes = problem.sizes[None].astype(np.float64)
        tiles = np.exp(genes[:, :, :SLOTS] * np.log(sizes + 1)).astype(np.int64)
        order = np.argsort(genes[:, :, SLOTS:2 * SLOTS], axis=-1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(SLOTS), axis=-1)
        os = genes[:, :, 2 * SLOTS] > 0.5
        return legalize(self.table, Population(dim, df, tiles, rank, os,
                                               np.full(n, -1, dtype=np.int64)))
