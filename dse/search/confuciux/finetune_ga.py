"""ConfuciuX's second stage: a genetic algorithm that fine-tunes the RL result.

The RL stage chooses among coarse levels (12 buffer sizes); the GA works on the full grid
(8 KiB steps) around the best designs found so far, which is where ConfuciuX puts its GA:
local refinement of a good assignment rather than a global search. A genome is one shared
design (DIM, scratchpad KiB, accumulator KiB, dataflow); children take each gene from one
of two elite parents (uniform crossover) and mutate each gene with probability `mutation`
(DIM one step up or down, a buffer scaled by 2^N(0, 1/2), a random dataflow); every child
is then moved to the nearest feasible grid point.
"""

from __future__ import annotations

import math

import numpy as np

from .env import GemminiEnv

Genome = tuple[int, float, float, str]


class FineTuneGA:
    """Generations of `population` children of the best `elite` fraction of the designs
    evaluated so far."""

    def __init__(self, env: GemminiEnv, rng: np.random.Generator, *, population: int,
                 elite: float, mutation: float) -> None:
        self.env = env
        self.rng = rng
        self.population = population
        self.parents = max(1, math.ceil(elite * population))
        self.mutation = mutation

    def generation(self, ranked: list[np.ndarray]) -> list[np.ndarray]:
        """Children (domain points) of the first parents of `ranked` (best first)."""
        elite = [self.env.genome(x) for x in ranked[: self.parents]]
        kids = []
        for _ in range(self.population):
            a = elite[int(self.rng.integers(len(elite)))]
            b = elite[int(self.rng.integers(len(elite)))]
            child = tuple(ga if self.rng.random() < 0.5 else gb
                          for ga, gb in zip(a, b, strict=True))
            kids.append(self.env.nearest(*self._mutate(child)))
        return kids

    def _mutate(self, genome: Genome) -> Genome:
        dim, sp, acc, dataflow = genome
        dims = list(self.env.dims)
        if self.rng.random() < self.mutation:
            i = dims.index(dim) + (1 if self.rng.random() < 0.5 else -1)
            dim = dims[min(max(i, 0), len(dims) - 1)]
        if self.rng.random() < self.mutation:
            sp = sp * 2.0 ** self.rng.normal(0.0, 0.5)
        if self.rng.random() < self.mutation:
            acc = acc * 2.0 ** self.rng.normal(0.0, 0.5)
        if self.rng.random() < self.mutation:
            dataflow = self.env.dataflows[int(self.rng.integers(len(self.env.dataflows)))]
        return int(dim), float(sp), float(acc), str(dataflow)
