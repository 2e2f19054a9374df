"""`digamma`: DiGamma's joint HW + mapping genetic algorithm in the co-design driver.

Budget. One driver evaluation is one sampled genome (a Gemmini plus every unique
layer's mapping: the paper's "sample"), so `--budget N` is the paper's sampling
budget. Generation 0 samples `population` random genomes; every later generation keeps
its elites (already evaluated, not re-sampled) and samples `population - elites`
children, so N samples run 1 + ceil((N - population) / (population - elites))
generations, the last one cut short; the `generations` option caps that (0: no cap).
A budget below one population is rejected (nothing could be selected).

Driver protocol. A generation is one ask batch (its genomes' designs, as HW points);
`evaluate_target` scores the whole batch with the vectorised model on its first call
and hands out one genome's per-layer mappings per call, with its (generation, child)
as the state stored with the trial; `restore` marks a stored child done on resume, and
the tells (the driver's objective of each genome: EDP, latency or energy summed in log
over models) are the GA's fitness, so a resumed run replays exactly. The layers' picks
are the genome's own mappings (direct lowering), which the driver re-times and emits.

Generation 0 holds Gemmini's heuristic tiling on default Gemmini and on each allowed
array size and dataflow
(`warm.py`; `warm_start=false` for the paper's all-random start), the rest random.
Selection: elites (the best `elite_ratio` of the population) survive; parents are drawn
uniformly from the better half; a child is a per-group crossover (probability
`crossover_rate`) or a copy of its first parent, then mutate-HW (`hw_mutation_rate` per
child), mutate-map, grow/aging and reorder (`mutation_rate` per layer each).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...errors import DseError
from ...registry import SEARCHERS
from ..base import HW_CONFIG, SearchConfig, Searcher
from .buffers import BufferTable, legalize
from .fitness import Scorer, Scores
from .genome import Population, Problem, random_population
from .operators import crossover, grow_age, mutate_hw, mutate_map, reorder
from .warm import heuristic_population


@SEARCHERS.register("digamma")
class DiGamma(Searcher):
    """DiGamma over the hardware space and every layer's mapping space jointly."""

    name = "digamma"

    def __init__(self, domain: Any, seed: int, config: SearchConfig = HW_CONFIG, *,
                 population: int = 20, elite_ratio: float = 0.1, generations: int = 0,
                 crossover_rate: float = 0.9, mutation_rate: float = 0.1,
                 hw_mutation_rate: float = 0.2, warm_start: bool = True) -> None:
        super().__init__(domain, seed, config)
        if population < 2:
            raise DseError(f"digamma: population must be >= 2, got {population}")
        if not 0 <= elite_ratio < 1:
            raise DseError(f"digamma: elite_ratio must be in [0, 1), got {elite_ratio}")
        if generations < 0:
            raise DseError(f"digamma: generations must be >= 0 (0: as the budget allows), "
                           f"got {generations}")
        for key, rate in (("crossover_rate", crossover_rate), ("mutation_rate", mutation_rate),
                          ("hw_mutation_rate", hw_mutation_rate)):
            if not 0 <= rate <= 1:
                raise DseError(f"digamma: {key} must be in [0, 1], got {rate}")
        self.population = population
        self.elites = min(population - 1, round(elite_ratio * population))
        self.generations = generations
        self.crossover_rate = crossover_rate
        self.mutation_rate = mutation_rate
        self.hw_mutation_rate = hw_mutation_rate
        self.warm_start = warm_start
        self.generation = 0
        self._table: BufferTable | None = None
        self._scorer: Scorer | None = None
        self._pop: Population | None = None
        self._fit = np.empty(0)
        self._kids: Population | None = None
        self._kid_fit = np.empty(0)
        self._done = np.empty(0, dtype=bool)
        self._restored = np.empty(0, dtype=bool)
        self._scores: Scores | None = None
        self._told = 0

    # ----------------------------------------------------------------- driver hooks
    def prepare(self, nested: Any, budget: Any) -> None:
        """The layers and evaluator of the problem; rejects a budget below one population
        and an evaluator that cannot score whole batches."""
        if not nested.evaluator.vectorised:
            raise DseError(f"digamma scores whole populations and needs a vectorised "
                           f"evaluator (--evaluator analytical), not {nested.evaluator.name!r}")
        if budget.evaluations is not None and budget.evaluations < self.population:
            raise DseError(f"digamma: budget of {budget.evaluations} evaluations is smaller "
                           f"than one population ({self.population}); raise --budget or "
                           f"lower --searcher-option population=")
        space = self.domain.grid.space
        problem = Problem.of(nested.unique, space.dims, space.dataflows)
        self._table = BufferTable(self.domain, problem)
        self._scorer = Scorer(problem, self.domain.grid, nested.evaluator)

    def evaluate_target(self, target: Any, layers: Any, executor: Any) -> tuple[Any, Any]:
        """The next unevaluated child's per-layer mappings (the batch is scored on the
        first call), and its (generation, child) state."""
        kids, scorer = self._kids, self._scorer
        assert kids is not None and scorer is not None, "evaluate_target before ask_batch"
        if self._scores is None:
            self._scores = scorer.score(kids, np.flatnonzero(~self._restored))
        i = int(np.flatnonzero(~self._done)[0])
        self._done[i] = True
        assert scorer.target(int(kids.design[i])) == target
        return (self._scores.picks(scorer.problem, kids, i),
                {"generation": self.generation, "child": i})

    def restore(self, x: np.ndarray, state: dict[str, Any] | None) -> None:
        """A stored child of the current generation: done, its fitness comes by tell."""
        if not state or state.get("generation") != self.generation:
            raise DseError("digamma: a stored trial does not belong to the replayed "
                           "generation; rerun without --resume")
        i = int(state["child"])
        self._done[i] = self._restored[i] = True

    # ----------------------------------------------------------------- ask / tell
    def ask(self) -> np.ndarray | None:
        xs = self.ask_batch(1)
        return xs[0] if xs else None

    def ask_batch(self, n: int) -> list[np.ndarray]:
        """The next generation's children (at most `n`), as their designs' HW points."""
        if self._table is None or self._scorer is None:
            raise DseError("digamma runs inside the co-design driver (prepare was not called)")
        if n < 1 or (self.generations and self.generation >= self.generations):
            return []
        if self._pop is None:
            kids = self._first_generation()
        else:
            kids = self._breed(self.population - self.elites)
        kids = kids.take(np.arange(min(len(kids), n)))
        self._kids = kids
        self._kid_fit = np.full(len(kids), np.inf)
        self._done = np.zeros(len(kids), dtype=bool)
        self._restored = np.zeros(len(kids), dtype=bool)
        self._scores = None
        self._told = 0
        scorer = self._scorer
        return [self.domain.encode_target(scorer.target(int(d))) for d in kids.design]

    def tell(self, x: np.ndarray, y: float) -> None:
        super().tell(x, y)
        assert self._kids is not None, "tell before ask_batch"
        self._kid_fit[self._told] = y
        self._told += 1
        if self._told == len(self._kids):
            self._next_generation()

    # ----------------------------------------------------------------- the GA
    def _next_generation(self) -> None:
        kids, fit = self._kids, self._kid_fit
        assert kids is not None
        if self._pop is not None and self.elites:
            keep = self._ranked()[:self.elites]
            kids = Population.concat([self._pop.take(keep), kids])
            fit = np.concatenate([self._fit[keep], fit])
        self._pop, self._fit = kids, fit
        self._kids = None
        self.generation += 1

    def _first_generation(self) -> Population:
        table, scorer = self._table, self._scorer
        assert table is not None and scorer is not None
        space = self.domain.grid.space
        x = self.domain.encode_target(space.base.replace(dma_bus_bits=max(space.bus_bits)))
        default = None if x is None else self.domain.index(x)
        warm = heuristic_population(table, scorer, self.population // 2 if self.warm_start
                                    else 0, default)
        rand = random_population(table.problem, table.combos, self.population - len(warm),
                                 self.rng)
        return legalize(table, Population.concat([warm, rand]))

    def _ranked(self) -> np.ndarray:
        return np.argsort(self._fit, kind="stable")

    def _breed(self, m: int) -> Population:
        table, pop = self._table, self._pop
        assert table is not None and pop is not None
        parents = self._ranked()[:max(2, math.ceil(len(pop) / 2))]
        a = pop.take(parents[self.rng.integers(len(parents), size=m)])
        b = pop.take(parents[self.rng.integers(len(parents), size=m)])
        crossed = crossover(table, a, b, self.rng)
        use = self.rng.random(m) < self.crossover_rate
        kids = Population.concat([crossed, a]).take(np.where(use, np.arange(m),
                                                             m + np.arange(m)))
        kids = mutate_hw(table, kids, self.hw_mutation_rate, self.rng)
        kids = mutate_map(table, kids, self.mutation_rate, self.rng)
        kids = grow_age(table, kids, self.mutation_rate, self.rng)
        return reorder(table, kids, self.mutation_rate, self.rng)
