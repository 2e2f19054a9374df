"""nevergrad's optimisers on DiGamma's footing (`--searcher-option footing=joint`): the
optimiser searches DiGamma's joint genome (the hardware plus every unique layer's
mapping, `digamma.vector`) instead of the hardware alone, as the baselines of DiGamma's
Figure 5 do.

One driver evaluation is one sampled genome, the unit of DiGamma's budget, so at equal
`--budget` CMA and DiGamma sample equally many genomes. Each ask decodes the optimiser's
candidate with DiGamma's encoding and repair (buffers sized to the mapping, so every
sample is a legal design within the area budget); `evaluate_target` scores it with the
vectorised model, as DiGamma's fitness does, and the layers' picks are the genome's own
mappings (no nested search). A repeated genome is scored and counted again, as DiGamma
counts its samples. Infeasible genomes (a layer the evaluator cannot run) get a finite
penalty. Deterministic: the parametrization is seeded and every internal ask/tell
follows from the driver's tells, so replaying the stored tells (resume) reproduces the
asks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DseError
from .base import HW_CONFIG, Domain, SearchConfig, Searcher
from .digamma.buffers import BufferTable
from .digamma.fitness import Scorer
from .digamma.genome import Population, Problem
from .digamma.vector import GenomeVector
from .nevergrad_lib import make_optimizer, penalised, quiet


class JointNevergrad(Searcher):
    """A nevergrad optimiser over DiGamma's genome vector."""

    def __init__(self, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG, *,
                 name: str, optimizer: str) -> None:
        super().__init__(domain, seed, config)
        self.name = name
        self.optimizer = optimizer
        self._budget: int | None = None
        self._codec: GenomeVector | None = None
        self._scorer: Scorer | None = None
        self._opt: Any = None
        self._pending: tuple[Any, Population] | None = None
        self._finite: list[float] = []

    def prepare(self, nested: Any, budget: Any) -> None:
        """The layers and evaluator; the budget (genome samples) for optimisers that plan
        with it (Portfolio)."""
        if not nested.evaluator.vectorised:
            raise DseError(f"{self.name} footing=joint scores genomes with a vectorised "
                           f"evaluator (--evaluator analytical), not {nested.evaluator.name!r}")
        space = self.domain.grid.space  # type: ignore[attr-defined]
        problem = Problem.of(nested.unique, space.dims, space.dataflows)
        table = BufferTable(self.domain, problem)  # type: ignore[arg-type]
        self._codec = GenomeVector(table)
        self._scorer = Scorer(problem, self.domain.grid, nested.evaluator)  # type: ignore[attr-defined]
        self._budget = budget.evaluations

    def _optimizer(self) -> Any:
        if self._opt is None:
            assert self._codec is not None
            self._opt = make_optimizer(self.optimizer, self._codec.size, self.seed,
                                       self._budget)
        return self._opt

    def ask(self) -> np.ndarray | None:
        xs = self.ask_batch(1)
        return xs[0] if xs else None

    def ask_batch(self, n: int) -> list[np.ndarray]:
        """One sampled genome, as its design's HW point."""
        if self._codec is None or self._scorer is None:
            raise DseError(f"{self.name} footing=joint runs inside the co-design driver "
                           "(prepare was not called)")
        if n < 1:
            return []
        with quiet():
            cand = self._optimizer().ask()
        pop = self._codec.decode(np.asarray(cand.value, dtype=np.float64))
        self._pending = (cand, pop)
        target = self._scorer.target(int(pop.design[0]))
        return [self.domain.encode_target(target)]  # type: ignore[attr-defined]

    def evaluate_target(self, target: Any, layers: Any, executor: Any) -> tuple[Any, Any]:
        """The pending genome's per-layer mappings, scored by the vectorised model."""
        assert self._pending is not None and self._scorer is not None, \
            "evaluate_target before ask_batch"
        pop = self._pending[1]
        scorer = self._scorer
        assert scorer.target(int(pop.design[0])) == target
        return scorer.score(pop, np.array([0])).picks(scorer.problem, pop, 0), None

    def tell(self, x: np.ndarray, y: float) -> None:
        super().tell(x, y)
        assert self._pending is not None, "tell before ask_batch"
        cand = self._pending[0]
        self._pending = None
        with quiet():
            self._optimizer().tell(cand, penalised(float(y), self._finite))
        if np.isfinite(y):
            self._finite.append(float(y))
