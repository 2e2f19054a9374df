"""Warm start: Gemmini's own tiling (tiled_matmul_auto / tiled_conv_auto) as genomes of
generation 0: on default Gemmini when the space holds it, then one per allowed (DIM,
dataflow) pair on that pair's largest design within the area budget, up to half the
population. The buffers are then re-allocated to what
those tiles need, and the rest of the population stays random, so the GA starts at
least where Gemmini's default heuristic is on each array size and still explores."""

from __future__ import annotations

import numpy as np
from dlac.passes.mapping import MappingBatch, MappingError, heuristic_mapping
from dlac.passes.mapping.layer import CANON

from .buffers import BufferTable
from .fitness import Scorer
from .genome import Population


def heuristic_population(table: BufferTable, scorer: Scorer, limit: int,
                         default_row: int | None = None) -> Population:
    """Up to `limit` genomes of Gemmini's heuristic mappings (not yet legalised), the
    first on grid row `default_row` (default Gemmini) if given."""
    problem = table.problem
    grid = table.grid
    designs = [] if default_row is None else [default_row]
    designs += [table.largest(int(di), int(fi)) for di, fi in table.combos]
    allowed = {(int(a), int(b)) for a, b in table.combos}
    rows: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]] = []
    for design in designs[:max(0, limit)]:
        di, fi = int(grid.rows[design, 0]), int(grid.rows[design, 5])
        if (di, fi) not in allowed:
            continue
        target = scorer.target(design)
        try:
            maps = [heuristic_mapping(layer, target) for layer in problem.layers]
        except MappingError:
            continue
        tiles = np.empty((len(problem), len(CANON)), dtype=np.int64)
        rank = np.empty_like(tiles)
        for li, (layer, m) in enumerate(zip(problem.layers, maps, strict=True)):
            batch = MappingBatch.from_mappings(layer, [m])
            tiles[li], rank[li] = batch.tiles[:, 0], batch.rank[:, 0]
        os = np.array([m.dataflow == "OS" for m in maps])
        rows.append((di, fi, tiles, rank, os))
    n = len(rows)
    return Population(np.array([r[0] for r in rows], dtype=np.int64),
                      np.array([r[1] for r in rows], dtype=np.int64),
                      np.array([r[2] for r in rows]).reshape(n, len(problem), len(CANON)),
                      np.array([r[3] for r in rows]).reshape(n, len(problem), len(CANON)),
                      np.array([r[4] for r in rows], dtype=bool).reshape(n, len(problem)),
                      np.full(n, -1, dtype=np.int64))
